"""The served rerank APIs under load: concurrent requests through each schema, against the in-process scorer.

    python benchmarks/serve_apis.py DATA_DIR [--model MODEL] [--requests 200] [--documents 20]
        [--out benchmarks/results/serve-apis-cpu.json]

One run, one machine, ratios to the in-process baseline measured in the same run. The requests are
``--requests`` SciFact test queries (repeated in file order when there are fewer), each with its BM25 top
``--documents`` abstracts (title + " " + text) over the whole corpus. Routes:

- in process: ``CrossEncoderScorer.rank`` one request after another, then every request at once through
  ``arank`` (micro-batched like the server's scoring replica);
- served: the app of ``crossrank serve`` (one scoring replica with every CPU, the default limits, behind the
  proxy guard, on a loopback port of a local Ray), with every request sent at once on its own connection
  (``httpx.AsyncClient``) in each schema: TEI ``POST /rerank``, Cohere ``POST /v2/rerank`` and
  ``POST /v1/rerank``, and ``RemoteScorer(api="crossrank")`` (TEI's route with crossrank's ranking rules,
  answers validated by the client).

Per route: the wall time of the whole load, requests/s and its ratio to in-process one-by-one, and each
request's latency from its start (p50, p95). Every served ranking is checked against the in-process one
(same order, largest score difference), so a fast wrong answer cannot pass. The server is warmed up first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

from crossrank_harness.ports import free_loopback_port
from crossrank_harness.stats import latency_summary
from crossrank_harness.system_info import cpu_line
from crossrank_harness.table import format_table, number

CPUS = os.cpu_count() or 1
Request = tuple[str, list[str]]
Ranking = list[tuple[int, float]]
"""(input index, score), best first."""


def _requests(data_dir: str, count: int, documents: int) -> list[Request]:
    """``count`` (query, BM25 top ``documents`` abstracts) requests from the test split, in file order."""
    from crossrank_harness.data import Bm25Retriever, load_beir

    data = load_beir(data_dir, "test").first_queries(count)
    doc_ids = list(data.corpus)
    bm25 = Bm25Retriever(doc_ids, [data.doc_text(d) for d in doc_ids])
    queries = [data.queries[q] for q in data.queries]
    hits = bm25.search(queries, documents)
    requests = [(q, [data.doc_text(d) for d, _ in row]) for q, row in zip(queries, hits, strict=True)]
    return (requests * (count // len(requests) + 1))[:count]


async def _load(calls: list[Callable[[], Awaitable[Ranking]]]) -> tuple[float, list[float], list[Ranking]]:
    """Run every call at once: wall seconds, each call's milliseconds from the start, and the rankings."""
    started = time.perf_counter()
    latencies = [0.0] * len(calls)

    async def one(i: int) -> Ranking:
        ranking = await calls[i]()
        latencies[i] = (time.perf_counter() - started) * 1000
        return ranking

    rankings = await asyncio.gather(*(one(i) for i in range(len(calls))))
    return time.perf_counter() - started, latencies, list(rankings)


def _row(route: str, seconds: float, latencies: list[float], rankings: list[Ranking]) -> dict[str, Any]:
    return {"route": route, "seconds": seconds, "requests_per_s": len(rankings) / seconds} | {
        f"{k}_ms": v for k, v in latency_summary(latencies).items()
    }


def in_process_rows(model: str, requests: list[Request]) -> tuple[list[dict[str, Any]], list[Ranking]]:
    """One by one through ``rank``, then all at once through ``arank``; and the one-by-one rankings."""
    from rerank_core import CrossEncoderScorer

    scorer = CrossEncoderScorer(model).load()
    scorer.rank(*requests[0])  # warm up

    def ranking(ranked: Any) -> Ranking:
        return [(r.index, r.score) for r in ranked]

    latencies, reference = [], []
    started = time.perf_counter()
    for query, texts in requests:
        call = time.perf_counter()
        reference.append(ranking(scorer.rank(query, texts)))
        latencies.append((time.perf_counter() - call) * 1000)
    rows = [_row("in process, rank one by one", time.perf_counter() - started, latencies, reference)]

    async def arank(query: str, texts: list[str]) -> Ranking:
        return ranking(await scorer.arank(query, texts))

    calls = [lambda q=q, t=t: arank(q, t) for q, t in requests]
    rows.append(_row(f"in process, arank x {len(requests)} at once", *asyncio.run(_load(calls))))
    return rows, reference


def _bodies(api: str, query: str, texts: list[str]) -> tuple[str, dict[str, Any]]:
    """The path and request body of ``api`` for one request."""
    if api == "tei":
        return "/rerank", {"query": query, "texts": texts}
    version = {"cohere v2": "/v2/rerank", "cohere v1": "/v1/rerank"}[api]
    return version, {"model": "crossrank", "query": query, "documents": texts}


def _parsed(api: str, answer: Any) -> Ranking:
    if api == "tei":
        return [(hit["index"], hit["score"]) for hit in answer]
    return [(hit["index"], hit["relevance_score"]) for hit in answer["results"]]


async def _served_load(url: str, api: str, requests: list[Request]) -> tuple[float, list[float], list[Ranking]]:
    """Every request at once to ``url`` in ``api``'s schema (``crossrank``: through ``RemoteScorer``)."""
    import httpx

    from rerank_core import RemoteScorer

    if api == "crossrank":
        remote = RemoteScorer(url, timeout=3600)

        async def through_client(query: str, texts: list[str]) -> Ranking:
            return [(r.index, r.score) for r in await remote.arank(query, texts)]

        try:
            return await _load([lambda q=q, t=t: through_client(q, t) for q, t in requests])
        finally:
            await remote.aclose()

    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
    async with httpx.AsyncClient(base_url=url, timeout=3600, limits=limits) as client:

        async def post(query: str, texts: list[str]) -> Ranking:
            path, body = _bodies(api, query, texts)
            answer = await client.post(path, json=body)
            answer.raise_for_status()
            return _parsed(api, answer.json())

        return await _load([lambda q=q, t=t: post(q, t) for q, t in requests])


def served_rows(model: str, requests: list[Request]) -> list[tuple[dict[str, Any], list[Ranking]]]:
    """Each schema's load through one served app, with the rankings it returned."""
    from ray import serve

    from rerank_core.serving.app import build_app
    from rerank_core.serving.proxy_guard import serve_start_options

    port = free_loopback_port()
    serve.start(**serve_start_options("127.0.0.1", port))
    serve.run(build_app(model, replicas=1, num_cpus=CPUS), route_prefix="/")
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for api, route in (
            ("tei", "served, TEI POST /rerank"),
            ("cohere v2", "served, Cohere POST /v2/rerank"),
            ("cohere v1", "served, Cohere POST /v1/rerank"),
            ("crossrank", "served, RemoteScorer(api='crossrank')"),
        ):
            asyncio.run(_served_load(url, api, requests[:4]))  # warm up the connections and the replica
            seconds, latencies, rankings = asyncio.run(_served_load(url, api, requests))
            rows.append((_row(f"{route}, x {len(requests)} at once", seconds, latencies, rankings), rankings))
    finally:
        serve.shutdown()
    return rows


def _agreement(rankings: list[Ranking], reference: list[Ranking]) -> dict[str, Any]:
    """How many rankings have the reference's order, and the largest score difference (by input index)."""
    same = sum([i for i, _ in a] == [i for i, _ in b] for a, b in zip(rankings, reference, strict=True))

    def by_index(ranking: Ranking) -> np.ndarray:
        return np.array([score for _, score in sorted(ranking)])

    largest = max(float(np.max(np.abs(by_index(a) - by_index(b)))) for a, b in zip(rankings, reference, strict=True))
    return {"same_order": same, "max_score_difference": largest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir")
    parser.add_argument("--model", default=os.environ.get("CROSSRANK_MODEL", "cross-encoder/ms-marco-MiniLM-L6-v2"))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--documents", type=int, default=20, help="documents per request")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import logging

    import ray
    import torch

    from rerank_core.backends.cpu import cpu_info

    machine = {"cpu": cpu_info().to_json(), "torch_threads": torch.get_num_threads(), "python": sys.version.split()[0]}
    print(cpu_line(machine["cpu"]), flush=True)
    requests = _requests(args.data_dir, args.requests, args.documents)
    rows, reference = in_process_rows(args.model, requests)
    for row in rows:
        row |= {"same_order": len(requests), "max_score_difference": 0.0}
    ray.init(num_cpus=CPUS, include_dashboard=False, log_to_driver=False, configure_logging=False)
    logging.getLogger("ray").setLevel(logging.WARNING)
    rows += [row | _agreement(rankings, reference) for row, rankings in served_rows(args.model, requests)]
    ray.shutdown()
    for row in rows:
        row["ratio"] = row["requests_per_s"] / rows[0]["requests_per_s"]

    print(f"{len(requests)} requests x {args.documents} SciFact abstracts (BM25 top), {args.model}, {CPUS} CPUs")
    headers = ["route", "seconds", "requests/s", "x in process", "p50 ms", "p95 ms", "same order", "max score diff"]
    cells = [
        [
            r["route"],
            number(r["seconds"], 1),
            number(r["requests_per_s"], 2),
            number(r["ratio"], 2),
            number(r["p50_ms"], 0),
            number(r["p95_ms"], 0),
            f"{r['same_order']}/{len(requests)}",
            f"{r['max_score_difference']:.1e}",
        ]
        for r in rows
    ]
    print(format_table(headers, cells))
    if args.out:
        report = {"machine": machine, "model": args.model, "settings": vars(args) | {"out": str(args.out)}}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report | {"routes": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
