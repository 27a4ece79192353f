"""One loaded model per configuration, and correct results from many threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rerank_core import CrossEncoderScorer, clear_scorers, get_scorer

QUERY = "cancer risk in zebrafish"
TEXT_SETS = [
    [f"zebrafish cell {i}", "red blue " * i, "cancer risk " * (i % 5 + 1), "music", "gene protein data " * (i % 7)]
    for i in range(16)
]


@pytest.fixture(autouse=True)
def fresh_registry():
    clear_scorers()
    yield
    clear_scorers()


def test_same_configuration_shares_one_instance(tiny_model_dir):
    first = get_scorer(tiny_model_dir, batch_size=8)
    assert get_scorer(tiny_model_dir, batch_size=8) is first
    assert get_scorer(tiny_model_dir, batch_size=16) is not first
    assert get_scorer(tiny_model_dir, batch_size=8, long_documents="max_chunk") is not first
    assert get_scorer(tiny_model_dir, batch_size=8, model_kwargs={"dtype": "float32"}) is not first
    assert isinstance(first, CrossEncoderScorer)


def test_device_none_and_the_device_it_resolved_to_share_a_loaded_model(tiny_model_dir):
    automatic = get_scorer(tiny_model_dir, batch_size=8)
    explicit = get_scorer(tiny_model_dir, batch_size=8, device="cpu")
    assert explicit is not automatic  # before loading, None is not resolved: two entries
    automatic.load()
    assert get_scorer(tiny_model_dir, batch_size=8, device=automatic.device_used) is automatic
    assert get_scorer(tiny_model_dir, batch_size=8) is automatic
    other = "cuda" if automatic.device_used == "cpu" else "cpu"
    assert get_scorer(tiny_model_dir, batch_size=8, device=other) is not automatic
    assert get_scorer(tiny_model_dir, batch_size=16, device="cpu") is not automatic  # other options


def test_concurrent_get_scorer_loads_once(tiny_model_dir, monkeypatch):
    from rerank_core import scorer as scorer_module

    calls = []
    real_load = scorer_module.load_backend

    def counting_load(*args, **kwargs):
        calls.append(args)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(scorer_module, "load_backend", counting_load)
    with ThreadPoolExecutor(8) as pool:
        scorers = list(pool.map(lambda _: get_scorer(tiny_model_dir).load(), range(16)))
    assert all(s is scorers[0] for s in scorers)
    assert len(calls) == 1


def test_eight_threads_score_exactly_as_sequential_calls(tiny_model_dir):
    scorer = get_scorer(tiny_model_dir, batch_size=2)
    sequential = [scorer.score(QUERY, texts) for texts in TEXT_SETS]
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(lambda texts: scorer.score(QUERY, texts), TEXT_SETS * 4))
    for i, scores in enumerate(concurrent):
        np.testing.assert_array_equal(scores, sequential[i % len(TEXT_SETS)])
