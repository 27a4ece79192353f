"""Reranking beyond one process: a batch job on Ray Data, then a served model used through LangChain.

Run: ``python examples/ray_rerank.py`` (needs ``crossrank[ray,langchain]``; ``scripts/demo`` sets up the
environment). It starts a local Ray; on a cluster, start it with ``ray.init(address="auto")`` instead.

1. Batch: every (claim, passage) pair of the corpus becomes a row of a Ray Data dataset, scored by a pool
   of two actors (``score_dataset``) and cut to each claim's top 3 (``rank_scored``).
2. Online: the same model is served on Ray Serve (what ``crossrank serve`` runs) and LangChain's
   ``CrossEncoderReranker`` reranks through it with ``RemoteScorer``, unchanged otherwise.

The corpus is ``sample_corpus.py``'s: SciFact when ``CROSSRANK_SCIFACT`` is set, else a small built-in one.
"""

from __future__ import annotations

import os
import socket

import ray
from langchain_core.documents import Document
from ray import serve
from sample_corpus import sample_dataset

from langchain_rerank import CrossEncoderReranker
from rerank_core import DEFAULT_MODEL, RemoteScorer
from rerank_core.serving import build_app, rank_scored, score_dataset


def free_port() -> int:
    """A free loopback port for the server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    data, label = sample_dataset(queries=3, others=40)
    model = os.environ.get("CROSSRANK_MODEL", DEFAULT_MODEL)
    print(f"Corpus: {label}\nReranker: {model}")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False

    rows = [
        {"query_id": q, "query": query, "doc_id": d, "text": data.doc_text(d)}
        for q, query in data.queries.items()
        for d in data.corpus
    ]
    top3 = rank_scored(score_dataset(ray.data.from_items(rows), model, actors=2), top_n=3, partitions=2)
    print(f"\nBatch: {len(rows)} pairs scored on 2 Ray Data actors; each claim's top 3")
    for row in sorted(top3.take_all(), key=lambda r: (r["query_id"], r["rank"])):
        mark = "*" if row["doc_id"] in data.qrels[row["query_id"]] else " "
        print(f" {row['query_id']:>5} {mark}{row['rank']}. [{row['score']:.3f}] [{row['doc_id']}]")

    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_app(model), route_prefix="/")
    url = f"http://127.0.0.1:{port}"
    qid, question = next(iter(data.queries.items()))
    documents = [Document(page_content=data.doc_text(d), id=d) for d in data.corpus]
    reranker = CrossEncoderReranker(model=RemoteScorer(url), top_n=3)
    print(f"\nOnline: served at {url}\nQuestion: {question}\nReranked through LangChain and the server:")
    for rank, doc in enumerate(reranker.compress_documents(documents, question), start=1):
        mark = "*" if doc.id in data.qrels[qid] else " "
        print(f" {mark}{rank}. [{doc.metadata['relevance_score']:.3f}] [{doc.id}] {doc.page_content[:80]}")
    print("(* = judged relevant)")
    serve.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    main()
