"""One ``crossrank bench`` row, run in a fresh process so its peak memory is its own.

``python -m crossrank_harness.bench.worker JOB.json RESULT.json``: JOB names the row, its
:class:`~crossrank_harness.bench.rows.RowConfig` and the workload file; RESULT receives the timings,
the rankings of the throughput calls and the process's peak resident memory.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from crossrank_harness.routes.base import RerankRoute
from rerank_core import ScorerOptions, get_scorer

from .concurrency import async_requests, measure_async
from .fresh_process import peak_rss_bytes
from .rows import RowConfig, bench_rows, model_for, scorer_options
from .workload import Request, Workload


def _timed(route: RerankRoute, request: Request) -> tuple[float, list[str]]:
    """Milliseconds of one reranking call (inputs prepared beforehand) and its ranking."""
    prepared = route.prepare(request.query, request.ids, request.texts)
    started = time.perf_counter()
    ranking = route.rerank(request.query, prepared)
    return 1000 * (time.perf_counter() - started), ranking


def run_row(row_key: str, config: RowConfig, workload: Workload) -> dict[str, Any]:
    """Build the row, warm it up (untimed), then time the latency and throughput calls."""
    spec = {row.key: row for row in bench_rows()}[row_key]
    started = time.perf_counter()
    route = spec.build(config)
    for request in workload.warmup:
        route.rerank(request.query, route.prepare(request.query, request.ids, request.texts))
    setup_seconds = time.perf_counter() - started
    latency_ms = [_timed(route, workload.latency)[0] for _ in range(workload.repeats)]
    throughput_ms: list[float] = []
    rankings: list[list[str]] = []
    for request in workload.throughput:
        elapsed, ranking = _timed(route, request)
        throughput_ms.append(elapsed)
        rankings.append(ranking)
    extra: dict[str, Any] = {}
    if spec.options is not None:
        options = scorer_options(config, spec.options)
        extra["precision"] = get_scorer(model_for(config, options["backend"]), **options).precision_used
        default_backend = ScorerOptions.model_fields["backend"].default
        if hasattr(route, "ascored") and spec.options["precision"] == "auto" and options["backend"] == default_backend:
            extra["async"] = measure_async(route, async_requests(workload.throughput))
    return {
        "row": row_key,
        **extra,
        "setup_seconds": setup_seconds,
        "latency_ms": latency_ms,
        "throughput_ms": throughput_ms,
        "rankings": rankings,
        "peak_rss_bytes": peak_rss_bytes(),
    }


def main(argv: list[str]) -> None:
    """Read the job, run the row, write the result."""
    job_path, result_path = (Path(arg) for arg in argv)
    job = json.loads(job_path.read_text(encoding="utf-8"))
    workload = Workload.from_json(json.loads(Path(job["workload"]).read_text(encoding="utf-8")))
    result = run_row(job["row"], RowConfig(**job["config"]), workload)
    result_path.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
