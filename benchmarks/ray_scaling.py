"""Beyond one process: Ray Data batch scoring with 1 and 2 actors, and Ray Serve against in-process scoring.

    python benchmarks/ray_scaling.py DATA_DIR [--model MODEL] [--queries 30] [--candidates 40]
        [--requests 48] [--request-size 20] [--concurrency 16] [--out results.json]

One run, one machine, ratios to the in-process baseline measured in the same run:

- Batch: the BM25 top ``--candidates`` of ``--queries`` SciFact queries as (query, abstract) rows, scored
  in process (``CrossEncoderScorer.score_groups`` over all rows, with every core) and by
  ``rerank_core.serving.batch.score_dataset`` on Ray Data with 1 actor x 1 CPU, 2 actors x 1 CPU and
  1 actor x all CPUs. Ray times are whole jobs: actor start-up and model loading included.
- Online: ``--requests`` requests of ``--request-size`` abstracts each, sent one by one to an in-process
  scorer (``rank``), concurrently to it through ``arank`` (micro-batched), and concurrently
  (``--concurrency`` at once) through ``RemoteScorer.arank`` to ``crossrank serve``'s application with one
  replica using every CPU, and with two replicas of 1 CPU each. Servers are warmed up first.

Every route uses the same model options (``precision="auto"``), so the rows differ only in how the
work is spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from crossrank_harness.ports import free_loopback_port
from crossrank_harness.table import format_table, number

CPUS = os.cpu_count() or 1


def _pairs(data_dir: str, queries: int, candidates: int) -> list[dict[str, str]]:
    """Rows (query_id, query, doc_id, text): each query's BM25 top ``candidates`` over the whole corpus."""
    from crossrank_harness.data import Bm25Retriever, load_beir

    data = load_beir(data_dir, "test").first_queries(queries)
    doc_ids = list(data.corpus)
    bm25 = Bm25Retriever(doc_ids, [data.doc_text(d) for d in doc_ids])
    qids = list(data.queries)
    hits = bm25.search([data.queries[q] for q in qids], candidates)
    return [
        {"query_id": q, "query": data.queries[q], "doc_id": d, "text": data.doc_text(d)}
        for q, row in zip(qids, hits)
        for d, _ in row
    ]


def _groups(rows: list[dict[str, str]]) -> list[tuple[str, list[str]]]:
    by_query: dict[str, tuple[str, list[str]]] = {}
    for row in rows:
        by_query.setdefault(row["query_id"], (row["query"], []))[1].append(row["text"])
    return list(by_query.values())


def _timed(run: Any, *args: Any) -> float:
    """Seconds ``run(*args)`` takes."""
    started = time.perf_counter()
    run(*args)
    return time.perf_counter() - started


def batch_rows(ray: Any, rows: list[dict[str, str]], model: str) -> list[dict[str, Any]]:
    """Passages/s in process and on Ray Data actor pools."""
    from rerank_core import CrossEncoderScorer
    from rerank_core.serving.batch import score_dataset

    scorer = CrossEncoderScorer(model).load()
    scorer.score("warm up", ["a short text"])
    groups = _groups(rows)
    results = [{"route": f"in process ({CPUS} threads)", "seconds": _timed(lambda: scorer.score_groups(groups))}]
    for actors, cpus in ((1, 1), (2, 1), (1, CPUS)):
        scored = score_dataset(ray.data.from_items(rows), model, actors=actors, num_cpus=cpus, rows_per_batch=100)
        seconds = _timed(scored.materialize)
        results.append({"route": f"Ray Data, {actors} actor(s) x {cpus} CPU", "seconds": seconds})
    for row in results:
        row["passages_per_s"] = len(rows) / row["seconds"]
        row["ratio"] = row["passages_per_s"] / results[0]["passages_per_s"]
    return results


async def _concurrently(calls: list[Any], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(call: Any) -> None:
        async with gate:
            await call()

    await asyncio.gather(*(one(call) for call in calls))


def online_rows(ray: Any, requests: list[tuple[str, list[str]]], model: str, concurrency: int) -> list[dict[str, Any]]:
    """Requests/s in process (sequential and async) and through Ray Serve."""
    from ray import serve

    from rerank_core import CrossEncoderScorer, RemoteScorer
    from rerank_core.serving.app import build_app

    scorer = CrossEncoderScorer(model).load()
    scorer.rank("warm up", ["a short text"])
    results = [
        {"route": "in process, one by one", "seconds": _timed(lambda: [scorer.rank(q, t) for q, t in requests])},
        {
            "route": f"in process, arank x {concurrency} concurrent",
            "seconds": _timed(
                lambda: asyncio.run(
                    _concurrently([lambda q=q, t=t: scorer.arank(q, t) for q, t in requests], concurrency)
                )
            ),
        },
    ]
    port = free_loopback_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    for replicas, cpus in ((1, CPUS), (2, 1)):
        serve.run(build_app(model, replicas=replicas, num_cpus=cpus), route_prefix="/")
        client = RemoteScorer(f"http://127.0.0.1:{port}", timeout=600)
        for query, texts in requests[: replicas * 2]:
            client.rank(query, texts)  # warm every replica
        calls = [lambda q=q, t=t, c=client: c.arank(q, t) for q, t in requests]
        seconds = _timed(asyncio.run, _concurrently(calls, concurrency))
        results.append(
            {"route": f"Ray Serve, {replicas} replica(s) x {cpus} CPU, {concurrency} concurrent", "seconds": seconds}
        )
        serve.delete("default")
    serve.shutdown()
    for row in results:
        row["requests_per_s"] = len(requests) / row["seconds"]
        row["ratio"] = row["requests_per_s"] / results[0]["requests_per_s"]
    return results


def _table(rows: list[dict[str, Any]], rate: str) -> str:
    """The rows' route, seconds, ``rate`` per second and ratio to the first row."""
    headers = ["route", "seconds", rate.replace("_per_s", "/s"), "x in process"]
    cells = [[r["route"], number(r["seconds"], 1), number(r[rate], 1), number(r["ratio"], 2)] for r in rows]
    return format_table(headers, cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir")
    parser.add_argument("--model", default=os.environ.get("CROSSRANK_MODEL", "cross-encoder/ms-marco-MiniLM-L6-v2"))
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--candidates", type=int, default=40)
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--request-size", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import logging

    import ray

    ray.init(num_cpus=CPUS, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray").setLevel(logging.WARNING)
    rows = _pairs(args.data_dir, args.queries, args.candidates)
    batch = batch_rows(ray, rows, args.model)
    print(f"Batch: {len(rows)} (query, abstract) pairs, {CPUS} CPUs\n{_table(batch, 'passages_per_s')}\n", flush=True)
    requests = [(g[0], g[1][: args.request_size]) for g in _groups(rows)]
    requests = (requests * (args.requests // len(requests) + 1))[: args.requests]
    online = online_rows(ray, requests, args.model, args.concurrency)
    print(f"Online: {len(requests)} requests x {args.request_size} abstracts\n{_table(online, 'requests_per_s')}")
    ray.shutdown()
    if args.out:
        report = {"cpus": CPUS, "model": args.model, "settings": vars(args) | {"out": str(args.out)}}
        args.out.write_text(json.dumps(report | {"batch": batch, "online": online}, indent=2) + "\n")


if __name__ == "__main__":
    main()
