"""``crossrank export-openvino``: writes a folder backend="openvino" loads; int8 on the user's calibration pairs;
clear errors with exit code 2."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from crossrank_cli.main import app
from rerank_core import CrossEncoderScorer
from rerank_core.backends.openvino_files import INT8_IR_FILE, IR_FILE

QUERY = "zebrafish cancer risk"
TEXTS = ["zebrafish cells show an increase in cancer risk", "red blue green", "one"]


def test_the_command_writes_an_ir_with_its_int8_ir_calibrated_on_a_file(tiny_model_dir, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    rows = [
        {"query": f"question {i} about {TEXTS[i % 3]}", "text": TEXTS[(i + 1) % 3] * (i % 5 + 1)} for i in range(40)
    ]
    pairs.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "exported"
    args = ["export-openvino", tiny_model_dir, str(out), "--quantize", "int8", "--calibration", str(pairs)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / IR_FILE).is_file() and (out / INT8_IR_FILE).is_file() and (out / "tokenizer.json").is_file()
    assert f"to {out}" in result.stdout and 'backend="openvino", precision="int8"' in result.stdout
    fp32 = CrossEncoderScorer(str(out), backend="openvino", precision="fp32").score(QUERY, TEXTS)
    torch_scores = CrossEncoderScorer(tiny_model_dir, precision="fp32").score(QUERY, TEXTS)
    np.testing.assert_allclose(fp32, torch_scores, atol=1e-4)
    int8 = CrossEncoderScorer(str(out), backend="openvino", precision="int8").score(QUERY, TEXTS)
    assert int8.dtype == np.float32 and np.isfinite(int8).all()


def test_bad_calibration_exits_2_with_the_line(tiny_model_dir, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"query": "q", "text": "t"}\n{"query": 3}\n', encoding="utf-8")
    args = ["export-openvino", tiny_model_dir, str(tmp_path / "out"), "--quantize", "int8", "--calibration", str(pairs)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "line 2" in result.stderr and "Traceback" not in result.output


def test_calibration_without_quantize_is_a_usage_error(tiny_model_dir, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"query": "q", "text": "t"}\n', encoding="utf-8")
    result = CliRunner().invoke(
        app, ["export-openvino", tiny_model_dir, str(tmp_path / "out"), "--calibration", str(pairs)]
    )
    assert result.exit_code == 2 and "--calibration" in result.output
    assert not (tmp_path / "out").exists()
