"""Ranking metrics with ranx."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

RECALL_CUTOFFS: tuple[int, ...] = (10, 100)
"""The recall depths reported for rankings deep enough."""

Run = Mapping[str, Mapping[str, float]]
"""query id -> {doc id: score}; higher scores rank first."""


def metrics_for_depth(k: int) -> tuple[str, ...]:
    """The metrics reported for rankings of ``k`` candidates: none with a recall cutoff deeper than ``k``.

    nDCG@10 and MRR@10 always (they score the top of the ranking, however short); recall at each of
    :data:`RECALL_CUTOFFS` capped at ``k``: ``k=20`` gives recall@10 and recall@20, ``k=5`` recall@5 only.
    """
    cutoffs = sorted({min(cutoff, k) for cutoff in RECALL_CUTOFFS})
    return ("ndcg@10", *(f"recall@{cutoff}" for cutoff in cutoffs), "mrr@10")


DEFAULT_METRICS: tuple[str, ...] = metrics_for_depth(max(RECALL_CUTOFFS))
"""nDCG@10, recall@10, recall@100 and MRR@10."""


def evaluate_runs(
    qrels: Mapping[str, Mapping[str, int]], run: Run, metrics: Sequence[str] = DEFAULT_METRICS
) -> dict[str, float]:
    """Evaluate one run against ``qrels`` with ranx; queries missing from the run count as zero."""
    from ranx import Qrels, evaluate
    from ranx import Run as RanxRun

    full_run = {q: dict(run.get(q, {})) for q in qrels}
    # ranx rejects an empty ranking; a single never-relevant id scores it as a miss.
    full_run = {q: docs or {"__none__": 0.0} for q, docs in full_run.items()}
    result = evaluate(
        Qrels({q: dict(d) for q, d in qrels.items()}), RanxRun(full_run), list(metrics), make_comparable=True
    )
    if isinstance(result, float):
        return {metrics[0]: float(result)}
    return {name: float(value) for name, value in result.items()}


def ranking_to_run(ranking: Sequence[str], scores: Sequence[float] | None = None) -> dict[str, float]:
    """Turn a best-first list of doc ids (optionally with scores) into a ranx run entry."""
    if scores is None:
        return {doc: float(len(ranking) - i) for i, doc in enumerate(ranking)}
    return {doc: float(s) for doc, s in zip(ranking, scores, strict=True)}
