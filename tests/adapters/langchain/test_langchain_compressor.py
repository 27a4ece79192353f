"""CrossEncoderReranker: ranking, fields, immutability, async, drop-in use, serialisation, errors."""

from __future__ import annotations

import asyncio
import copy
import json
import math
import threading
from pathlib import Path

import numpy as np
import pytest
from langchain_core.cross_encoders import BaseCrossEncoder
from langchain_core.documents import Document
from langchain_core.load import dumps, loads
from pydantic import ValidationError

from langchain_rerank import CrossEncoderReranker
from rerank_core import (
    InvalidQueryError,
    InvalidTextError,
    ModelNotFoundError,
    RemoteScorer,
    get_scorer,
)


class RecordingCrossEncoder(BaseCrossEncoder):
    """A user-defined LangChain cross-encoder over the real model that records the threads scoring runs on."""

    def __init__(self, inner: BaseCrossEncoder) -> None:
        self.inner = inner
        self.threads: list[int] = []

    def score(self, text_pairs: list[tuple[str, str]]) -> list[float]:
        self.threads.append(threading.get_ident())
        return self.inner.score(text_pairs)


def dump(docs) -> list[dict]:
    return [doc.model_dump() for doc in docs]


def test_orders_by_the_models_scores(ce_model_path, query, candidates):
    reranker = CrossEncoderReranker(model=ce_model_path, top_n=4)
    out = reranker.compress_documents(candidates, query)

    expected = get_scorer(ce_model_path).score(query, [doc.page_content for doc in candidates])
    best = np.argsort(-expected, kind="stable")[:4]
    assert [doc.id for doc in out] == [candidates[i].id for i in best]
    assert [doc.metadata["relevance_score"] for doc in out] == pytest.approx([float(expected[i]) for i in best])
    scores = [doc.metadata["relevance_score"] for doc in out]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)


def test_keeps_ids_metadata_and_document_type(ce_model_path, query, candidates):
    class TaggedDocument(Document):
        tag: str = "kept"

    docs = [
        TaggedDocument(page_content=doc.page_content, id=doc.id, metadata={**doc.metadata, "nested": {"n": i}})
        for i, doc in enumerate(candidates)
    ]
    out = CrossEncoderReranker(model=ce_model_path, top_n=None, score_key="ce").compress_documents(docs, query)

    assert sorted(doc.id for doc in out) == sorted(doc.id for doc in docs)
    by_id = {doc.id: doc for doc in docs}
    for doc in out:
        source = by_id[doc.id]
        assert type(doc) is TaggedDocument and doc.tag == "kept"
        assert doc.page_content == source.page_content
        assert {k: v for k, v in doc.metadata.items() if k != "ce"} == source.metadata
        assert isinstance(doc.metadata["ce"], float)
        assert "relevance_score" not in doc.metadata


def test_never_mutates_its_input(ce_model_path, query, candidates):
    docs = [doc.model_copy(update={"metadata": {**doc.metadata, "relevance_score": -1.0}}) for doc in candidates]
    before = copy.deepcopy(docs)
    ids_before = [id(doc) for doc in docs]

    out = CrossEncoderReranker(model=ce_model_path, top_n=5).compress_documents(docs, query)
    out[0].metadata["edited"] = True

    assert [id(doc) for doc in docs] == ids_before
    assert dump(docs) == dump(before)
    assert all(doc.metadata["relevance_score"] == -1.0 for doc in docs)
    assert not any(o is d or o.metadata is d.metadata for o in out for d in docs)
    assert all(o.metadata["relevance_score"] != -1.0 for o in out)


def test_empty_input_loads_no_model(tiny_model_dir):
    missing = CrossEncoderReranker(model="/nonexistent/crossrank-model")
    assert missing.compress_documents([], "any query") == []
    with pytest.raises(ModelNotFoundError):
        missing.compress_documents([Document(page_content="text")], "any query")

    reranker = CrossEncoderReranker(model=tiny_model_dir, batch_size=7, max_length=96)
    assert reranker.compress_documents([], "any query") == []
    assert get_scorer(tiny_model_dir, batch_size=7, max_length=96).loaded is False


def test_top_n_min_score_and_window(ce_model_path, query, candidates):
    scores = get_scorer(ce_model_path).score(query, [doc.page_content for doc in candidates])
    threshold = float(np.median(scores))

    kept = CrossEncoderReranker(model=ce_model_path, top_n=None, min_score=threshold).compress_documents(
        candidates, query
    )
    assert len(kept) == int((scores >= threshold).sum())
    assert all(doc.metadata["relevance_score"] >= threshold for doc in kept)

    window = CrossEncoderReranker(model=ce_model_path, top_n=None, rank_window_size=3).compress_documents(
        candidates, query
    )
    assert sorted(doc.id for doc in window) == sorted(doc.id for doc in candidates[:3])

    assert len(CrossEncoderReranker(model=ce_model_path, top_n=None).compress_documents(candidates, query)) == len(
        candidates
    )
    assert CrossEncoderReranker(model=ce_model_path, top_n=0).compress_documents(candidates, query) == []


def test_accepts_a_ready_scorer(ce_model_path, query, candidates):
    by_scorer = CrossEncoderReranker(model=get_scorer(ce_model_path), top_n=5).compress_documents(candidates, query)
    by_path = CrossEncoderReranker(model=ce_model_path, top_n=5).compress_documents(candidates, query)
    assert dump(by_scorer) == dump(by_path)


async def test_async_equals_sync_and_runs_off_the_event_loop(hf_cross_encoder, query, candidates):
    model = RecordingCrossEncoder(hf_cross_encoder)
    reranker = CrossEncoderReranker(model=model, top_n=5)

    sync = reranker.compress_documents(candidates, query)
    loop_thread = threading.get_ident()
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    beat = asyncio.create_task(heartbeat())
    try:
        result = await reranker.acompress_documents(candidates, query)
    finally:
        beat.cancel()

    assert dump(result) == dump(sync)
    assert model.threads[0] == loop_thread
    assert model.threads[-1] != loop_thread
    assert ticks > 1


async def test_async_path_of_a_model_id(ce_model_path, query, candidates):
    reranker = CrossEncoderReranker(model=ce_model_path, top_n=5)
    assert dump(await reranker.acompress_documents(candidates, query)) == dump(
        reranker.compress_documents(candidates, query)
    )


def test_drop_in_for_langchain_classic(hf_cross_encoder, ce_model_path, small_faiss, small_dataset):
    from langchain_classic.retrievers.document_compressors import CrossEncoderReranker as ClassicReranker

    classic = ClassicReranker(model=hf_cross_encoder, top_n=6)
    ours = CrossEncoderReranker(model=hf_cross_encoder, top_n=None)
    engine = CrossEncoderReranker(model=ce_model_path, top_n=None, precision="fp32")
    for question in list(small_dataset.queries.values())[:3]:
        docs = small_faiss.similarity_search(question, k=10)
        expected = classic.compress_documents(docs, question)
        got = ours.compress_documents(docs, question)
        assert [doc.id for doc in got[:6]] == [doc.id for doc in expected]
        assert [doc.page_content for doc in got[:6]] == [doc.page_content for doc in expected]

        # crossrank's own engine scores as sentence-transformers does (short claims: the same truncation).
        reference = {doc.id: doc.metadata["relevance_score"] for doc in got}
        by_engine = {doc.id: doc.metadata["relevance_score"] for doc in engine.compress_documents(docs, question)}
        np.testing.assert_allclose([by_engine[d.id] for d in docs], [reference[d.id] for d in docs], atol=1e-4)


@pytest.mark.filterwarnings("ignore:The function `loads` is in beta")
def test_serialises_the_langchain_way(ce_model_path, query, candidates):
    reranker = CrossEncoderReranker(model=ce_model_path, top_n=2, min_score=0.01, score_key="ce", batch_size=8)
    text = dumps(reranker)
    assert '"CrossEncoderReranker"' in text

    revived = loads(text, allowed_objects=[CrossEncoderReranker], valid_namespaces=["langchain_rerank"])
    assert isinstance(revived, CrossEncoderReranker)
    assert revived.model_dump() == reranker.model_dump()
    assert dump(revived.compress_documents(candidates, query)) == dump(reranker.compress_documents(candidates, query))


def test_a_compressor_saved_by_an_earlier_version_loads(ce_model_path):
    """``data/reranker_saved_by_0.1.json`` was written by ``dumps`` before the package was restructured; the
    saved id is pinned (``get_lc_namespace``), so it loads after any move of the class's code."""
    saved = (Path(__file__).parent / "data" / "reranker_saved_by_0.1.json").read_text()
    assert CrossEncoderReranker.lc_id() == json.loads(saved)["id"]
    revived = loads(saved, allowed_objects=[CrossEncoderReranker], valid_namespaces=["langchain_rerank"])
    assert isinstance(revived, CrossEncoderReranker)
    assert (revived.model, revived.top_n, revived.min_score, revived.batch_size, revived.long_documents) == (
        "cross-encoder/ms-marco-MiniLM-L6-v2",
        2,
        0.1,
        8,
        "max_chunk",
    )


@pytest.mark.filterwarnings("ignore:The function `loads` is in beta")
def test_a_model_object_is_not_serialisable(hf_cross_encoder):
    text = dumps(CrossEncoderReranker(model=hf_cross_encoder))
    with pytest.raises(NotImplementedError):
        loads(text, allowed_objects=[CrossEncoderReranker], valid_namespaces=["langchain_rerank"])


@pytest.mark.parametrize(
    "fields",
    [
        {"top_n": -1},
        {"top_n": 2.5},
        {"rank_window_size": 0},
        {"min_score": math.nan},
        {"score_key": ""},
        {"model": ""},
        {"model": 42},
        {"batch_size": 0},
        {"device_map": "auto"},
    ],
)
def test_bad_fields_are_refused(fields):
    with pytest.raises(ValidationError):
        CrossEncoderReranker(**fields)


def test_scorer_options_need_a_model_id(hf_cross_encoder):
    with pytest.raises(ValidationError, match="batch_size"):
        CrossEncoderReranker(model=hf_cross_encoder, batch_size=8)
    with pytest.raises(ValidationError, match="configure the RemoteScorer"):
        CrossEncoderReranker(model=RemoteScorer("http://127.0.0.1:9"), max_length=64)


@pytest.mark.parametrize(
    ("query", "documents", "error", "match"),
    [
        ("", [Document(page_content="a")], InvalidQueryError, "empty"),
        (3, [Document(page_content="a")], InvalidQueryError, "string"),
        ("q", [Document(page_content="a"), "b"], InvalidTextError, r"documents\[1\]"),
        ("q", "not documents", InvalidTextError, "sequence of Document"),
        ("q", Document(page_content="a"), InvalidTextError, "sequence of Document"),
    ],
)
def test_bad_calls_raise_typed_errors(tiny_model_dir, query, documents, error, match):
    with pytest.raises(error, match=match):
        CrossEncoderReranker(model=tiny_model_dir).compress_documents(documents, query)


def test_query_is_checked_before_anything_loads():
    with pytest.raises(InvalidQueryError):
        CrossEncoderReranker(model="/nonexistent/crossrank-model").compress_documents([], "  ")
