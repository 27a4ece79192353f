"""backend="onnx" on a tiny random BERT: export, fidelity to torch, folder layouts, no torch, options, errors, cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from graph_inputs import QUERY, TEXTS
from onnx import TensorProto, helper

from rerank_core import (
    CrossEncoderScorer,
    DeviceUnavailableError,
    InvalidArgumentError,
    ModelLoadError,
    ModelNotFoundError,
)
from rerank_core.backends import onnx_export
from rerank_core.backends.onnx_export import INT8_FILE, ONNX_FILE, export_onnx
from rerank_core.engine.cache_dir import CACHE_DIR_ENV

FOLDER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")


@pytest.fixture(scope="module")
def exported(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model exported with both graphs (fp32 and int8)."""
    return export_onnx(tiny_model_dir, tmp_path_factory.mktemp("exported"), quantize="int8")


@pytest.fixture(scope="module")
def torch_logits(tiny_model_dir) -> np.ndarray:
    return CrossEncoderScorer(tiny_model_dir, precision="fp32", activation="none").score(QUERY, TEXTS)


def onnx_logits(model: str | Path, **options) -> np.ndarray:
    return CrossEncoderScorer(str(model), backend="onnx", activation="none", **options).score(QUERY, TEXTS)


def copy_folder(source: Path, target: Path, *, graph_in_subfolder: bool = False, skip: tuple[str, ...] = ()) -> Path:
    """A model folder with the graph at the root or in onnx/ (the hub / FastEmbed layout)."""
    (target / "onnx").mkdir(parents=True)
    for name in FOLDER_FILES:
        if name not in skip:
            shutil.copy(source / name, target / name)
    shutil.copy(source / ONNX_FILE, target / ("onnx" if graph_in_subfolder else "") / ONNX_FILE)
    return target


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )


def test_export_writes_a_self_contained_folder(exported):
    for name in (ONNX_FILE, INT8_FILE, *FOLDER_FILES):
        assert (exported / name).is_file(), name
    tokenizer_config = json.loads((exported / "tokenizer_config.json").read_text())
    assert tokenizer_config["model_max_length"] == 128
    assert json.loads((exported / "special_tokens_map.json").read_text())["pad_token"] == "[PAD]"
    graph = onnx.load(str(exported / ONNX_FILE))
    assert [i.name for i in graph.graph.input] == ["input_ids", "token_type_ids", "attention_mask"]


def test_exported_scores_match_torch_fp32(exported, torch_logits):
    np.testing.assert_allclose(onnx_logits(exported), torch_logits, atol=1e-3)
    chunked = CrossEncoderScorer(str(exported), backend="onnx", long_documents="max_chunk").score(QUERY, TEXTS)
    assert chunked.dtype == np.float32 and chunked.shape == (len(TEXTS),)


@pytest.mark.parametrize("graph_in_subfolder", [False, True], ids=["model.onnx", "onnx/model.onnx"])
def test_a_folder_that_ships_onnx_weights_loads(exported, torch_logits, tmp_path, graph_in_subfolder):
    folder = copy_folder(exported, tmp_path / "model", graph_in_subfolder=graph_in_subfolder)
    np.testing.assert_allclose(onnx_logits(folder), torch_logits, atol=1e-3)


def test_a_shipped_graph_without_config_json_is_a_pair_classifier(exported, torch_logits, tmp_path):
    folder = copy_folder(exported, tmp_path / "model", skip=("config.json",))
    np.testing.assert_allclose(onnx_logits(folder), torch_logits, atol=1e-3)


def test_a_checkpoint_is_exported_once_into_the_cache(tiny_model_dir, torch_logits, private_cache, monkeypatch):
    np.testing.assert_allclose(onnx_logits(tiny_model_dir), torch_logits, atol=1e-3)
    (graph,) = (private_cache / "onnx").glob(f"{Path(tiny_model_dir).name}-*/{ONNX_FILE}")
    assert not (Path(tiny_model_dir) / ONNX_FILE).exists()
    built = graph.stat().st_mtime_ns

    def no_second_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_export, "export_onnx", no_second_export)
    np.testing.assert_allclose(onnx_logits(tiny_model_dir), torch_logits, atol=1e-3)
    assert graph.stat().st_mtime_ns == built


def test_scoring_an_onnx_folder_never_imports_torch(exported, tiny_model_dir, tmp_path):
    code = f"""
import importlib.abc, json, sys

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers", "sentence_transformers"):
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)

sys.meta_path.insert(0, NoTorch())
from rerank_core import CrossEncoderScorer, MissingDependencyError
scores = CrossEncoderScorer({str(exported)!r}, backend="onnx", activation="none").score({QUERY!r}, {TEXTS!r})
try:
    CrossEncoderScorer({tiny_model_dir!r}, backend="onnx").score("q", ["t"])
    error = None
except MissingDependencyError as exc:
    error = str(exc)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "sentence_transformers"))
print(json.dumps({{"scores": scores.tolist(), "error": error, "heavy": heavy}}))
"""
    result = run_python(code, **{CACHE_DIR_ENV: str(tmp_path / "empty-cache")})
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    np.testing.assert_allclose(out["scores"], onnx_logits(exported), atol=1e-6)
    assert 'pip install "crossrank[torch]"' in out["error"] and "crossrank export-onnx" in out["error"]


def test_threads_reach_the_session(exported):
    def session_threads(**options) -> int:
        backend = CrossEncoderScorer(str(exported), backend="onnx", **options).load()._loaded_model()[0]
        return backend.session.get_session_options().intra_op_num_threads

    assert session_threads(threads=1) == 1
    assert session_threads() == len(os.sched_getaffinity(0))


def test_int8_runs_and_returns_float32(exported, torch_logits):
    scorer = CrossEncoderScorer(str(exported), backend="onnx", precision="int8", activation="none").load()
    backend = scorer._loaded_model()[0]
    assert backend.precision == "int8"
    assert any(node.op_type == "MatMulNBits" for node in onnx.load(str(exported / INT8_FILE)).graph.node)
    scores = scorer.score(QUERY, TEXTS)
    assert scores.dtype == np.float32 and scores.shape == (len(TEXTS),) and np.isfinite(scores).all()
    assert not np.array_equal(scores, onnx_logits(exported))  # it is the int8 graph that ran


def test_int8_of_a_folder_without_an_int8_graph_is_quantized_into_the_cache(exported, tmp_path, private_cache):
    folder = copy_folder(exported, tmp_path / "model", graph_in_subfolder=True)
    scores = onnx_logits(folder, precision="int8")
    assert scores.dtype == np.float32 and np.isfinite(scores).all()
    assert list(folder.rglob(INT8_FILE)) == []
    assert list((private_cache / "onnx").glob(f"model-*/{INT8_FILE}"))


def test_quantizing_leaves_the_root_logger_alone(exported, tmp_path):
    code = f"""
import logging
from pathlib import Path
from rerank_core.backends.onnx_export import quantize_int8
quantize_int8(Path({str(exported / ONNX_FILE)!r}), Path({str(tmp_path / INT8_FILE)!r}))
print(logging.getLogger().handlers, logging.getLevelName(logging.getLogger().level))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "WARNING"]
    assert (tmp_path / INT8_FILE).is_file()


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_half_precisions_are_refused(exported, precision):
    with pytest.raises(InvalidArgumentError, match="fp32"):
        CrossEncoderScorer(str(exported), backend="onnx", precision=precision).load()


@pytest.mark.skipif("CUDAExecutionProvider" in ort.get_available_providers(), reason="this onnxruntime has CUDA")
def test_cuda_without_the_cuda_provider_names_the_fix(exported):
    with pytest.raises(DeviceUnavailableError, match="onnxruntime-gpu"):
        CrossEncoderScorer(str(exported), backend="onnx", device="cuda").load()


def test_model_kwargs_are_refused(exported):
    with pytest.raises(InvalidArgumentError, match="model_kwargs"):
        CrossEncoderScorer(str(exported), backend="onnx", model_kwargs={"dtype": "float16"}).load()


def test_missing_tokenizer_json_names_the_file_and_the_fix(exported, tmp_path):
    folder = copy_folder(exported, tmp_path / "model", skip=("tokenizer.json",))
    with pytest.raises(ModelLoadError, match=r"no tokenizer\.json.*crossrank export-onnx"):
        CrossEncoderScorer(str(folder), backend="onnx").load()


def test_a_corrupt_graph_names_the_file(exported, tmp_path):
    folder = copy_folder(exported, tmp_path / "model")
    (folder / ONNX_FILE).write_bytes(b"not an onnx graph" * 100)
    with pytest.raises(ModelLoadError, match=r"cannot load .*model\.onnx.*damaged"):
        CrossEncoderScorer(str(folder), backend="onnx").load()


def _write_graph(path: Path, inputs: list, output) -> None:
    """A one-node graph that casts its first input to the output."""
    node = helper.make_node("Cast", [inputs[0].name], [output.name], to=output.type.tensor_type.elem_type)
    onnx.save(helper.make_model(helper.make_graph([node], "other", inputs, [output])), str(path))


@pytest.mark.parametrize(
    ("inputs", "output", "message"),
    [
        (  # an image model: other inputs
            [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3])],
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3]),
            r"takes pixel_values \(tensor\(float\)\)",
        ),
        (  # an embedding model: token inputs but per-token vectors out
            [
                helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
                helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
            ],
            helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence"] + [1]),
            r"outputs last_hidden_state .*another kind of model",
        ),
    ],
    ids=["other inputs", "other outputs"],
)
def test_a_graph_of_another_architecture_is_refused(exported, tmp_path, inputs, output, message):
    folder = copy_folder(exported, tmp_path / "model")
    _write_graph(folder / ONNX_FILE, inputs, output)
    with pytest.raises(ModelLoadError, match=message):
        CrossEncoderScorer(str(folder), backend="onnx").load()


def test_an_unknown_hub_id_offline_is_model_not_found(tmp_path):
    code = """
from rerank_core import CrossEncoderScorer, ModelNotFoundError
try:
    CrossEncoderScorer("crossrank-tests/no-such-cross-encoder", backend="onnx").load()
except ModelNotFoundError as exc:
    print("ModelNotFoundError:", exc)
"""
    result = run_python(code, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"), **{CACHE_DIR_ENV: str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "ModelNotFoundError: Cannot find the cross-encoder 'crossrank-tests/no-such-cross-encoder'" in result.stdout
    assert "HF_HUB_OFFLINE" in result.stdout


def test_a_missing_local_path_is_model_not_found(tmp_path):
    with pytest.raises(ModelNotFoundError):
        CrossEncoderScorer(str(tmp_path / "nowhere"), backend="onnx").load()
