"""backend="openvino" with the real cross-encoder on SciFact BM25 top-30 (first 50 queries), against torch fp32.

int8 (NNCF static quantization on the built-in calibration pairs, what ``precision="int8"`` makes by itself) must
keep a mean top-10 overlap of 0.95 with fp32 and nDCG@10 within 0.01; ``precision="auto"`` must keep the bf16
bounds (0.98 and 0.005) on CPUs where it resolves to bf16 (elsewhere it is fp32, whose equality with torch the
tiny-model and family tests check). The graph is the session's ONNX export of the model.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from crossrank_harness.data import evaluate_runs
from rerank_core import CrossEncoderScorer
from rerank_core.backends.cpu import this_cpu
from rerank_core.engine.cache_dir import CACHE_DIR_ENV

BOUNDS = {"int8": (0.95, 0.01), "bf16": (0.98, 0.005), "fp32": (1.0, 1e-4)}
"""Precision: (least mean top-10 overlap with fp32, largest nDCG@10 difference)."""


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """The ONNX export and the int8 IR go to a cache folder of this module's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_ENV, str(tmp_path_factory.mktemp("openvino-cache")))
        yield


def _run(scorer: CrossEncoderScorer, data, candidates) -> dict[str, dict[str, float]]:
    scorer.load()
    start = time.perf_counter()
    run = {
        q: dict(zip(docs, map(float, scorer.score(data.queries[q], [data.doc_text(d) for d in docs]))))
        for q, docs in candidates.items()
    }
    speed = sum(map(len, candidates.values())) / (time.perf_counter() - start)
    print(f"\nopenvino {scorer.precision_used}: {speed:.1f} pairs/s")
    return run


def _top10(run: dict[str, float]) -> set[str]:
    return set(sorted(run, key=run.__getitem__, reverse=True)[:10])


@pytest.mark.parametrize("precision", ["int8", *(["auto"] if this_cpu().fast_bf16 else [])])
def test_openvino_keeps_the_top10_and_ndcg_of_torch_fp32(
    precision, minilm_onnx, scifact_first50, bm25_top30, fp32_logits
):
    pytest.importorskip("openvino")
    fp32 = {q: dict(zip(docs, map(float, fp32_logits[q]))) for q, docs in bm25_top30.items()}
    scorer = CrossEncoderScorer(str(minilm_onnx), backend="openvino", precision=precision, activation="none")
    run = _run(scorer, scifact_first50, bm25_top30)
    overlap = float(np.mean([len(_top10(fp32[q]) & _top10(run[q])) / 10 for q in fp32]))
    ndcg_fp32 = evaluate_runs(scifact_first50.qrels, fp32)["ndcg@10"]
    ndcg = evaluate_runs(scifact_first50.qrels, run)["ndcg@10"]
    used = scorer.precision_used
    print(
        f"openvino {used} against torch fp32: mean top-10 overlap {overlap:.3f}, nDCG@10 {ndcg:.4f} vs {ndcg_fp32:.4f}"
    )
    least_overlap, most_ndcg_diff = BOUNDS[used]
    assert overlap >= least_overlap
    assert abs(ndcg - ndcg_fp32) <= most_ndcg_diff
