"""The dense first stage's embedding cache: keyed by model and corpus, atomic, and robust to bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crossrank_harness.data import EmbeddingCache
from rerank_core.engine.cache_dir import CACHE_DIR_ENV, default_cache_dir

IDS = ["d1", "d2"]
TEXTS = ["Aspirin lowers cancer risk.", "Zebrafish regrow hearts."]


def test_the_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    assert EmbeddingCache().root == tmp_path / "elsewhere"


def test_without_the_variable_it_is_the_user_cache_folder(monkeypatch):
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    from platformdirs import user_cache_dir

    assert default_cache_dir() == Path(user_cache_dir("crossrank", appauthor=False))


@pytest.mark.parametrize(
    ("ids", "texts"),
    [
        (["d1", "dX"], TEXTS),  # an id changed
        (IDS, [TEXTS[0], TEXTS[1] + "!"]),  # a text changed
        (IDS[::-1], TEXTS[::-1]),  # the order changed
        (["d1d2", ""], ["", TEXTS[0] + TEXTS[1]]),  # the same characters, cut elsewhere
    ],
)
def test_the_key_changes_with_the_corpus(tmp_path, ids, texts):
    cache = EmbeddingCache(tmp_path)
    assert cache.path_for("some/model", ids, texts) != cache.path_for("some/model", IDS, TEXTS)
    again = EmbeddingCache(tmp_path).path_for("some/model", IDS, TEXTS)
    assert cache.path_for("some/model", IDS, TEXTS) == again


def test_the_key_changes_with_the_model_and_its_files(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    before = cache.path_for(str(folder), IDS, TEXTS)
    assert before != cache.path_for("other/model", IDS, TEXTS)
    (folder / "model.safetensors").write_bytes(b"retrained weights")
    assert cache.path_for(str(folder), IDS, TEXTS) != before
    assert before.parent == tmp_path / "cache" / "embeddings"
    assert before.name.startswith("model-")


def test_saved_embeddings_load_back_and_the_wrong_shape_or_a_broken_file_is_ignored(tmp_path):
    cache = EmbeddingCache(tmp_path)
    path = cache.path_for("m", IDS, TEXTS)
    assert cache.load(path, 2) is None
    vectors = np.arange(6, dtype=np.float32).reshape(2, 3)
    cache.save(path, vectors)
    np.testing.assert_array_equal(cache.load(path, 2), vectors)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    assert cache.load(path, 3) is None
    path.write_bytes(b"not an npy file")
    assert cache.load(path, 2) is None
