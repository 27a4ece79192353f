"""Batch reranking on Ray Data with the real model: 2,000 SciFact pairs scored by an actor pool."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from ray.exceptions import UserCodeException

from rerank_core import InvalidArgumentError, select
from rerank_core.serving.batch import rank_scored, score_dataset


@pytest.fixture(scope="module")
def rows(scifact_first50, bm25_top40) -> list[dict]:
    """One row per (query, BM25 candidate): 50 queries x 40 abstracts."""
    data = scifact_first50
    return [
        {"query_id": q, "query": data.queries[q], "doc_id": d, "text": data.doc_text(d), "bm25_rank": r}
        for q, docs in bm25_top40.items()
        for r, d in enumerate(docs)
    ]


@pytest.fixture(scope="module")
def scored(ray_local, rows, ce_model_path):
    """The rows scored (fp32, the default sigmoid relevance) by a pool of two actors."""
    dataset = ray_local.data.from_items(rows)
    out = score_dataset(dataset, ce_model_path, actors=2, rows_per_batch=200, precision="fp32")
    return out.to_pandas()


def test_scores_equal_the_local_scorer_on_2000_pairs(scored, rows, bm25_top40, fp32_logits40):
    assert len(scored) == len(rows) == 2000
    sigmoid = {q: 1 / (1 + np.exp(-logits.astype(np.float64))) for q, logits in fp32_logits40.items()}
    local = {(q, d): sigmoid[q][i] for q, docs in bm25_top40.items() for i, d in enumerate(docs)}
    diff = [abs(row.score - local[(row.query_id, row.doc_id)]) for row in scored.itertuples()]
    assert max(diff) < 1e-5


def test_other_columns_are_carried_through(scored, rows):
    by_key = {(r["query_id"], r["doc_id"]): r for r in rows}
    for row in scored.itertuples():
        source = by_key[(row.query_id, row.doc_id)]
        assert (row.query, row.text, row.bm25_rank) == (source["query"], source["text"], source["bm25_rank"])


def test_rankings_follow_the_core_rules(ray_local, scored):
    dataset = ray_local.data.from_pandas(scored)
    threshold = float(np.median(scored["score"]))
    ranked = rank_scored(dataset, top_n=5, min_score=threshold, partitions=4).to_pandas()
    for query_id, group in scored.groupby("query_id"):
        group = group.sort_values("doc_id", kind="stable")
        expected = select(group["score"].to_numpy(), top_n=5, min_score=threshold)
        got = ranked[ranked["query_id"] == query_id].sort_values("rank")
        assert got["doc_id"].tolist() == [group["doc_id"].iloc[hit.index] for hit in expected]
        assert got["rank"].tolist() == list(range(1, len(expected) + 1))


def test_a_bad_row_names_its_ids(ray_local, ce_model_path):
    rows = [
        {"query_id": "q1", "query": "what is a cell?", "doc_id": "d1", "text": "A cell is a unit of life."},
        {"query_id": "q1", "query": "what is a cell?", "doc_id": "d2", "text": None},
    ]
    dataset = score_dataset(ray_local.data.from_items(rows), ce_model_path, precision="fp32")
    with pytest.raises(UserCodeException, match=r"InvalidTextError: Row query_id='q1', doc_id='d2' has no text"):
        dataset.take_all()
    del dataset
    gc.collect()  # let Ray Data release the failed job's actor now


def test_missing_columns_and_bad_options_fail_before_running(ray_local, ce_model_path):
    dataset = ray_local.data.from_items([{"query_id": "q", "query": "x", "text": "y"}])
    with pytest.raises(InvalidArgumentError, match="doc_id"):
        score_dataset(dataset, ce_model_path)
    with pytest.raises(InvalidArgumentError, match="actors"):
        score_dataset(dataset, ce_model_path, actors=0)
    with pytest.raises(InvalidArgumentError, match="score column"):
        rank_scored(dataset)
