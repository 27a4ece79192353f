"""The async measure of ``crossrank bench``: concurrent adapter calls against the same calls one at a time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .workload import Request

CONCURRENT_CALLS = 16
PASSAGES_PER_CALL = 50


def async_requests(throughput: list[Request]) -> list[Request]:
    """Up to 16 of the throughput calls, cut to their first 50 passages."""
    return [
        Request(query=r.query, ids=r.ids[:PASSAGES_PER_CALL], texts=r.texts[:PASSAGES_PER_CALL])
        for r in throughput[:CONCURRENT_CALLS]
    ]


def measure_async(route: Any, requests: list[Request]) -> dict[str, Any]:
    """Time the calls awaited one after another, then all at once with ``asyncio.gather``.

    ``route`` has ``prepare`` and ``async ascored(query, prepared) -> [(id, score), ...]``. Returns both
    wall times, the speed-up and how far the concurrent results stray from the sequential ones.
    """
    prepared = [route.prepare(r.query, r.ids, r.texts) for r in requests]

    async def sequential() -> list[list[tuple[str, float]]]:
        return [await route.ascored(r.query, p) for r, p in zip(requests, prepared, strict=True)]

    async def concurrent() -> list[list[tuple[str, float]]]:
        calls = (route.ascored(r.query, p) for r, p in zip(requests, prepared, strict=True))
        return list(await asyncio.gather(*calls))

    started = time.perf_counter()
    one_by_one = asyncio.run(sequential())
    sequential_s = time.perf_counter() - started
    started = time.perf_counter()
    together = asyncio.run(concurrent())
    concurrent_s = time.perf_counter() - started
    max_diff = max(abs(dict(a)[doc] - score) for a, b in zip(one_by_one, together, strict=True) for doc, score in b)
    return {
        "calls": len(requests),
        "passages_per_call": len(requests[0].ids) if requests else 0,
        "sequential_seconds": sequential_s,
        "concurrent_seconds": concurrent_s,
        "speedup": sequential_s / concurrent_s if concurrent_s else float("nan"),
        "same_rankings": [[d for d, _ in a] for a in one_by_one] == [[d for d, _ in b] for b in together],
        "max_score_difference": max_diff,
    }
