"""Session-wide first stages over SciFact, built once for the quality tests."""

from __future__ import annotations

import pytest

from crossrank_eval import Bm25Retriever, DenseRetriever


@pytest.fixture(scope="session")
def bm25_full(scifact):
    """BM25 (bm25s, stemmed, English stop words) over all 5,183 abstracts, title + " " + text."""
    ids = list(scifact.corpus)
    return Bm25Retriever(ids, [scifact.doc_text(d) for d in ids])


@pytest.fixture(scope="session")
def dense_sub(scifact_sub, embed_model_path):
    """FAISS over all-MiniLM-L6-v2 embeddings of the 50-query sub-corpus."""
    ids = list(scifact_sub.corpus)
    return DenseRetriever(embed_model_path, ids, [scifact_sub.doc_text(d) for d in ids])
