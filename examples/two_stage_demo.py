"""Two-stage retrieval in miniature: a FAISS first stage, then cross-encoder reranking.

Run it with ``scripts/demo`` (it sets up everything). Models come from ``CROSSRANK_EMBED_MODEL`` and
``CROSSRANK_MODEL`` (the hub defaults otherwise); the corpus is SciFact from ``CROSSRANK_SCIFACT``
(its first 50 judged test claims over their relevant abstracts plus 1,000 others) or, without it,
a small corpus written below. Prints, for a few claims, the first-stage top 5 and the reranked
top 5 with scores, then nDCG@10 before and after reranking over every judged query.
"""

from __future__ import annotations

import argparse
import os
import time

from crossrank_eval import BeirDataset, DenseRetriever, evaluate_runs, load_beir
from rerank_core import DEFAULT_MODEL, CrossEncoderScorer

SMALL_CORPUS = {
    "d1": ("Zebrafish heart regeneration", "Adult zebrafish regenerate heart muscle after injury through "
           "proliferation of existing cardiomyocytes."),
    "d2": ("Mouse heart repair", "Adult mouse hearts form scar tissue after infarction and regenerate little muscle."),
    "d3": ("Coffee and liver disease", "Regular coffee drinking is associated with lower risk of liver cirrhosis."),
    "d4": ("Tea consumption", "Green tea catechins show antioxidant effects in cell culture."),
    "d5": ("Vitamin D and fractures", "Vitamin D supplementation alone did not reduce hip fractures in older adults."),
    "d6": ("Calcium and bone density", "Calcium with vitamin D modestly increased bone mineral density."),
    "d7": ("Sleep and memory", "Sleep after learning consolidates declarative memory in young adults."),
    "d8": ("Exercise and cognition", "Aerobic exercise improved executive function in older adults."),
}
SMALL_QUERIES = {
    "q1": ("Zebrafish can regrow heart muscle.", {"d1": 1}),
    "q2": ("Drinking coffee protects the liver.", {"d3": 1}),
    "q3": ("Vitamin D supplements prevent hip fractures.", {"d5": 1}),
}


def load_corpus() -> tuple[BeirDataset, str]:
    """SciFact's 50-claim sub-corpus when available, else the small corpus above."""
    scifact = os.environ.get("CROSSRANK_SCIFACT")
    if scifact and os.path.isdir(scifact):
        data = load_beir(scifact, "test").first_queries(50).sub_corpus(1000, seed=0)
        return data, f"SciFact ({len(data.corpus)} abstracts, {len(data.queries)} judged claims)"
    corpus = {d: {"title": t, "text": x} for d, (t, x) in SMALL_CORPUS.items()}
    data = BeirDataset(corpus, {q: t for q, (t, _) in SMALL_QUERIES.items()},
                       {q: j for q, (_, j) in SMALL_QUERIES.items()})
    return data, f"a small built-in corpus ({len(corpus)} passages)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=20, help="first-stage candidates per query")
    parser.add_argument("--show", type=int, default=3, help="claims to print in full")
    args = parser.parse_args()

    data, label = load_corpus()
    embed_model = os.environ.get("CROSSRANK_EMBED_MODEL", "sentence-transformers/all-MiniLM-L6-v2")
    rerank_model = os.environ.get("CROSSRANK_MODEL", DEFAULT_MODEL)
    print(f"Corpus: {label}\nFirst stage: FAISS over {embed_model}\nReranker: {rerank_model}\n")

    ids = list(data.corpus)
    start = time.perf_counter()
    dense = DenseRetriever(embed_model, ids, [data.doc_text(d) for d in ids], show_progress=True)
    print(f"Indexed {len(ids)} documents in {time.perf_counter() - start:.1f}s")
    qids = list(data.queries)
    first_stage = dict(zip(qids, dense.search([data.queries[q] for q in qids], args.k)))

    scorer = CrossEncoderScorer(rerank_model)
    reranked: dict[str, list[tuple[str, float]]] = {}
    start = time.perf_counter()
    for q in qids:
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
    before = evaluate_runs(data.qrels, {q: dict(rows) for q, rows in first_stage.items()})
    after = evaluate_runs(data.qrels, {q: dict(rows) for q, rows in reranked.items()})
    print(f"\n(* = judged relevant)\nOver {len(qids)} judged queries, top {args.k} candidates each:")
    print(f"  nDCG@10   FAISS {before['ndcg@10']:.3f}  ->  reranked {after['ndcg@10']:.3f}")
    print(f"  MRR@10    FAISS {before['mrr@10']:.3f}  ->  reranked {after['mrr@10']:.3f}")
    print(f"  rerank time: {per_query_ms:.0f} ms per query ({args.k} passages)")


if __name__ == "__main__":
    main()
