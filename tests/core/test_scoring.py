"""Scoring mechanics on a tiny random BERT: order, batching, empty input, variants of checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from rerank_core import CrossEncoderScorer, InvalidArgumentError, InvalidQueryError, InvalidTextError

QUERY = "what is the cancer risk of zebrafish cells"
TEXTS = [
    "zebrafish cells show an increase in cancer risk",
    "red blue green",
    "the study of music and the river city " * 3,
    "one",
    "protein gene model data results " * 12,
    "",
    "patients with cancer risk",
]


def reference_logits(model_dir: str, query: str, texts: list[str]) -> np.ndarray:
    """Logits computed one pair at a time straight from transformers (no padding, no sorting)."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    rows = []
    with torch.inference_mode():
        for text in texts:
            features = tokenizer([query], [text], truncation="longest_first", max_length=128, return_tensors="pt")
            rows.append(model(**features).logits[0].float().numpy())
    return np.stack(rows)


@pytest.fixture(scope="module")
def scorer(tiny_model_dir):
    return CrossEncoderScorer(tiny_model_dir, batch_size=3, precision="fp32")


def test_scores_are_float32_in_input_order_and_match_transformers(scorer, tiny_model_dir):
    scores = scorer.score(QUERY, TEXTS)
    assert scores.dtype == np.float32 and scores.shape == (len(TEXTS),)
    expected = 1.0 / (1.0 + np.exp(-reference_logits(tiny_model_dir, QUERY, TEXTS)[:, 0]))
    np.testing.assert_allclose(scores, expected, atol=1e-5)


def test_length_sorted_batches_equal_unsorted_scoring(scorer):
    batched = scorer.score(QUERY, TEXTS, batch_size=4)
    one_by_one = np.array([scorer.score(QUERY, [text])[0] for text in TEXTS])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    reversed_scores = scorer.score(QUERY, TEXTS[::-1], batch_size=2)
    np.testing.assert_allclose(reversed_scores[::-1], batched, atol=1e-5)


def test_single_document(scorer):
    scores = scorer.score(QUERY, ["zebrafish"])
    assert scores.shape == (1,) and 0.0 < scores[0] < 1.0


def test_empty_texts_return_empty_without_loading(tiny_model_dir):
    fresh = CrossEncoderScorer(tiny_model_dir)
    assert fresh.score(QUERY, []).shape == (0,)
    assert fresh.rank(QUERY, []) == []
    assert not fresh.loaded


def test_missing_model_is_not_loaded_for_empty_input():
    scorer = CrossEncoderScorer("/definitely/not/a/model")
    assert scorer.rank("q", [], top_n=3) == []
    assert not scorer.loaded


def test_inputs_are_not_mutated(scorer):
    texts = list(TEXTS)
    snapshot = list(texts)
    scorer.rank(QUERY, texts, top_n=2)
    assert texts == snapshot


def test_ranked_scores_are_plain_floats_and_json_serialisable(scorer):
    hits = scorer.rank(QUERY, TEXTS, top_n=3)
    assert all(type(hit.score) is float and type(hit.index) is int for hit in hits)
    json.dumps([{"index": h.index, "score": h.score} for h in hits])


def test_activation_none_returns_logits(tiny_model_dir):
    raw = CrossEncoderScorer(tiny_model_dir, activation="none", precision="fp32").score(QUERY, TEXTS)
    np.testing.assert_allclose(raw, reference_logits(tiny_model_dir, QUERY, TEXTS)[:, 0], atol=1e-4)


def test_two_label_model_uses_softmax_of_positive_class(tiny_model_factory):
    model_dir = tiny_model_factory(num_labels=2)
    scores = CrossEncoderScorer(model_dir, precision="fp32").score(QUERY, TEXTS)
    logits = reference_logits(model_dir, QUERY, TEXTS)
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(scores, softmax[:, 1], atol=1e-5)
    margins = CrossEncoderScorer(model_dir, activation="none", precision="fp32").score(QUERY, TEXTS)
    np.testing.assert_allclose(margins, logits[:, 1] - logits[:, 0], atol=1e-4)


def test_tokenizer_without_pad_token_scores_batches(tiny_model_factory):
    model_dir = tiny_model_factory(pad_token=False)
    assert AutoTokenizer.from_pretrained(model_dir).pad_token is None
    scorer = CrossEncoderScorer(model_dir, batch_size=8, precision="fp32")
    batched = scorer.score(QUERY, TEXTS)
    one_by_one = np.array([scorer.score(QUERY, [text])[0] for text in TEXTS])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_outputs_are_upcast_to_float32(tiny_model_dir, dtype):
    half = CrossEncoderScorer(tiny_model_dir, model_kwargs={"dtype": dtype}).score(QUERY, TEXTS)
    full = CrossEncoderScorer(tiny_model_dir, precision="fp32").score(QUERY, TEXTS)
    assert half.dtype == np.float32
    np.testing.assert_allclose(half, full, atol=0.05)


def test_max_length_defaults_to_the_models_own_limit(tiny_model_dir, tiny_model_factory):
    assert CrossEncoderScorer(tiny_model_dir).load()._loaded_model()[1].max_length == 128
    unbounded = tiny_model_factory(max_length=int(1e30))
    assert CrossEncoderScorer(unbounded).load()._loaded_model()[1].max_length == 512
    assert CrossEncoderScorer(tiny_model_dir, max_length=64).load()._loaded_model()[1].max_length == 64


def test_progress_bar_is_shown_only_when_asked(scorer, capsys):
    scorer.score(QUERY, TEXTS)
    assert "Reranking" not in capsys.readouterr().err
    scorer.score(QUERY, TEXTS, show_progress=True)
    assert "Reranking" in capsys.readouterr().err


def test_long_calls_are_scored_in_chunks_with_the_same_scores(tiny_model_dir, monkeypatch):
    from rerank_core import scorer as scorer_module

    scorer = CrossEncoderScorer(tiny_model_dir, precision="fp32")
    whole = scorer.score(QUERY, TEXTS)
    monkeypatch.setattr(scorer_module, "TEXTS_PER_CHUNK", 3)
    seen: list[int] = []
    backend = scorer._loaded_model()[0]
    real = backend.forward
    monkeypatch.setattr(backend, "forward", lambda batch: seen.append(len(batch["input_ids"])) or real(batch))
    np.testing.assert_allclose(scorer.score(QUERY, TEXTS), whole, atol=1e-5)
    assert max(seen) <= 3 and sum(seen) == len(TEXTS)


def test_groups_share_batches_and_score_as_separate_calls(tiny_model_dir, monkeypatch):
    scorer = CrossEncoderScorer(tiny_model_dir, batch_size=8, precision="fp32", long_documents="max_chunk")
    groups = [(QUERY, TEXTS), ("another question", TEXTS[:3]), (QUERY, []), ("a third", ["x " * 400, "y"])]
    separate = [scorer.score(query, texts) for query, texts in groups]
    seen: list[int] = []
    backend = scorer._loaded_model()[0]
    real = backend.forward
    monkeypatch.setattr(backend, "forward", lambda batch: seen.append(len(batch["input_ids"])) or real(batch))
    together = scorer.score_groups(groups)
    assert len(together) == len(groups)
    for got, expected in zip(together, separate):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert len(seen) < sum(-(-len(t) // 8) for _, t in groups)  # fewer forward passes than one call per group


@pytest.mark.parametrize(
    ("groups", "error"),
    [
        ("a query", InvalidArgumentError),
        ([("q",)], InvalidArgumentError),
        ([("q", ["a"]), ("", ["b"])], InvalidQueryError),
        ([("q", ["a"]), ("q", ["b", 3])], InvalidTextError),
    ],
)
def test_groups_are_all_checked_before_scoring(tiny_model_dir, groups, error):
    scorer = CrossEncoderScorer(tiny_model_dir)
    with pytest.raises(error):
        scorer.score_groups(groups)
    assert not scorer.loaded
