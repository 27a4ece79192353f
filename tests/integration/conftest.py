"""Session-wide first stages over SciFact, built once for the quality tests."""

from __future__ import annotations

import numpy as np
import pytest

from crossrank_harness.data import Bm25Retriever, DenseRetriever
from rerank_core import CrossEncoderScorer


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


@pytest.fixture(scope="session")
def bm25_top40(scifact_first50, bm25_full) -> dict[str, list[str]]:
    """The BM25 top 40 of each of the first 50 queries: 2,000 real (query, abstract) pairs."""
    data = scifact_first50
    qids = list(data.queries)
    hits = bm25_full.search([data.queries[q] for q in qids], 40)
    return {q: [doc for doc, _ in row] for q, row in zip(qids, hits)}


@pytest.fixture(scope="session")
def bm25_top30(bm25_top40) -> dict[str, list[str]]:
    """The BM25 top 30 of each of the first 50 queries: the candidates of the precision and backend checks."""
    return {q: docs[:30] for q, docs in bm25_top40.items()}


@pytest.fixture(scope="session")
def fp32_logits40(scifact_first50, bm25_top40, ce_model_path) -> dict[str, np.ndarray]:
    """Torch fp32 logits of every (query, candidate) in ``bm25_top40``: the reference, scored once."""
    scorer = CrossEncoderScorer(ce_model_path, precision="fp32", activation="none")
    data = scifact_first50
    return {q: scorer.score(data.queries[q], [data.doc_text(d) for d in docs]) for q, docs in bm25_top40.items()}


@pytest.fixture(scope="session")
def fp32_logits(fp32_logits40) -> dict[str, np.ndarray]:
    """:func:`fp32_logits40` for the candidates of ``bm25_top30``."""
    return {q: logits[:30] for q, logits in fp32_logits40.items()}


@pytest.fixture(scope="session")
def minilm_onnx(ce_model_path, tmp_path_factory):
    """The real cross-encoder exported once to ONNX (fp32 and int8), for the ONNX and OpenVINO checks."""
    from rerank_core.backends.onnx_export import export_onnx

    return export_onnx(ce_model_path, tmp_path_factory.mktemp("minilm-onnx"), quantize="int8")
