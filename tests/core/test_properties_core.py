"""Property tests of the core on arbitrary input: a documented result or a typed error, never a crash.

Texts mix every Unicode category, lone surrogates included, with control characters, NUL, RTL marks,
emoji, blanks and duplicates. For every input, ``rank`` returns a permutation of a subset of the
window, scores sorted descending, ``min(top_n, window, survivors)`` long, and leaves its inputs as
they were; out-of-range arguments raise crossrank's typed errors.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rerank_core import CrossEncoderScorer, InvalidArgumentError, InvalidQueryError, RerankError

ANY_CHAR = st.characters(exclude_categories=())  # every category, surrogates (Cs) included
SPECIAL = st.sampled_from(["", " ", "\t\n", "\x00", "\u202eevil", "\ud800", "👍🏽", "a" * 3000, "\u200b"])
TEXTS = st.lists(st.one_of(st.text(ANY_CHAR, max_size=60), SPECIAL), max_size=12)
QUERIES = st.one_of(st.text(ANY_CHAR, min_size=1, max_size=40), SPECIAL)
TOP_N = st.one_of(st.none(), st.integers(-3, 20))
WINDOW = st.one_of(st.none(), st.integers(-3, 20))
MIN_SCORE = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 1))
PROFILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def scorer(tiny_model_dir):
    return CrossEncoderScorer(tiny_model_dir, precision="fp32", batch_size=8)


def _expected_error(query, top_n, window, min_score) -> type[RerankError] | None:
    if not query.strip():
        return InvalidQueryError
    if (top_n is not None and top_n < 0) or (window is not None and window < 1):
        return InvalidArgumentError
    if min_score is not None and not math.isfinite(min_score):
        return InvalidArgumentError
    return None


@PROFILE
@given(query=QUERIES, texts=TEXTS, top_n=TOP_N, window=WINDOW, min_score=MIN_SCORE)
def test_rank_holds_its_invariants_on_any_input(scorer, query, texts, top_n, window, min_score):
    before = copy.deepcopy(texts)
    error = _expected_error(query, top_n, window, min_score)
    if error is not None:
        with pytest.raises(error):
            scorer.rank(query, texts, top_n=top_n, rank_window_size=window, min_score=min_score)
        assert texts == before
        return
    ranked = scorer.rank(query, texts, top_n=top_n, rank_window_size=window, min_score=min_score)
    assert texts == before
    scored = texts if window is None else texts[:window]
    indices = [hit.index for hit in ranked]
    assert len(set(indices)) == len(indices) and all(0 <= i < len(scored) for i in indices)
    scores = [hit.score for hit in ranked]
    assert scores == sorted(scores, reverse=True) and all(math.isfinite(s) for s in scores)
    survivors = len(scored)
    if scored and top_n != 0:
        all_scores = scorer.score(query, scored)
        survivors = int(np.sum(all_scores.astype(np.float64) >= min_score)) if min_score is not None else len(scored)
    if min_score is not None:
        assert all(s >= min_score for s in scores)
    assert len(ranked) == min(len(scored) if top_n is None else top_n, survivors)


@PROFILE
@given(query=QUERIES.filter(str.strip), texts=TEXTS)
def test_scores_are_finite_float32_one_per_text_and_equal_for_duplicates(scorer, query, texts):
    scores = scorer.score(query, texts)
    assert scores.dtype == np.float32 and scores.shape == (len(texts),)
    assert np.isfinite(scores).all()
    first = {}
    for text, score in zip(texts, scores):
        first.setdefault(text, score)
        assert score == pytest.approx(first[text], abs=1e-5)


def test_lone_surrogates_are_scored_as_replacement_characters(scorer):
    broken = scorer.score("query \ud800", ["text \udfff here", "text \ufffd here"])
    assert np.isfinite(broken).all()
    replaced = scorer.score("query \ufffd\ufffd\ufffd", ["text \ufffd\ufffd\ufffd here"])
    assert broken[0] == pytest.approx(replaced[0], abs=1e-5)


def test_ten_thousand_documents_in_one_call(scorer):
    texts = [f"document {i} about zebrafish " * (i % 5) for i in range(10_000)]
    ranked = scorer.rank("zebrafish", texts, top_n=5)
    assert len(ranked) == 5 and len(scorer.score("zebrafish", texts)) == 10_000


def test_a_one_megabyte_text_is_cut_before_tokenizing(scorer):
    huge = "zebrafish cells " * 65_536  # 1 MiB
    scores = scorer.score("zebrafish", [huge, huge[:5000]])
    assert scores[0] == pytest.approx(scores[1], abs=1e-5)  # both keep the same first tokens
