"""Cache entries: named by model slug and fingerprint, written beside their place and renamed into it."""

from __future__ import annotations

import os

import pytest

from rerank_core.engine.cache_files import build_atomically, fingerprint, slug


def test_a_folder_fingerprint_names_every_file_and_changes_when_one_does(tmp_path):
    folder = tmp_path / "model"
    (folder / "onnx").mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "onnx" / "model.onnx").write_bytes(b"graph")
    before = fingerprint(folder)
    assert before[0] == str(folder.resolve())
    assert [part.rsplit(":", 2)[0] for part in before[1:]] == ["model/config.json", "model/onnx/model.onnx"]
    (folder / "onnx" / "model.onnx").write_bytes(b"another graph")
    assert fingerprint(folder) != before
    assert fingerprint(folder / "config.json")[1].startswith("config.json:2:")


@pytest.mark.parametrize(
    ("model", "expected"),
    [("BAAI/bge-reranker-base", "bge-reranker-base"), ("/models/my model/", "my_model"), ("", "model")],
)
def test_the_slug_is_the_models_last_part_made_file_name_safe(model, expected):
    assert slug(model) == expected


def test_an_entry_appears_whole_and_leaves_no_scratch_behind(tmp_path):
    target = tmp_path / "cache" / "entry"

    def fill(folder):
        folder.mkdir()
        (folder / "graph").write_text("done")
        assert not target.exists()  # nothing at the entry's place until the build is complete

    build_atomically(target, fill)
    assert (target / "graph").read_text() == "done"
    assert os.listdir(tmp_path / "cache") == ["entry"]


def test_an_entry_another_process_finished_first_is_kept(tmp_path):
    target = tmp_path / "entry"
    target.mkdir()
    (target / "graph").write_text("theirs")

    def fill(folder):
        folder.mkdir()
        (folder / "graph").write_text("ours")

    build_atomically(target, fill)
    assert (target / "graph").read_text() == "theirs"
    assert os.listdir(tmp_path) == ["entry"]


def test_a_failed_build_leaves_nothing(tmp_path):
    def fail(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        build_atomically(tmp_path / "entry.npy", fail)
    assert os.listdir(tmp_path) == []
