"""``crossrank export-onnx``: writes a folder backend="onnx" loads; int8; clear errors with exit code 2."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from crossrank_cli.main import app
from rerank_core import CrossEncoderScorer
from rerank_core.backends.onnx_export import INT8_FILE, ONNX_FILE

QUERY = "zebrafish cancer risk"
TEXTS = ["zebrafish cells show an increase in cancer risk", "red blue green", "one"]


def test_the_command_writes_a_folder_the_onnx_backend_loads(tiny_model_dir, tmp_path):
    out = tmp_path / "exported"
    result = CliRunner().invoke(app, ["export-onnx", tiny_model_dir, str(out)])
    assert result.exit_code == 0, result.output
    assert f"to {out}" in result.stdout
    assert (out / ONNX_FILE).is_file() and (out / "tokenizer.json").is_file() and not (out / INT8_FILE).exists()
    onnx_scores = CrossEncoderScorer(str(out), backend="onnx").score(QUERY, TEXTS)
    torch_scores = CrossEncoderScorer(tiny_model_dir, precision="fp32").score(QUERY, TEXTS)
    np.testing.assert_allclose(onnx_scores, torch_scores, atol=1e-3)


def test_quantize_int8_also_writes_the_int8_graph(tiny_model_dir, tmp_path):
    out = tmp_path / "exported"
    result = CliRunner().invoke(app, ["export-onnx", tiny_model_dir, str(out), "--quantize", "int8", "--opset", "18"])
    assert result.exit_code == 0, result.output
    assert (out / ONNX_FILE).is_file() and (out / INT8_FILE).is_file()
    assert 'precision="int8"' in result.stdout
    scores = CrossEncoderScorer(str(out), backend="onnx", precision="int8").score(QUERY, TEXTS)
    assert scores.dtype == np.float32 and scores.shape == (3,)


def test_a_bad_model_path_exits_2_with_a_message(tmp_path):
    result = CliRunner().invoke(app, ["export-onnx", str(tmp_path / "nowhere"), str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"Error: Cannot find the cross-encoder '{tmp_path / 'nowhere'}'" in result.stderr
    assert "Traceback" not in result.output


def test_an_opset_out_of_range_is_a_usage_error(tiny_model_dir, tmp_path):
    result = CliRunner().invoke(app, ["export-onnx", tiny_model_dir, str(tmp_path / "out"), "--opset", "9"])
    assert result.exit_code == 2
    assert "--opset" in result.output
