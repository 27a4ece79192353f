"""Balanced truncation, the truncation warning and overlapping windows for long documents."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from transformers import AutoTokenizer

from rerank_core import CrossEncoderScorer
from rerank_core.engine.chunking import ChunkPlan
from rerank_core.engine.encoding import PairEncoder

FILLER = "the river city music " * 400  # about 1,600 tokens
QUERY = "what is the cancer risk of zebrafish"


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir).backend_tokenizer


@pytest.fixture(scope="module")
def encoder(tokenizer):
    return PairEncoder(tokenizer, max_length=64)


@pytest.fixture(scope="module")
def query_tokens(tokenizer):
    return len(tokenizer.encode(QUERY, add_special_tokens=False))


def _query_and_text_ids(encoding):
    query = [i for i, s in zip(encoding.ids, encoding.sequence_ids) if s == 0]
    text = [i for i, s in zip(encoding.ids, encoding.sequence_ids) if s == 1]
    return query, text


def test_long_document_never_pushes_the_query_out(encoder, query_tokens):
    pairs = encoder.encode(QUERY, [FILLER], None)
    (encoding,) = pairs.encodings
    query_ids, text_ids = _query_and_text_ids(encoding)
    assert len(encoding) == 64 and pairs.truncated == 1
    assert len(query_ids) == query_tokens  # the final key word "zebrafish" is kept
    assert len(text_ids) == 64 - 3 - len(query_ids)


def test_query_is_cut_only_beyond_half_the_window(encoder):
    long_query = "zebrafish cancer risk gene protein " * 20  # 100 tokens, more than half of 61
    (encoding,) = encoder.encode(long_query, [FILLER], None).encodings
    query_ids, text_ids = _query_and_text_ids(encoding)
    assert len(query_ids) == 61 // 2 and len(text_ids) == 61 - 61 // 2
    (short_text,) = encoder.encode(long_query[:150], ["fish"], None).encodings
    assert _query_and_text_ids(short_text)[1] != []


def test_pairs_that_fit_are_left_alone(encoder):
    pairs = encoder.encode(QUERY, ["cancer risk", ""], None)
    assert pairs.truncated == 0 and pairs.owners == [0, 1]


def test_max_chunk_covers_the_whole_document_with_overlap(encoder, query_tokens):
    text = " ".join(f"{w}" for w in ["gene", "protein", "cell", "fish"] * 100)  # 400 tokens
    pairs = encoder.encode(QUERY, ["short text", text], ChunkPlan())
    windows = [e for e, owner in zip(pairs.encodings, pairs.owners) if owner == 1]
    room = 64 - 3 - query_tokens
    assert len(windows) > 400 // room
    covered = sum(len(_query_and_text_ids(w)[1]) for w in windows) - (len(windows) - 1) * (room // 4)
    assert covered == 400
    assert all(_query_and_text_ids(w)[0] == _query_and_text_ids(windows[0])[0] for w in windows)


def test_max_chunk_score_is_the_best_window(tiny_model_dir):
    text = "red blue " * 60 + "zebrafish cancer risk " * 5 + "music " * 80
    chunked = CrossEncoderScorer(tiny_model_dir, max_length=64, long_documents="max_chunk")
    truncating = CrossEncoderScorer(tiny_model_dir, max_length=64)
    backend, encoder = chunked._loaded_model()
    pairs = encoder.encode(QUERY, [text], ChunkPlan())
    window_texts = [backend.tokenizer.decode(_query_and_text_ids(e)[1]) for e in pairs.encodings]
    per_window = truncating.score(QUERY, window_texts)
    assert chunked.score(QUERY, [text])[0] == pytest.approx(float(per_window.max()), abs=1e-4)


def test_truncation_warns_once_with_the_count(tiny_model_dir, caplog):
    scorer = CrossEncoderScorer(tiny_model_dir, max_length=64)
    with caplog.at_level(logging.WARNING, logger="rerank_core"):
        scorer.score(QUERY, [FILLER, "short", FILLER])
        scorer.score(QUERY, [FILLER])
    warnings = [r for r in caplog.records if "truncated" in r.getMessage()]
    assert len(warnings) == 1
    assert "2 of 3" in warnings[0].getMessage() and "max_chunk" in warnings[0].getMessage()


def test_huge_text_is_cut_before_tokenizing_with_the_same_result(tiny_model_dir):
    scorer = CrossEncoderScorer(tiny_model_dir, max_length=64)
    head = "zebrafish cancer risk gene " * 40
    huge = head + "music " * 200_000  # about 1.2 MB
    np.testing.assert_allclose(scorer.score(QUERY, [huge]), scorer.score(QUERY, [head]), atol=1e-6)
    spaced = "zebrafish" + " " * 100_000 + "cancer risk"  # few tokens spread over many characters
    spaced_scores = scorer.score(QUERY, [spaced])
    np.testing.assert_allclose(spaced_scores, scorer.score(QUERY, ["zebrafish cancer risk"]), atol=1e-6)
