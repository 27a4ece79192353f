"""backend="onnx" with the real cross-encoder on SciFact BM25 top-30 (first 50 queries).

ONNX fp32 gives torch fp32's scores; int8 keeps the figures rerank_core.backends.onnx_export.quantize_int8 documents.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from crossrank_harness.data import evaluate_runs
from rerank_core import CrossEncoderScorer

INT8_MIN_TOP10_OVERLAP = 0.95
INT8_MAX_NDCG_DIFF = 0.01


def _scores(scorer: CrossEncoderScorer, data, candidates) -> tuple[dict[str, dict[str, float]], float]:
    """The run (query -> doc -> logit) and the pairs per second it was scored at."""
    scorer.load()
    start = time.perf_counter()
    run = {}
    for q, docs in candidates.items():
        scores = scorer.score(data.queries[q], [data.doc_text(d) for d in docs])
        run[q] = dict(zip(docs, map(float, scores)))
    return run, sum(map(len, candidates.values())) / (time.perf_counter() - start)


@pytest.fixture(scope="module")
def runs(scifact_first50, bm25_top30, fp32_logits, minilm_onnx):
    """Logit runs of torch fp32 (the session's reference), ONNX fp32 and ONNX int8, with their nDCG@10."""
    candidates = bm25_top30
    out = {"torch fp32": {q: dict(zip(docs, map(float, fp32_logits[q]))) for q, docs in candidates.items()}}
    scorers = {
        "onnx fp32": CrossEncoderScorer(str(minilm_onnx), backend="onnx", activation="none"),
        "onnx int8": CrossEncoderScorer(str(minilm_onnx), backend="onnx", precision="int8", activation="none"),
    }
    for name, scorer in scorers.items():
        run, speed = _scores(scorer, scifact_first50, candidates)
        out[name] = run
        print(f"\n{name}: nDCG@10 {evaluate_runs(scifact_first50.qrels, run)['ndcg@10']:.4f}, {speed:.1f} pairs/s")
    return out


def _top10(run: dict[str, float]) -> set[str]:
    return set(sorted(run, key=run.__getitem__, reverse=True)[:10])


def test_onnx_fp32_scores_equal_torch_fp32(runs):
    torch_scores = np.array([s for q in runs["torch fp32"] for s in runs["torch fp32"][q].values()])
    onnx_scores = np.array([s for q in runs["torch fp32"] for s in runs["onnx fp32"][q].values()])
    print(f"\nlargest |ONNX fp32 - torch fp32| logit difference: {np.abs(onnx_scores - torch_scores).max():.2e}")
    np.testing.assert_allclose(onnx_scores, torch_scores, atol=1e-3)


def test_int8_keeps_the_top10_and_ndcg(runs, scifact_first50):
    fp32, int8 = runs["onnx fp32"], runs["onnx int8"]
    overlap = float(np.mean([len(_top10(fp32[q]) & _top10(int8[q])) / 10 for q in fp32]))
    ndcg_fp32 = evaluate_runs(scifact_first50.qrels, fp32)["ndcg@10"]
    ndcg_int8 = evaluate_runs(scifact_first50.qrels, int8)["ndcg@10"]
    print(f"\nint8 against fp32: mean top-10 overlap {overlap:.3f}, nDCG@10 {ndcg_int8:.4f} vs {ndcg_fp32:.4f}")
    assert overlap >= INT8_MIN_TOP10_OVERLAP
    assert abs(ndcg_int8 - ndcg_fp32) <= INT8_MAX_NDCG_DIFF
