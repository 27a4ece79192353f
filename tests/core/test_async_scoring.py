"""Async scoring: concurrent calls share model batches, equal the sync scores, and survive cancellation."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from rerank_core import CrossEncoderScorer
from rerank_core.engine.microbatch import MicroBatcher

QUERIES = [f"query {i} about zebrafish cancer risk" for i in range(16)]
TEXTS = [f"passage {j}: " + "cells show risk " * (j % 7) for j in range(12)]


@pytest.fixture()
def scorer(tiny_model_dir):
    return CrossEncoderScorer(tiny_model_dir, precision="fp32", batch_size=8, batch_wait_ms=20).load()


def _count_groups(scorer: CrossEncoderScorer) -> list[int]:
    """Record the size of each shared group the scorer runs (the real model still runs)."""
    seen: list[int] = []
    real = scorer._run_group

    def counting(encodings):
        seen.append(len(encodings))
        return real(encodings)

    scorer._run_group = counting
    return seen


async def test_concurrent_calls_share_groups_and_equal_sync_scores(scorer):
    groups = _count_groups(scorer)
    results = await asyncio.gather(*(scorer.ascore(q, TEXTS) for q in QUERIES))
    assert sum(groups) == len(QUERIES) * len(TEXTS)
    assert len(groups) < len(QUERIES)  # requests were merged
    for query, got in zip(QUERIES, results):
        np.testing.assert_allclose(got, scorer.score(query, TEXTS), atol=1e-5)


async def test_arank_equals_rank(scorer):
    got = await scorer.arank(QUERIES[0], TEXTS, top_n=5, min_score=0.1, rank_window_size=10)
    expected = scorer.rank(QUERIES[0], TEXTS, top_n=5, min_score=0.1, rank_window_size=10)
    assert [r.index for r in got] == [r.index for r in expected]
    assert [r.score for r in got] == pytest.approx([r.score for r in expected], abs=1e-5)


async def test_cancelling_one_request_leaves_the_others_intact(scorer):
    tasks = [asyncio.create_task(scorer.ascore(q, TEXTS)) for q in QUERIES[:4]]
    await asyncio.sleep(0)
    tasks[1].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    for i in (0, 2, 3):
        np.testing.assert_allclose(done[i], scorer.score(QUERIES[i], TEXTS), atol=1e-5)
    # The scorer keeps serving afterwards.
    np.testing.assert_allclose(await scorer.ascore(QUERIES[1], TEXTS), scorer.score(QUERIES[1], TEXTS), atol=1e-5)


async def test_empty_input_and_cache_hits_never_reach_the_model(tiny_model_dir):
    scorer = CrossEncoderScorer(tiny_model_dir, cache_size=100)
    assert (await scorer.ascore("q", [])).shape == (0,)
    assert not scorer.loaded
    first = await scorer.ascore("q", TEXTS)
    groups = _count_groups(scorer)
    np.testing.assert_array_equal(await scorer.ascore("q", TEXTS), first)
    assert groups == []


async def test_a_model_error_reaches_every_request_of_its_group():
    def failing(encodings):
        raise RuntimeError("model exploded")

    batcher = MicroBatcher(failing, max_wait_ms=10, max_pairs=100)

    results = await asyncio.gather(*(batcher.submit([object()] * 3) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) and "exploded" in str(r) for r in results)


async def test_groups_respect_max_pairs():
    sizes: list[int] = []

    def run(encodings):
        sizes.append(len(encodings))
        return np.zeros((len(encodings), 1), dtype=np.float32)

    batcher = MicroBatcher(run, max_wait_ms=10, max_pairs=10)
    out = await asyncio.gather(*(batcher.submit([object()] * 4) for _ in range(5)))
    assert [len(o) for o in out] == [4] * 5
    assert sizes == [8, 8, 4]
