"""Quality through LangChain: FAISS top 20 reranked by the real cross-encoder beats FAISS alone on SciFact."""

from __future__ import annotations

from langchain_classic.retrievers import ContextualCompressionRetriever

from crossrank_harness.data import evaluate_runs
from langchain_rerank import CrossEncoderReranker

CANDIDATES = 20


def ranks_as_scores(docs) -> dict[str, float]:
    """A ranx run entry from a best-first list of documents."""
    return {doc.id: float(len(docs) - rank) for rank, doc in enumerate(docs)}


def test_reranking_faiss_top20_lifts_ndcg(scifact_sub, scifact_faiss, ce_model_path):
    first_stage = scifact_faiss.as_retriever(search_kwargs={"k": CANDIDATES})
    two_stage = ContextualCompressionRetriever(
        base_compressor=CrossEncoderReranker(model=ce_model_path, top_n=CANDIDATES),
        base_retriever=first_stage,
    )

    faiss_run, rerank_run = {}, {}
    for qid, question in scifact_sub.queries.items():
        candidates = first_stage.invoke(question)
        reranked = two_stage.invoke(question)
        assert len(candidates) == CANDIDATES
        assert sorted(doc.id for doc in reranked) == sorted(doc.id for doc in candidates)
        faiss_run[qid] = ranks_as_scores(candidates)
        rerank_run[qid] = {doc.id: doc.metadata["relevance_score"] for doc in reranked}

    faiss_alone = evaluate_runs(scifact_sub.qrels, faiss_run)
    reranked = evaluate_runs(scifact_sub.qrels, rerank_run)
    print(
        f"\nSciFact, first 50 test queries, relevant + 1,000 others: nDCG@10 FAISS top-{CANDIDATES} "
        f"{faiss_alone['ndcg@10']:.3f} -> reranked {reranked['ndcg@10']:.3f} "
        f"(MRR@10 {faiss_alone['mrr@10']:.3f} -> {reranked['mrr@10']:.3f})"
    )
    assert reranked["ndcg@10"] > faiss_alone["ndcg@10"]
