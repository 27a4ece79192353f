"""backend="openvino" on a tiny random BERT: export, fidelity to torch, folder layouts, no torch, int8, errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from graph_inputs import QUERY, TEXTS

from rerank_core import CrossEncoderScorer, InvalidArgumentError, ModelLoadError
from rerank_core.backends.onnx_export import FAMILY_FILE, ONNX_FILE, export_onnx
from rerank_core.backends.openvino_export import calibration_inputs, export_openvino, read_calibration
from rerank_core.backends.openvino_files import INT8_IR_FILE, IR_FILE

ov = pytest.importorskip("openvino")

SIDE_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")


@pytest.fixture(scope="module")
def exported(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model exported as an IR, with its int8 IR calibrated on the built-in pairs."""
    return export_openvino(tiny_model_dir, tmp_path_factory.mktemp("exported"), quantize="int8")


@pytest.fixture(scope="module")
def torch_logits(tiny_model_dir) -> np.ndarray:
    return CrossEncoderScorer(tiny_model_dir, precision="fp32", activation="none").score(QUERY, TEXTS)


def ov_scorer(model: str | Path, **options) -> CrossEncoderScorer:
    return CrossEncoderScorer(str(model), backend="openvino", activation="none", **options)


def ov_logits(model: str | Path, **options) -> np.ndarray:
    return ov_scorer(model, **{"precision": "fp32", **options}).score(QUERY, TEXTS)


def compiled(scorer: CrossEncoderScorer):
    return scorer.load()._loaded_model()[0].compiled


def test_export_writes_a_self_contained_folder(exported):
    for name in (IR_FILE, "openvino_model.bin", INT8_IR_FILE, "openvino_model_int8.bin", *SIDE_FILES):
        assert (exported / name).is_file(), name
    assert json.loads((exported / FAMILY_FILE).read_text()) == {"family": "cross-encoder"}
    model = ov.Core().read_model(str(exported / IR_FILE))
    assert sorted(port.any_name for port in model.inputs) == ["attention_mask", "input_ids", "token_type_ids"]


def test_an_ir_folder_an_onnx_folder_and_a_checkpoint_score_as_torch_fp32(
    exported, tiny_model_dir, torch_logits, tmp_path
):
    np.testing.assert_allclose(ov_logits(exported), torch_logits, atol=1e-4)
    onnx_folder = export_onnx(tiny_model_dir, tmp_path / "onnx")
    np.testing.assert_allclose(ov_logits(onnx_folder), torch_logits, atol=1e-4)
    np.testing.assert_allclose(ov_logits(tiny_model_dir), torch_logits, atol=1e-4)  # via the cached ONNX export
    for batch_size in (1, 3):
        np.testing.assert_allclose(
            ov_scorer(exported, precision="fp32").score(QUERY, TEXTS, batch_size=batch_size), torch_logits, atol=1e-4
        )


def test_an_ir_in_the_openvino_subfolder_loads(exported, torch_logits, tmp_path):
    folder = tmp_path / "model"
    (folder / "openvino").mkdir(parents=True)
    for name in SIDE_FILES:
        shutil.copy(exported / name, folder / name)
    for name in (IR_FILE, "openvino_model.bin"):
        shutil.copy(exported / name, folder / "openvino" / name)
    scorer = ov_scorer(folder, precision="fp32")
    np.testing.assert_allclose(scorer.score(QUERY, TEXTS), torch_logits, atol=1e-4)
    assert not (folder / ONNX_FILE).exists()


def test_the_precision_hint_and_threads_reach_the_compiled_model(exported):
    fp32 = compiled(ov_scorer(exported, precision="fp32", threads=1))
    assert fp32.get_property("INFERENCE_PRECISION_HINT") == ov.Type.f32
    assert int(fp32.get_property("INFERENCE_NUM_THREADS")) == 1
    assert int(compiled(ov_scorer(exported, precision="fp32")).get_property("INFERENCE_NUM_THREADS")) == len(
        os.sched_getaffinity(0)
    )


def test_bf16_runs_and_stays_near_fp32(exported, torch_logits):
    scorer = ov_scorer(exported, precision="bf16")
    scores = scorer.score(QUERY, TEXTS)
    assert scorer.precision_used in ("bf16", "fp32")  # fp32 where the CPU has no bf16: reported as run
    np.testing.assert_allclose(scores, torch_logits, atol=5e-2)


def test_int8_runs_the_quantized_ir(exported):
    scorer = ov_scorer(exported, precision="int8")
    scores = scorer.score(QUERY, TEXTS)
    assert scorer.precision_used == "int8" and scores.dtype == np.float32 and np.isfinite(scores).all()
    ops = {op.get_type_name() for op in ov.Core().read_model(str(exported / INT8_IR_FILE)).get_ops()}
    assert "FakeQuantize" in ops or "FakeConvert" in ops
    assert not np.array_equal(scores, ov_logits(exported))  # it is the int8 IR that ran


def test_int8_of_a_folder_without_an_int8_ir_is_quantized_once_into_the_cache(exported, tmp_path, private_cache):
    folder = tmp_path / "model"
    folder.mkdir()
    for name in (*SIDE_FILES, IR_FILE, "openvino_model.bin"):
        shutil.copy(exported / name, folder / name)
    scores = ov_logits(folder, precision="int8")
    assert np.isfinite(scores).all()
    (built,) = (private_cache / "openvino").glob(f"model-*/{INT8_IR_FILE}")
    assert not list(folder.rglob(INT8_IR_FILE))
    made = built.stat().st_mtime_ns
    np.testing.assert_array_equal(ov_logits(folder, precision="int8"), scores)
    assert built.stat().st_mtime_ns == made


def test_calibration_pairs_are_tokenized_as_scoring_tokenizes_them(exported):
    items = calibration_inputs(
        exported, "cross-encoder", [(QUERY, TEXTS[0]), (QUERY, TEXTS[4])], ["input_ids", "attention_mask"]
    )
    _, encoder = ov_scorer(exported).load()._loaded_model()
    expected = encoder.encode(QUERY, [TEXTS[0], TEXTS[4]], None).encodings
    assert [item["input_ids"][0].tolist() for item in items] == [list(e.ids) for e in expected]
    assert set(items[0]) == {"input_ids", "attention_mask"} and items[1]["input_ids"].shape == (1, 128)


def test_concurrent_threads_each_get_their_own_request(exported):
    scorer = ov_scorer(exported, precision="fp32").load()
    expected = scorer.score(QUERY, TEXTS)
    results: list[np.ndarray] = []

    def score() -> None:
        for _ in range(5):
            results.append(scorer.score(QUERY, TEXTS))

    threads = [threading.Thread(target=score) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20
    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_scoring_an_ir_folder_never_imports_torch(exported):
    code = f"""
import importlib.abc, json, sys

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "transformers", "sentence_transformers", "onnxruntime"):
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)

sys.meta_path.insert(0, NoTorch())
from rerank_core import CrossEncoderScorer
scores = CrossEncoderScorer({str(exported)!r}, backend="openvino", precision="fp32", activation="none").score(
    {QUERY!r}, {TEXTS!r}
)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "sentence_transformers"))
print(json.dumps({{"scores": scores.tolist(), "heavy": heavy}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    np.testing.assert_allclose(out["scores"], ov_logits(exported), atol=1e-6)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"device": "cuda"}, InvalidArgumentError, "runs on the CPU"),
        ({"model_kwargs": {"dtype": "float16"}}, InvalidArgumentError, "model_kwargs"),
        ({"precision": "fp16"}, InvalidArgumentError, "fp32"),
    ],
    ids=["cuda", "model_kwargs", "fp16"],
)
def test_options_it_cannot_honour_are_refused(exported, options, error, match):
    with pytest.raises(error, match=match):
        ov_scorer(exported, **options).load()


def test_a_damaged_ir_names_the_file(exported, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for name in (*SIDE_FILES, "openvino_model.bin"):
        shutil.copy(exported / name, folder / name)
    (folder / IR_FILE).write_text("<net>not an IR", encoding="utf-8")
    with pytest.raises(ModelLoadError, match=r"OpenVINO cannot read .*openvino_model\.xml.*damaged"):
        ov_scorer(folder).load()


def test_calibration_files_are_read_strictly(tmp_path):
    good = tmp_path / "pairs.jsonl"
    good.write_text('{"query": "q", "text": "t"}\n\n{"query": "r", "text": "u", "label": 1}\n', encoding="utf-8")
    assert read_calibration(good) == [("q", "t"), ("r", "u")]
    for body, match in (
        ('{"query": "q"}\n', "line 1"),
        ('{"query": "q", "text": "t"}\nnot json\n', "line 2: not JSON"),
        ("\n", "no calibration pairs"),
    ):
        bad = tmp_path / "bad.jsonl"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(InvalidArgumentError, match=match):
            read_calibration(bad)
    with pytest.raises(InvalidArgumentError, match="at least one"):
        export_openvino("unused", tmp_path / "out", quantize="int8", calibration=[])
