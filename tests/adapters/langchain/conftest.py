"""Session fixtures for the LangChain tests: real embeddings, FAISS indexes and cross-encoders, built once."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

SMALL_QUERIES = 5
"""The small index holds the relevant abstracts of the first few SciFact queries plus some others."""
SMALL_OTHERS = 25


def scifact_document(dataset, doc_id: str) -> Document:
    """A SciFact abstract as a LangChain document: title + text, its id, and metadata to carry through."""
    return Document(
        page_content=dataset.doc_text(doc_id),
        id=doc_id,
        metadata={"doc_id": doc_id, "title": dataset.corpus[doc_id]["title"], "source": "scifact"},
    )


@pytest.fixture(scope="session")
def lc_embeddings(embed_model_path):
    """The real bi-encoder through langchain-huggingface, normalised (as the FAISS helper does)."""
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=embed_model_path,
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )


@pytest.fixture(scope="session")
def scifact_documents(scifact_sub) -> list[Document]:
    """The SciFact sub-corpus (first 50 queries' relevant abstracts + 1,000 others) as documents."""
    return [scifact_document(scifact_sub, doc_id) for doc_id in scifact_sub.corpus]


@pytest.fixture(scope="session")
def scifact_faiss(scifact_documents, lc_embeddings):
    """A FAISS index over the SciFact sub-corpus, embedded once per session."""
    from langchain_community.vectorstores import FAISS

    return FAISS.from_documents(scifact_documents, lc_embeddings)


@pytest.fixture(scope="session")
def small_dataset(scifact_sub):
    """The first few SciFact queries over their relevant abstracts plus a few others (fast to embed)."""
    return scifact_sub.first_queries(SMALL_QUERIES).sub_corpus(SMALL_OTHERS, seed=1)


@pytest.fixture(scope="session")
def small_documents(small_dataset) -> list[Document]:
    return [scifact_document(small_dataset, doc_id) for doc_id in small_dataset.corpus]


@pytest.fixture(scope="session")
def small_faiss(small_documents, lc_embeddings):
    """A small FAISS index for mechanics tests."""
    from langchain_community.vectorstores import FAISS

    return FAISS.from_documents(small_documents, lc_embeddings)


@pytest.fixture(scope="session")
def query(small_dataset) -> str:
    """A real SciFact claim whose relevant abstracts are in the small index."""
    return next(iter(small_dataset.queries.values()))


@pytest.fixture(scope="session")
def candidates(small_faiss, query) -> list[Document]:
    """The small index's top 10 for ``query``: what a first stage hands the reranker."""
    return small_faiss.similarity_search(query, k=10)


@pytest.fixture(scope="session")
def hf_cross_encoder(ce_model_path):
    """The real cross-encoder through langchain-community's HuggingFaceCrossEncoder."""
    from langchain_community.cross_encoders import HuggingFaceCrossEncoder

    return HuggingFaceCrossEncoder(model_name=ce_model_path, model_kwargs={"device": "cpu"})
