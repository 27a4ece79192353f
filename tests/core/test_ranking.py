"""Rank semantics (window, threshold, top_n, ties) and argument validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rerank_core import CrossEncoderScorer, InvalidArgumentError, rank_texts, select

TEXTS = ["zebrafish cell", "red blue", "cancer risk", "music river", "one two", "gene protein"]
QUERY = "cancer risk in zebrafish"


@pytest.fixture(scope="module")
def scorer(tiny_model_dir):
    return CrossEncoderScorer(tiny_model_dir)


@pytest.fixture(scope="module")
def scores(scorer):
    return scorer.score(QUERY, TEXTS)


def test_rank_orders_by_score_best_first(scorer, scores):
    hits = scorer.rank(QUERY, TEXTS)
    assert [h.index for h in hits] == list(np.argsort(-scores, kind="stable"))
    assert [h.score for h in hits] == sorted((float(s) for s in scores), reverse=True)


def test_window_scores_only_the_first_inputs(scorer, scores):
    scored: list[list[str]] = []

    def recording(query, texts):
        scored.append(list(texts))
        return scorer.score(query, texts)

    hits = rank_texts(recording, QUERY, TEXTS, rank_window_size=3)
    assert scored == [TEXTS[:3]]
    assert sorted(h.index for h in hits) == [0, 1, 2]
    assert [h.index for h in hits] == [h.index for h in scorer.rank(QUERY, TEXTS[:3])]


def test_min_score_applies_to_activated_scores_before_top_n(scorer, scores):
    threshold = float(np.median(scores))
    hits = scorer.rank(QUERY, TEXTS, min_score=threshold)
    assert {h.index for h in hits} == {i for i, s in enumerate(scores) if s >= threshold}
    limited = scorer.rank(QUERY, TEXTS, min_score=threshold, top_n=1)
    assert limited == hits[:1]


def test_top_n_cuts_last_and_none_returns_all(scorer):
    assert len(scorer.rank(QUERY, TEXTS, top_n=None)) == len(TEXTS)
    assert len(scorer.rank(QUERY, TEXTS, top_n=2)) == 2
    assert len(scorer.rank(QUERY, TEXTS, top_n=100)) == len(TEXTS)
    assert scorer.rank(QUERY, TEXTS, top_n=0) == []
    combined = scorer.rank(QUERY, TEXTS, rank_window_size=4, min_score=0.0, top_n=2)
    assert combined == scorer.rank(QUERY, TEXTS[:4])[:2]


def test_ties_keep_input_order(scorer):
    texts = ["cancer risk", "red blue", "cancer risk", "cancer risk"]
    hits = scorer.rank(QUERY, texts)
    tied = [h.index for h in hits if h.score == hits[[h.index for h in hits].index(0)].score]
    assert tied == [0, 2, 3]


def test_select_is_stable_and_thresholded():
    hits = select(np.array([0.5, 0.9, 0.5, 0.1]), min_score=0.5)
    assert [(h.index, h.score) for h in hits] == [(1, 0.9), (0, 0.5), (2, 0.5)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"top_n": -1},
        {"top_n": 1.5},
        {"top_n": True},
        {"rank_window_size": 0},
        {"rank_window_size": -3},
        {"min_score": math.nan},
        {"min_score": math.inf},
        {"min_score": "0.5"},
    ],
)
def test_bad_rank_arguments_raise_before_loading(tiny_model_dir, kwargs):
    fresh = CrossEncoderScorer(tiny_model_dir)
    with pytest.raises(InvalidArgumentError):
        fresh.rank(QUERY, TEXTS, **kwargs)
    assert not fresh.loaded
