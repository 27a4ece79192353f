"""Faults and safety: no network for local models, missing extras and corrupt weights named, no implicit remote code."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest

from rerank_core import CrossEncoderScorer, ModelLoadError

NO_NETWORK = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network call attempted")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
"""


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**_base_env(), **env},
        check=False,
    )


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("HF_")}


def test_a_local_model_loads_and_scores_with_the_network_cut(tiny_model_dir):
    finished = _run(
        NO_NETWORK
        + f"""
from langchain_core.documents import Document
from langchain_rerank import CrossEncoderReranker
from llama_index.core.schema import NodeWithScore, TextNode
from llamaindex_rerank import CrossEncoderRerank
from rerank_core import CrossEncoderScorer

model = {tiny_model_dir!r}
assert CrossEncoderScorer(model).score("q", ["a", "b"]).shape == (2,)
assert len(CrossEncoderReranker(model=model, top_n=1).compress_documents([Document(page_content="a")], "q")) == 1
nodes = [NodeWithScore(node=TextNode(text="a"))]
assert len(CrossEncoderRerank(model=model, top_n=1).postprocess_nodes(nodes, query_str="q")) == 1
print("scored offline")
""",
        HF_HUB_OFFLINE="1",
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "scored offline" in finished.stdout


@pytest.mark.parametrize(
    ("blocked", "backend", "extra"),
    [("onnxruntime", "onnx", "crossrank[onnx]"), ("transformers", "torch", "crossrank[torch]")],
)
def test_a_missing_backend_extra_is_named(tiny_model_dir, blocked, backend, extra):
    finished = _run(
        f"""
import sys
sys.modules[{blocked!r}] = None  # as if the package were not installed
from rerank_core import CrossEncoderScorer, MissingDependencyError
try:
    CrossEncoderScorer({tiny_model_dir!r}, backend={backend!r}).load()
except MissingDependencyError as exc:
    print("MISSING:", exc)
"""
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "MISSING:" in finished.stdout and extra in finished.stdout


def test_corrupt_weights_name_the_folder(tmp_path, tiny_model_dir):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    weights = next(broken.glob("*.safetensors"))
    weights.write_bytes(b"not a safetensors file" * 10)
    scorer = CrossEncoderScorer(str(broken))
    with pytest.raises(ModelLoadError, match="broken"):
        scorer.load()
    assert not scorer.loaded


def test_remote_code_is_off_unless_asked_for_everywhere():
    from langchain_rerank import CrossEncoderReranker
    from llamaindex_rerank import CrossEncoderRerank

    assert CrossEncoderScorer().trust_remote_code is False
    assert CrossEncoderReranker().trust_remote_code is False
    assert CrossEncoderRerank().trust_remote_code is False


def test_a_tokenizer_without_a_pair_template_is_refused(tmp_path, tiny_model_dir):
    import json

    from rerank_core.backends.onnx_export import export_onnx

    folder = export_onnx(tiny_model_dir, tmp_path / "onnx")
    tokenizer = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["post_processor"] = None  # joins no query and document: an embedding model's tokenizer
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    scorer = CrossEncoderScorer(str(folder), backend="onnx")
    with pytest.raises(ModelLoadError, match="no template for text pairs"):
        scorer.score("query", ["text"])
    assert not scorer.loaded


def test_ray_is_imported_only_by_the_distributed_modules():
    finished = _run(
        """
import sys
import rerank_core, langchain_rerank, llamaindex_rerank
from rerank_core import RemoteScorer
assert not [m for m in sys.modules if m.split(".")[0] in ("ray", "fastapi")], "ray imported"
sys.modules["ray"] = None  # as if Ray were not installed
from rerank_core import MissingDependencyError
from rerank_core.serving.batch import score_dataset
for load in (lambda: score_dataset(None), lambda: __import__("rerank_core.serving.app")):
    try:
        load()
    except MissingDependencyError as exc:
        print("MISSING:", exc)
"""
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert finished.stdout.count("crossrank[ray]") == 2, finished.stdout
