"""Two-stage retrieval in miniature: a FAISS first stage, then cross-encoder reranking.

Run it with ``scripts/demo`` (it sets up everything). Models come from ``CROSSRANK_EMBED_MODEL`` and
``CROSSRANK_MODEL`` (the hub defaults otherwise); the corpus is SciFact from ``CROSSRANK_SCIFACT``
(its first 50 judged test claims over their relevant abstracts plus 1,000 others) or, without it,
the small corpus of ``sample_corpus.py``. Prints, for a few claims, the first-stage top 5 and the reranked
top 5 with scores, then nDCG@10 before and after reranking over every judged query, and what to try next.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

from sample_corpus import sample_dataset
from tqdm import tqdm

from crossrank_harness.data import DenseRetriever, evaluate_runs
from rerank_core import DEFAULT_EMBED_MODEL, DEFAULT_MODEL, CrossEncoderScorer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=20, help="first-stage candidates per query")
    parser.add_argument("--show", type=int, default=3, help="claims to print in full")
    args = parser.parse_args()

    data, label = sample_dataset(queries=50, others=1000)
    embed_model = os.environ.get("CROSSRANK_EMBED_MODEL", DEFAULT_EMBED_MODEL)
    rerank_model = os.environ.get("CROSSRANK_MODEL", DEFAULT_MODEL)
    print(f"Corpus: {label}\nFirst stage: FAISS over {embed_model}\nReranker: {rerank_model}")
    print("Each result below reads: rank. [score] title; a * before the rank marks a passage judged relevant.\n")

    ids = list(data.corpus)
    start = time.perf_counter()
    dense = DenseRetriever(embed_model, ids, [data.doc_text(d) for d in ids], show_progress=True)
    print(f"Indexed {len(ids)} documents in {time.perf_counter() - start:.1f}s")
    qids = list(data.queries)
    first_stage = dict(zip(qids, dense.search([data.queries[q] for q in qids], args.k)))

    scorer = CrossEncoderScorer(rerank_model)
    reranked: dict[str, list[tuple[str, float]]] = {}
    start = time.perf_counter()
    for q in tqdm(qids, desc="Reranking", unit="query"):
        docs = [doc for doc, _ in first_stage[q]]
        hits = scorer.rank(data.queries[q], [data.doc_text(d) for d in docs])
        reranked[q] = [(docs[h.index], h.score) for h in hits]
    per_query_ms = 1000 * (time.perf_counter() - start) / len(qids)

    for q in qids[: args.show]:
        print(f"\nClaim {q}: {data.queries[q]}")
        for title, rows in (("FAISS top 5", first_stage[q]), ("Reranked top 5", reranked[q])):
            print(f"  {title}:")
            for rank, (doc, score) in enumerate(rows[:5], start=1):
                mark = "*" if data.qrels[q].get(doc) else " "
                print(f"   {mark}{rank}. [{score:6.3f}] {data.corpus[doc]['title'][:90]}")
    with warnings.catch_warnings():  # the metrics library's own numeric warnings are not the demo's news
        warnings.simplefilter("ignore")
        before = evaluate_runs(data.qrels, {q: dict(rows) for q, rows in first_stage.items()})
        after = evaluate_runs(data.qrels, {q: dict(rows) for q, rows in reranked.items()})
    print(f"\nOver {len(qids)} judged queries, top {args.k} candidates each:")
    print(f"  nDCG@10   FAISS {before['ndcg@10']:.3f}  ->  reranked {after['ndcg@10']:.3f}")
    print(f"  MRR@10    FAISS {before['mrr@10']:.3f}  ->  reranked {after['mrr@10']:.3f}")
    print(f"  rerank time: {per_query_ms:.0f} ms per query ({args.k} passages)")
    print("\nNext steps:")
    print("  your own documents:    examples/langchain_rag.py, examples/llamaindex_rag.py")
    print("  another cross-encoder: CROSSRANK_MODEL=<hub id or folder> scripts/demo")
    print("  a full evaluation:     crossrank eval DATA_DIR --first-stage dense  (any BEIR folder)")


if __name__ == "__main__":
    main()
