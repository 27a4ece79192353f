"""Offline, a missing model through either FAISS builder raises ModelNotFoundError naming its role and id."""

from __future__ import annotations

import os

import pytest
from langchain_core.documents import Document as LangChainDocument
from llama_index.core.llms import MockLLM
from llama_index.core.schema import TextNode

from langchain_rerank import build_rerank_retriever, load_rerank_retriever, save_rerank_retriever
from llamaindex_rerank import build_faiss_index, build_rerank_query_engine, load_faiss_index
from rerank_core import ModelNotFoundError
from rerank_core.engine.model_loading import BI_ENCODER, CROSS_ENCODER

TEXTS = ["The Moon's gravity raises the tides.", "Bananas are rich in potassium."]
QUERY = "What causes tides?"
MISSING_IDS = ["crossrank-tests/no-such-model", "/nonexistent/crossrank/model"]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No hub access: a missing id cannot be downloaded, only looked up in the local cache."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _assert_names(info: pytest.ExceptionInfo[ModelNotFoundError], role: str, model: str) -> None:
    message = str(info.value)
    assert role in message and repr(model) in message and "HF_HUB_OFFLINE" in message
    assert info.value.role == role and info.value.model_name_or_path == model


def _lc_documents() -> list[LangChainDocument]:
    return [LangChainDocument(page_content=t) for t in TEXTS]


def _li_nodes() -> list[TextNode]:
    return [TextNode(text=t) for t in TEXTS]


@pytest.mark.parametrize("missing", MISSING_IDS)
def test_langchain_builder_names_a_missing_bi_encoder(missing, ce_model_path):
    with pytest.raises(ModelNotFoundError) as info:
        build_rerank_retriever(_lc_documents(), model=ce_model_path, embeddings=missing)
    _assert_names(info, BI_ENCODER, missing)


@pytest.mark.parametrize("missing", MISSING_IDS)
def test_langchain_builder_names_a_missing_cross_encoder(missing, embed_model_path):
    retriever = build_rerank_retriever(_lc_documents(), model=missing, embeddings=embed_model_path, k=2)
    with pytest.raises(ModelNotFoundError) as info:
        retriever.invoke(QUERY)
    _assert_names(info, CROSS_ENCODER, missing)


def test_langchain_loader_names_a_missing_bi_encoder(tmp_path, ce_model_path, embed_model_path):
    save_rerank_retriever(
        build_rerank_retriever(_lc_documents(), model=ce_model_path, embeddings=embed_model_path), tmp_path
    )
    missing = os.fspath(tmp_path / "no-such-embedder")
    with pytest.raises(ModelNotFoundError) as info:
        load_rerank_retriever(tmp_path, allow_dangerous_deserialization=True, embeddings=missing, model=ce_model_path)
    _assert_names(info, BI_ENCODER, missing)


@pytest.mark.parametrize("missing", MISSING_IDS)
def test_llamaindex_builders_name_a_missing_bi_encoder(missing, ce_model_path):
    with pytest.raises(ModelNotFoundError) as info:
        build_faiss_index(_li_nodes(), embed_model=missing)
    _assert_names(info, BI_ENCODER, missing)
    with pytest.raises(ModelNotFoundError) as info:
        build_rerank_query_engine(_li_nodes(), model=ce_model_path, embed_model=missing, llm=MockLLM())
    _assert_names(info, BI_ENCODER, missing)


def test_llamaindex_loader_names_a_missing_bi_encoder(tmp_path, embed_model_path):
    build_faiss_index(_li_nodes(), embed_model=embed_model_path, persist_dir=tmp_path)
    missing = os.fspath(tmp_path / "no-such-embedder")
    with pytest.raises(ModelNotFoundError) as info:
        load_faiss_index(tmp_path, embed_model=missing)
    _assert_names(info, BI_ENCODER, missing)


@pytest.mark.parametrize("missing", MISSING_IDS)
def test_llamaindex_builder_names_a_missing_cross_encoder(missing, embed_model_path):
    rag = build_rerank_query_engine(_li_nodes(), model=missing, embed_model=embed_model_path, llm=MockLLM())
    with pytest.raises(ModelNotFoundError) as info:
        rag.retrieve(QUERY)
    _assert_names(info, CROSS_ENCODER, missing)
