"""``cache_folder``: both backends read a hub id from it (offline, from a folder laid out as the hub's cache).

The offline runs are subprocesses with ``HF_HUB_OFFLINE=1`` and an empty ``HF_HOME``, as a user runs them:
``huggingface_hub`` reads both when it is imported, and with ``HF_HOME`` empty the model can only come from
``cache_folder``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rerank_core import CrossEncoderScorer, InvalidArgumentError
from rerank_core.backends.onnx_export import export_onnx
from rerank_core.engine.cache_dir import CACHE_DIR_ENV

QUERY = "Aspirin lowers the risk of a first heart attack."
TEXTS = [
    "In a randomised trial, low-dose aspirin reduced first myocardial infarction in men.",
    "Bananas are rich in potassium.",
]
REVISION = "0123456789abcdef0123456789abcdef01234567"
"""A commit hash for the snapshot (the hub cache names snapshots by 40 hex digits)."""


def hub_cache(root: Path, repo_id: str, model_dir: Path) -> Path:
    """``root`` laid out as the hub's cache, holding ``model_dir``'s files as ``repo_id``'s main revision.

    The layout ``huggingface_hub`` reads offline: ``models--ORG--NAME/refs/main`` names the snapshot,
    ``snapshots/REVISION/`` holds the files (here, links to the model's own files rather than to blobs).
    """
    repo = root / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    for file in model_dir.iterdir():
        if file.is_file():
            (snapshot / file.name).symlink_to(file.resolve())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)
    return root


def run_offline(code: str, tmp_path: Path) -> dict:
    """Run ``code`` offline with an empty ``HF_HOME`` and its own crossrank cache; it prints one JSON object."""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "empty-hf-home"),
        CACHE_DIR_ENV: str(tmp_path / "crossrank-cache"),
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_local_folder_loads_with_a_cache_folder_set(ce_model_path, tmp_path):
    cache = tmp_path / "hub-cache"
    with_cache = CrossEncoderScorer(ce_model_path, precision="fp32", cache_folder=cache)
    assert with_cache.cache_folder == str(cache)  # a Path is read as its string
    expected = CrossEncoderScorer(ce_model_path, precision="fp32").score(QUERY, TEXTS)
    np.testing.assert_allclose(with_cache.score(QUERY, TEXTS), expected, atol=1e-6)
    assert not cache.exists()  # nothing is downloaded for a local folder


def test_a_hub_id_loads_offline_from_the_cache_folder(ce_model_path, tiny_model_dir, tmp_path):
    torch_cache = hub_cache(tmp_path / "torch-cache", "crossrank-tests/minilm-scifact", Path(ce_model_path))
    exported = export_onnx(tiny_model_dir, tmp_path / "tiny-onnx")
    onnx_cache = hub_cache(tmp_path / "onnx-cache", "crossrank-tests/tiny-onnx", exported)
    code = f"""
import json
from rerank_core import CrossEncoderScorer, ModelNotFoundError

query, texts = {QUERY!r}, {TEXTS!r}
torch = CrossEncoderScorer("crossrank-tests/minilm-scifact", precision="fp32", cache_folder={str(torch_cache)!r})
onnx = CrossEncoderScorer("crossrank-tests/tiny-onnx", backend="onnx", cache_folder={str(onnx_cache)!r})
try:
    CrossEncoderScorer("crossrank-tests/minilm-scifact").load()
    missing = None
except ModelNotFoundError as exc:
    missing = str(exc)
print(json.dumps({{
    "torch": torch.score(query, texts).tolist(),
    "onnx": onnx.score(query, texts).tolist(),
    "missing": missing,
}}))
"""
    result = run_offline(code, tmp_path)
    np.testing.assert_allclose(
        result["torch"], CrossEncoderScorer(ce_model_path, precision="fp32").score(QUERY, TEXTS), atol=1e-5
    )
    np.testing.assert_allclose(
        result["onnx"], CrossEncoderScorer(str(exported), backend="onnx").score(QUERY, TEXTS), atol=1e-6
    )
    assert "crossrank-tests/minilm-scifact" in result["missing"]  # without cache_folder, the empty HF_HOME


def test_model_kwargs_may_not_set_what_options_set(ce_model_path, tmp_path):
    for keyword, option in (("cache_dir", "cache_folder"), ("trust_remote_code", "trust_remote_code")):
        scorer = CrossEncoderScorer(ce_model_path, model_kwargs={keyword: str(tmp_path)})
        with pytest.raises(InvalidArgumentError, match=f"model_kwargs sets {keyword}.*pass {option}="):
            scorer.load()
