"""Quality with the real cross-encoder on SciFact: the library never costs quality, and it lifts FAISS."""

from __future__ import annotations

import numpy as np
import pytest
from sentence_transformers import CrossEncoder

from crossrank_harness.data import evaluate_runs
from rerank_core import CrossEncoderScorer


def _candidates(retriever, dataset, k):
    qids = list(dataset.queries)
    hits = retriever.search([dataset.queries[q] for q in qids], k)
    return {q: [doc for doc, _ in row] for q, row in zip(qids, hits)}


def _run(candidates, score_lists):
    return {q: dict(zip(docs, map(float, scores))) for (q, docs), scores in zip(candidates.items(), score_lists)}


@pytest.fixture(scope="module")
def scorer(ce_model_path):
    return CrossEncoderScorer(ce_model_path, precision="fp32")


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))


def test_fidelity_to_plain_sentence_transformers_on_bm25_top30(scifact_first50, bm25_top30, fp32_logits, ce_model_path):
    data, candidates = scifact_first50, bm25_top30
    ours = [_sigmoid(fp32_logits[q]) for q in candidates]
    plain = CrossEncoder(ce_model_path, device="cpu")
    reference = [
        plain.predict([(data.queries[q], data.doc_text(d)) for d in docs], batch_size=32)
        for q, docs in candidates.items()
    ]
    bm25 = evaluate_runs(data.qrels, {q: {d: 30.0 - i for i, d in enumerate(docs)} for q, docs in candidates.items()})
    ours_ndcg = evaluate_runs(data.qrels, _run(candidates, ours))["ndcg@10"]
    plain_ndcg = evaluate_runs(data.qrels, _run(candidates, reference))["ndcg@10"]
    print(
        f"\nBM25 top-30, first 50 queries: BM25 {bm25['ndcg@10']:.3f}, "
        f"crossrank {ours_ndcg:.3f}, sentence-transformers {plain_ndcg:.3f}"
    )
    assert abs(ours_ndcg - plain_ndcg) <= 0.002
    np.testing.assert_allclose(np.concatenate(ours), np.concatenate(reference), atol=1e-4)


def test_reranking_faiss_top20_lifts_ndcg(scifact_sub, dense_sub, scorer):
    data = scifact_sub
    candidates = _candidates(dense_sub, data, 20)
    faiss_run = {q: {d: 20.0 - i for i, d in enumerate(docs)} for q, docs in candidates.items()}
    reranked = {}
    for q, docs in candidates.items():
        hits = scorer.rank(data.queries[q], [data.doc_text(d) for d in docs])
        reranked[q] = {docs[h.index]: h.score for h in hits}
    before = evaluate_runs(data.qrels, faiss_run)["ndcg@10"]
    after = evaluate_runs(data.qrels, reranked)["ndcg@10"]
    print(f"\nFAISS top-20 over the sub-corpus, 50 queries: nDCG@10 {before:.3f} -> reranked {after:.3f}")
    assert after > before


def test_max_chunk_finds_a_relevant_passage_at_token_2000(scifact, bm25_full, ce_model_path):
    """A relevant abstract buried after ~2,000 tokens of other abstracts ranks first only with max_chunk."""
    scorer = CrossEncoderScorer(ce_model_path)
    tokenizer = scorer.load()._loaded_model()[0].tokenizer
    filler_ids = [d for d in scifact.corpus if d not in {x for j in scifact.qrels.values() for x in j}][:40]
    for qid, judged in scifact.qrels.items():
        query = scifact.queries[qid]
        relevant = next(iter(judged))
        rivals = [d for d, _ in bm25_full.search([query], 10)[0] if d not in judged][:5]
        # The precondition: unburied, the model puts the relevant abstract above its BM25 rivals.
        short = scorer.rank(query, [scifact.doc_text(d) for d in [relevant, *rivals]])
        if short[0].index == 0:
            break
    filler, tokens = [], 0
    for d in filler_ids:
        if tokens >= 2000:
            break
        filler.append(scifact.doc_text(d))
        tokens += len(tokenizer.encode(filler[-1], add_special_tokens=False))
    long_doc = " ".join(filler) + " " + scifact.doc_text(relevant)
    texts = [long_doc] + [scifact.doc_text(d) for d in rivals]
    chunked = CrossEncoderScorer(ce_model_path, long_documents="max_chunk").rank(query, texts)
    truncated = scorer.rank(query, texts)
    print(
        f"\nquery {qid}: relevant passage after {tokens} tokens; max_chunk rank "
        f"{[h.index for h in chunked].index(0) + 1}, truncate rank {[h.index for h in truncated].index(0) + 1}"
    )
    assert tokens >= 1900
    assert chunked[0].index == 0
    assert truncated[0].index != 0


def test_bf16_keeps_the_ranking_of_fp32(scifact_first50, bm25_top30, fp32_logits, ce_model_path):
    """bf16, which ``precision="auto"`` picks on CPUs with AMX or AVX-512 BF16, against fp32."""
    data, candidates = scifact_first50, bm25_top30
    bf16 = CrossEncoderScorer(ce_model_path, precision="bf16", device="cpu")
    full = [_sigmoid(fp32_logits[q]) for q in candidates]
    half = [bf16.score(data.queries[q], [data.doc_text(d) for d in docs]) for q, docs in candidates.items()]
    overlap = np.mean(
        [len(set(np.argsort(-a)[:10]) & set(np.argsort(-b)[:10])) / 10 for a, b in zip(full, half, strict=True)]
    )
    diff = np.abs(np.concatenate(full) - np.concatenate(half)).max()
    ndcg_full = evaluate_runs(data.qrels, _run(candidates, full))["ndcg@10"]
    ndcg_half = evaluate_runs(data.qrels, _run(candidates, half))["ndcg@10"]
    print(
        f"\nbf16 vs fp32, BM25 top-30 of 50 queries: top-10 overlap {overlap:.3f}, max score diff {diff:.4f}, "
        f"nDCG@10 {ndcg_half:.4f} vs {ndcg_full:.4f}"
    )
    assert overlap >= 0.98
    assert abs(ndcg_half - ndcg_full) <= 0.005
