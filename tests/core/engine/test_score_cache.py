"""The score cache: hits skip the model, the bound holds, keys separate queries, texts and options."""

from __future__ import annotations

import numpy as np
import pytest

from rerank_core import CrossEncoderScorer, InvalidArgumentError
from rerank_core.engine.score_cache import ScoreCache

QUERY = "zebrafish cancer risk"
TEXTS = ["zebrafish cells show cancer risk", "red blue green", "patients at risk " * 20, "", "red blue green"]


def _count_forward_pairs(scorer: CrossEncoderScorer) -> list[int]:
    """Record the batch sizes the loaded backend runs (it still runs: this wraps, it does not replace)."""
    backend = scorer.load()._loaded_model()[0]
    seen: list[int] = []
    real = backend.forward

    def counting(batch):
        seen.append(len(batch["input_ids"]))
        return real(batch)

    backend.forward = counting
    return seen


def test_hits_skip_the_model_and_return_the_same_scores(tiny_model_dir):
    cached = CrossEncoderScorer(tiny_model_dir, cache_size=100, precision="fp32")
    plain = CrossEncoderScorer(tiny_model_dir, precision="fp32")
    pairs = _count_forward_pairs(cached)
    first = cached.score(QUERY, TEXTS)
    assert sum(pairs) == len(TEXTS)
    again = cached.score(QUERY, TEXTS[::-1])
    assert sum(pairs) == len(TEXTS)  # every pair was a hit
    np.testing.assert_array_equal(again, first[::-1])
    np.testing.assert_allclose(first, plain.score(QUERY, TEXTS), atol=1e-6)
    assert cached.cache.hits == len(TEXTS) and cached.cache.misses == len(TEXTS)


def test_only_the_misses_are_scored(tiny_model_dir):
    scorer = CrossEncoderScorer(tiny_model_dir, cache_size=100, precision="fp32")
    pairs = _count_forward_pairs(scorer)
    scorer.score(QUERY, TEXTS[:2])
    scorer.score(QUERY, TEXTS)  # TEXTS[4] repeats TEXTS[1]: a hit
    assert sum(pairs) == 2 + 2
    scorer.score("another query", TEXTS[:1])
    assert sum(pairs) == 2 + 2 + 1


def test_the_bound_evicts_the_least_recently_used():
    cache = ScoreCache(2, namespace="m")
    a, b, c = cache.keys_for("q", ["a", "b", "c"])
    cache.put_many([a, b], [0.1, 0.2])
    assert cache.get_many([a]) == [pytest.approx(0.1)]  # a is now the most recent
    cache.put_many([c], [0.3])
    assert len(cache) == 2
    assert cache.get_many([a, b, c]) == [pytest.approx(0.1), None, pytest.approx(0.3)]


def test_keys_depend_on_namespace_query_and_text_and_accept_any_unicode():
    texts = ["x", "y", "\ud800 lone surrogate", "\x00nul"]
    keys = ScoreCache(10, "model-a").keys_for("q", texts)
    assert len(set(keys)) == len(texts)
    assert keys != ScoreCache(10, "model-b").keys_for("q", texts)
    assert keys != ScoreCache(10, "model-a").keys_for("q2", texts)
    assert keys == ScoreCache(10, "model-a").keys_for("q", texts)


def test_scorers_with_other_options_do_not_share_entries(tiny_model_dir):
    sigmoid = CrossEncoderScorer(tiny_model_dir, cache_size=10)
    logits = CrossEncoderScorer(tiny_model_dir, cache_size=10, activation="none")
    assert sigmoid.cache.keys_for(QUERY, TEXTS) != logits.cache.keys_for(QUERY, TEXTS)


@pytest.mark.parametrize("size", [-1, 1.5, True, "10"])
def test_bad_cache_sizes_are_refused(size):
    with pytest.raises(InvalidArgumentError, match="cache_size"):
        CrossEncoderScorer("some/model", cache_size=size)


def test_the_cache_is_off_by_default(tiny_model_dir):
    assert CrossEncoderScorer(tiny_model_dir).cache is None
