"""Event-loop lag while the async adapters score: N concurrent requests against the same loop left idle.

    python benchmarks/event_loop_lag.py [--model MODEL] [--requests 200] [--texts 6] [--words 40]
        [--precision auto] [--interval-ms 5] [--idle-seconds 3] [--out results.json]

A heartbeat coroutine sleeps ``--interval-ms`` again and again; a beat's lag is how much later than asked
it woke up, so any stretch in which the event loop cannot run shows up as lag. One run, one process, one
event loop, three phases, each with the heartbeat running:

- idle: nothing else on the loop for ``--idle-seconds`` (this machine's own scheduling noise);
- concurrent: ``--requests`` requests of ``--texts`` texts each, all at once through the async adapters
  (even requests: LangChain ``acompress_documents``; odd: LlamaIndex ``apostprocess_nodes``), which
  tokenize and run the model in worker threads, micro-batched;
- blocking: the same requests through the sync adapters (``compress_documents`` / ``postprocess_nodes``)
  called inside ``async def`` wrappers gathered on the loop: what calling the model on the loop would do.

Both adapters share one scorer on ``--model`` (default ``$CROSSRANK_MODEL``; required), warmed up first.
The table gives max, p99 and p50 lag per phase, the ratios to the idle phase and throughput; then how
many concurrent rankings equal the blocking ones and the largest score difference. Lag depends on the
machine and on what else runs on it: the figures belong to one machine; the ratios within one run compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from crossrank_harness.system_info import cpu_line
from crossrank_harness.table import format_table, number

WORDS = (
    "zebrafish heart regeneration cardiomyocyte proliferation injury tissue repair signalling cancer risk "
    "protein gene model study result patients trial cohort dose response"
).split()


def _requests(count: int, texts: int, words: int) -> list[tuple[str, list[str]]]:
    """``count`` deterministic (query, texts) requests; texts are ``words`` words long."""
    n = len(WORDS)

    def text(i: int, j: int) -> str:
        return " ".join(WORDS[(i * 7 + j * 3 + w * (j + 1)) % n] for w in range(words)) + f" {j}"

    return [(f"{WORDS[i % n]} {WORDS[(i * 5 + 1) % n]}", [text(i, j) for j in range(texts)]) for i in range(count)]


class Heartbeat:
    """Sleeps ``interval`` seconds in a loop until stopped, recording each wake-up's lag in seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, time.perf_counter() - started - self.interval))

    def __enter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._beat())
        return self

    async def stop(self) -> dict[str, float]:
        """Stop beating (after the beat in flight); max, p99 and p50 lag in ms and the number of beats."""
        self._stop.set()
        assert self._task is not None
        await self._task
        lags = 1000 * np.asarray(self.lags or [0.0])
        return {
            "max_ms": float(lags.max()),
            "p99_ms": float(np.percentile(lags, 99)),
            "p50_ms": float(np.percentile(lags, 50)),
            "beats": len(self.lags),
        }

    def __exit__(self, *exc: object) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


def _adapters(model: str, precision: str) -> tuple[Any, Any]:
    from langchain_rerank import CrossEncoderReranker
    from llamaindex_rerank import CrossEncoderRerank

    langchain = CrossEncoderReranker(model=model, top_n=4, precision=precision)
    llamaindex = CrossEncoderRerank(model=model, top_n=4, precision=precision, metadata_mode="none")
    assert langchain.scorer is llamaindex.scorer, "the adapters should share one scorer"
    return langchain, llamaindex


def _inputs(k: int, request: tuple[str, list[str]]) -> tuple[str, list[Any]]:
    """The query and request ``k``'s texts as LangChain documents (even k) or LlamaIndex nodes (odd k)."""
    from langchain_core.documents import Document
    from llama_index.core.schema import NodeWithScore, TextNode

    query, texts = request
    if k % 2 == 0:
        return query, [Document(page_content=t, id=str(j)) for j, t in enumerate(texts)]
    return query, [NodeWithScore(node=TextNode(text=t, id_=str(j))) for j, t in enumerate(texts)]


def _ranking(k: int, out: Any) -> tuple[list[str], list[float]]:
    """(ids, scores), best first."""
    if k % 2 == 0:
        return [d.id for d in out], [d.metadata["relevance_score"] for d in out]
    return [n.node.node_id for n in out], [n.score for n in out]


def _sync_call(adapters: tuple[Any, Any], k: int, request: tuple[str, list[str]]) -> tuple[list[str], list[float]]:
    query, items = _inputs(k, request)
    if k % 2 == 0:
        return _ranking(k, adapters[0].compress_documents(items, query))
    return _ranking(k, adapters[1].postprocess_nodes(items, query_str=query))


async def _async_call(
    adapters: tuple[Any, Any], k: int, request: tuple[str, list[str]]
) -> tuple[list[str], list[float]]:
    query, items = _inputs(k, request)
    if k % 2 == 0:
        return _ranking(k, await adapters[0].acompress_documents(items, query))
    return _ranking(k, await adapters[1].apostprocess_nodes(items, query_str=query))


async def _blocking_call(
    adapters: tuple[Any, Any], k: int, request: tuple[str, list[str]]
) -> tuple[list[str], list[float]]:
    """An ``async def`` that calls the model on the event loop."""
    return _sync_call(adapters, k, request)


async def measure(adapters: tuple[Any, Any], requests: list[tuple[str, list[str]]], args: Any) -> dict[str, Any]:
    """The three phases on this loop; one row each."""
    interval = args.interval_ms / 1000
    rows: dict[str, Any] = {}

    with Heartbeat(interval) as beat:
        started = time.perf_counter()
        await asyncio.sleep(args.idle_seconds)
        rows["idle"] = await beat.stop() | {"seconds": time.perf_counter() - started}

    rankings = {}
    for phase, call in (("concurrent", _async_call), ("blocking", _blocking_call)):
        with Heartbeat(interval) as beat:
            await asyncio.sleep(interval)  # the first beat is in flight before the requests start
            started = time.perf_counter()
            rankings[phase] = await asyncio.gather(*(call(adapters, k, r) for k, r in enumerate(requests)))
            seconds = time.perf_counter() - started
            rows[phase] = await beat.stop() | {"seconds": seconds, "requests_per_s": len(requests) / seconds}
    pairs = list(zip(rankings["concurrent"], rankings["blocking"], strict=True))
    rows["same_rankings"] = sum(a[0] == b[0] for a, b in pairs)
    rows["max_score_difference"] = max(float(np.max(np.abs(np.subtract(a[1], b[1])))) for a, b in pairs)
    return rows


def _machine() -> dict[str, Any]:
    import torch

    from rerank_core.backends.cpu import cpu_info

    return {
        "cpu": cpu_info().to_json(),
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "python": sys.version.split()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.environ.get("CROSSRANK_MODEL"), help="default: $CROSSRANK_MODEL")
    parser.add_argument("--precision", default="auto", help="the scorer's precision (default: auto)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--texts", type=int, default=6, help="texts per request")
    parser.add_argument("--words", type=int, default=40, help="words per text")
    parser.add_argument("--interval-ms", type=float, default=5.0, help="heartbeat period")
    parser.add_argument("--idle-seconds", type=float, default=3.0, help="length of the idle phase")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not args.model:
        parser.error("give --model or set CROSSRANK_MODEL")

    machine = _machine()
    print(cpu_line(machine["cpu"]))
    print(f"torch threads {machine['torch_threads']}, OMP_WAIT_POLICY={machine['omp_wait_policy']}")
    adapters = _adapters(args.model, args.precision)
    requests = _requests(args.requests, args.texts, args.words)
    for k in (0, 1):  # load the model and warm both paths
        _sync_call(adapters, k, requests[k])
        asyncio.run(_async_call(adapters, k, requests[k]))
    scorer = adapters[1].scorer
    rows = asyncio.run(measure(adapters, requests, args))

    print(
        f"{args.requests} requests x {args.texts} texts of {args.words} words, {args.model} "
        f"({scorer.precision_used}), heartbeat every {args.interval_ms:g} ms"
    )
    columns = {
        "max ms": ("max_ms", 1),
        "p99 ms": ("p99_ms", 1),
        "p50 ms": ("p50_ms", 2),
        "beats": ("beats", 0),
        "seconds": ("seconds", 1),
        "requests/s": ("requests_per_s", 1),
        "max / idle max": ("max_vs_idle", 1),
        "p99 / idle p99": ("p99_vs_idle", 1),
    }
    cells = []
    idle = rows["idle"]
    for phase in ("idle", "concurrent", "blocking"):
        row = rows[phase]
        row["max_vs_idle"] = row["max_ms"] / idle["max_ms"] if idle["max_ms"] else float("inf")
        row["p99_vs_idle"] = row["p99_ms"] / idle["p99_ms"] if idle["p99_ms"] else float("inf")
        cells.append([phase, *(number(row.get(key), digits) for key, digits in columns.values())])
    print(format_table(["phase", *columns], cells))
    blocking_vs = rows["blocking"]["max_ms"] / rows["concurrent"]["max_ms"]
    print(f"blocking max lag / concurrent max lag: {blocking_vs:.0f}x")
    print(
        f"rankings equal to the blocking ones: {rows['same_rankings']} of {args.requests} requests; largest score "
        f"difference {rows['max_score_difference']:.1e} (shared batches pad differently; bf16 moves scores ~5e-3)"
    )
    if args.out:
        settings = vars(args) | {"out": str(args.out)}
        report = {"machine": machine, "model": args.model, "precision": scorer.precision_used, "settings": settings}
        report |= {"phases": {p: rows[p] for p in ("idle", "concurrent", "blocking")}}
        report |= {"blocking_max_vs_concurrent_max": blocking_vs}
        report |= {key: rows[key] for key in ("same_rankings", "max_score_difference")}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
