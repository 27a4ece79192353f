"""Chunked scoring of long texts: each strategy's chunks on texts with known sentences, the winning chunk's span,
the chunk cap, and the options that configure them."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_zoo import build_qwen3_causal_lm
from transformers import AutoTokenizer

from rerank_core import CrossEncoderScorer, InvalidArgumentError
from rerank_core.engine.chunking import CHUNKINGS, ChunkPlan
from rerank_core.engine.encoding import PairEncoder
from rerank_core.engine.unicode_text import valid_unicode

QUERY = "how does the zebrafish heart regenerate after injury"
SENTENCES = [
    "Zebrafish regenerate their heart after injury, as cardiomyocytes proliferate near the wound.",
    "Bananas are rich in potassium and grow in the tropics.",
    "The stock market fell sharply on Monday, e.g. in Tokyo and London.",
    "Rain is expected later this week across the north of the U.S. coast.",
    "Dr. Smith et al. measured 2.5 mm of growth per day in the samples.",
    "Violins have four strings tuned in fifths.",
]
RELEVANT = 0
"""The sentence of :data:`SENTENCES` that answers :data:`QUERY`."""


def _document(order: list[int]) -> tuple[str, list[tuple[int, int]]]:
    """The sentences in ``order``, joined by spaces, with each one's character span."""
    spans, parts, at = [], [], 0
    for index in order:
        parts.append(SENTENCES[index])
        spans.append((at, at + len(SENTENCES[index])))
        at += len(SENTENCES[index]) + 1
    return " ".join(parts), spans


LONG_ORDER = [1, 2, 3, 4, 5, 1, 2, 3, RELEVANT, 4, 5, 1, 2, 3]
"""A document far beyond a 64-token window, the relevant sentence in its second half."""


@pytest.fixture(scope="module")
def encoder(ce_model_path) -> PairEncoder:
    return PairEncoder(AutoTokenizer.from_pretrained(ce_model_path).backend_tokenizer, max_length=64)


def _text_ids(encoding) -> list[int]:
    return [i for i, s in zip(encoding.ids, encoding.sequence_ids) if s == 1]


def _query_ids(encoding) -> list[int]:
    return [i for i, s in zip(encoding.ids, encoding.sequence_ids) if s == 0]


def _word_bounded(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1].isspace()) and (end == len(text) or text[end].isspace())


def test_window_chunks_are_token_windows_that_overlap_by_the_overlap(encoder):
    text, _ = _document(LONG_ORDER)
    pairs = encoder.encode(QUERY, [text], ChunkPlan("window", size=24, overlap=6))
    windows = [_text_ids(e) for e in pairs.encodings]
    assert len(windows) > 3 and all(len(w) <= 24 for w in windows)
    assert all(a[-6:] == b[:6] for a, b in zip(windows, windows[1:]))
    assert pairs.spans[0][0] == 0 and pairs.spans[-1][1] == len(text)
    assert all(len(_query_ids(e)) == len(_query_ids(pairs.encodings[0])) > 0 for e in pairs.encodings)


def test_word_chunks_start_and_end_at_whole_words(encoder):
    text, _ = _document(LONG_ORDER)
    pairs = encoder.encode(QUERY, [text], ChunkPlan("word", size=24, overlap=6))
    assert len(pairs.encodings) > 3 and all(len(_text_ids(e)) <= 24 for e in pairs.encodings)
    assert all(_word_bounded(text, start, end) for start, end in pairs.spans)
    assert all(b[0] < a[1] for a, b in zip(pairs.spans, pairs.spans[1:]))  # consecutive chunks overlap
    assert pairs.spans[-1][1] == len(text)


@pytest.mark.parametrize("overlap", [0, 1, 2])
def test_sentence_chunks_are_whole_sentences_repeating_the_overlap(encoder, overlap):
    text, spans = _document(LONG_ORDER)
    pairs = encoder.encode(QUERY, [text], ChunkPlan("sentence", size=40, sentence_overlap=overlap))
    starts, ends = [s for s, _ in spans], [e for _, e in spans]
    chunks = [(starts.index(start), ends.index(end) + 1) for start, end in pairs.spans]  # whole sentences only
    assert chunks[0][0] == 0 and chunks[-1][1] == len(spans)
    for (_, stop), (next_start, _) in zip(chunks, chunks[1:]):
        assert next_start == stop - overlap or (next_start > stop - overlap and overlap > 0)  # fewer when too long
    assert all(len(_text_ids(e)) <= 40 for e in pairs.encodings)


def test_a_sentence_longer_than_a_chunk_is_cut_as_words(encoder):
    long_sentence = " ".join(["cardiomyocytes proliferate"] * 30) + "."
    text = f"{SENTENCES[1]} {long_sentence} {SENTENCES[2]}"
    pairs = encoder.encode(QUERY, [text], ChunkPlan("sentence", size=20))
    assert all(len(_text_ids(e)) <= 20 for e in pairs.encodings)
    assert all(_word_bounded(text, start, end) for start, end in pairs.spans)
    assert pairs.spans[0] == (0, len(SENTENCES[1]))


@pytest.mark.parametrize("strategy", ["window", "word", "sentence"])
def test_a_text_shorter_than_a_chunk_is_one_chunk_holding_all_of_it(encoder, strategy):
    text = f"{SENTENCES[0]} {SENTENCES[1]}"
    pairs = encoder.encode(QUERY, [text, ""], ChunkPlan(strategy))
    assert pairs.owners == [0, 1] and pairs.spans == [(0, len(text)), (0, 0)] and pairs.truncated == 0


def test_an_explicit_chunk_size_cuts_a_text_that_fits_the_window(encoder):
    text = f"{SENTENCES[0]} {SENTENCES[1]}"
    assert len(encoder.encode(QUERY, [text], ChunkPlan("sentence", size=24)).encodings) == 2
    assert encoder.encode(QUERY, [text], ChunkPlan("sentence", size=24)).truncated == 0


@pytest.mark.parametrize("strategy", ["window", "word", "sentence"])
def test_the_winning_chunk_is_the_best_scored_chunk_and_holds_the_answer(ce_model_path, strategy):
    text, spans = _document(LONG_ORDER)
    options = {"chunk_overlap": 4} if strategy != "sentence" else {}
    scorer = CrossEncoderScorer(
        ce_model_path, max_length=64, long_documents="max_chunk", chunking=strategy, chunk_size=32, **options
    )
    (hit,) = scorer.rank(QUERY, [text])
    _, encoder = scorer._loaded_model()
    chunk_spans = encoder.encode(QUERY, [text], scorer.options.chunk_plan()).spans
    per_chunk = CrossEncoderScorer(ce_model_path, max_length=64).score(QUERY, [text[s:e] for s, e in chunk_spans])
    assert hit.span == chunk_spans[int(np.argmax(per_chunk))]
    assert hit.score == pytest.approx(float(per_chunk.max()), abs=1e-3)
    start, end = hit.span
    assert start <= spans[8][0] < spans[8][1] <= end or "zebrafish" in text[start:end].lower()
    assert hit.best_chunk(text) == {"text": text[start:end], "start": start, "end": end}


def test_max_chunks_per_doc_caps_the_pairs_scored(ce_model_path):
    text, _ = _document(LONG_ORDER * 4)
    counted = []
    for cap in (2, 5):
        scorer = CrossEncoderScorer(ce_model_path, max_length=64, long_documents="max_chunk", max_chunks_per_doc=cap)
        backend, _ = scorer._loaded_model()
        forward = backend.forward
        rows: list[int] = []
        backend.forward = lambda batch, forward=forward, rows=rows: (  # type: ignore[method-assign]
            rows.append(len(batch["input_ids"])) or forward(batch)
        )
        scorer.score(QUERY, [text, "short"])
        counted.append(sum(rows))
    assert counted == [2 + 1, 5 + 1]


def test_spans_come_back_from_the_cache(ce_model_path):
    text, _ = _document(LONG_ORDER)
    scorer = CrossEncoderScorer(ce_model_path, max_length=64, long_documents="max_chunk", cache_size=10)
    first = scorer.rank(QUERY, [text, SENTENCES[0]])
    assert scorer.rank(QUERY, [text, SENTENCES[0]]) == first and scorer.cache.hits == 2
    assert {hit.span for hit in first} == {scorer.rank(QUERY, [text])[0].span, (0, len(SENTENCES[0]))}


def test_truncation_says_how_much_was_cut_and_points_to_chunking(ce_model_path, caplog):
    text, _ = _document(LONG_ORDER)
    scorer = CrossEncoderScorer(ce_model_path, max_length=64)
    with caplog.at_level(logging.WARNING, logger="rerank_core.scorer"):
        (hit,) = scorer.rank(QUERY, [text])
    (message,) = [r.getMessage() for r in caplog.records if "truncated" in r.getMessage()]
    unread = round(100 * (1 - hit.span[1] / len(text)))
    assert f"{unread}% of their characters on average" in message and "long_documents='max_chunk'" in message
    assert re.search(r"chunking='window', 'sentence' or 'word'", message)


def test_prompt_models_chunk_and_report_spans_in_the_original_text(tmp_path):
    model = str(build_qwen3_causal_lm(tmp_path / "Qwen3-Reranker-0.6B"))
    text, spans = _document(LONG_ORDER)
    scorer = CrossEncoderScorer(model, max_length=256, long_documents="max_chunk", chunking="sentence", chunk_size=100)
    _, encoder = scorer._loaded_model()
    pairs = encoder.encode(QUERY, [text], scorer.options.chunk_plan())
    starts, ends = {s for s, _ in spans}, {e for _, e in spans}
    assert len(pairs.encodings) > 2 and all(s in starts and e in ends for s, e in pairs.spans)
    (hit,) = scorer.rank(QUERY, [text])
    assert hit.span in pairs.spans


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"chunking": "sentence"}, "pass long_documents='max_chunk' too"),
        ({"long_documents": "max_chunk", "chunking": "sentence", "chunk_overlap": 2}, "set sentence_overlap"),
        ({"long_documents": "max_chunk", "sentence_overlap": 0}, "applies to chunking='sentence'"),
        ({"long_documents": "max_chunk", "chunk_size": 8, "chunk_overlap": 8}, "must be smaller than chunk_size=8"),
        ({"long_documents": "max_chunk", "chunking": "paragraph"}, "Unknown chunking 'paragraph'"),
        ({"long_documents": "max_chunk", "max_chunks_per_doc": 0}, "max_chunks_per_doc must be a positive integer"),
        ({"long_documents": "max_chunk", "chunk_overlap": -1}, "chunk_overlap must be an integer >= 0"),
    ],
)
def test_chunk_options_are_checked(options, message):
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        CrossEncoderScorer("any/model", **options)


TEXTS = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from([" ", ". ", "? ", "\n\n", "\ud800", "\x00", "e.g. ", "word "])),
    max_size=80,
).map("".join)


@settings(max_examples=60, deadline=None)
@given(text=TEXTS, strategy=st.sampled_from(CHUNKINGS), size=st.integers(1, 40), cap=st.integers(1, 6))
def test_chunks_of_any_text_fit_and_cover_it_in_order(encoder, text, strategy, size, cap):
    plan = ChunkPlan(strategy, size=size, max_chunks=cap, overlap=None if strategy == "sentence" else size // 3)
    pairs = encoder.encode(QUERY, [text], plan)
    windows = [_text_ids(e) for e in pairs.encodings]
    assert 1 <= len(windows) <= cap and all(len(w) <= max(size, 1) for w in windows)
    assert all(0 <= start <= end <= len(text) for start, end in pairs.spans)
    for a, b in zip(pairs.spans, pairs.spans[1:]):  # in order, and nothing the tokenizer reads between them
        assert a[0] <= b[0] and not encoder._tokenizer.encode(
            valid_unicode(text[a[1] : b[0]]), add_special_tokens=False
        )
    assert all(len(_query_ids(e)) == len(_query_ids(pairs.encodings[0])) for e in pairs.encodings)
