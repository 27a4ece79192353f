"""``crossrank eval --engine ray``: the same figures as reranking in-process, from a Ray Data job."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crossrank_cli.main import app


def run_eval(folder, model, out, *extra: str) -> dict:
    args = ["eval", str(folder), *"--first-stage bm25 --k 10 --precision fp32 --no-progress".split()]
    result = CliRunner().invoke(app, [*args, "--model", model, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text()) | {"stdout": result.stdout}


def test_ray_engine_reports_the_local_figures(ray_local, scifact_slice_dir, ce_model_path, tmp_path):
    local = run_eval(scifact_slice_dir, ce_model_path, tmp_path / "local.json")
    on_ray = run_eval(scifact_slice_dir, ce_model_path, tmp_path / "ray.json", "--engine", "ray", "--actors", "2")
    (local_row,), (ray_row,) = local["reranked"], on_ray["reranked"]
    assert ray_row["via"] == "ray (2 actors)" and ray_row["ray"]["actors"] == 2
    assert ray_row["ray"]["pairs_per_second"] > 0
    assert on_ray["first_stages"]["bm25"]["metrics"] == local["first_stages"]["bm25"]["metrics"]
    for metric, value in local_row["metrics"].items():
        assert ray_row["metrics"][metric] == pytest.approx(value, abs=1e-9), metric
    assert ray_row["lift"]["ndcg@10"] > 0
    assert "pairs/s over the whole job" in on_ray["stdout"]
    # The actors resolve precision and device themselves: the report records what they were asked for.
    recorded = {key: on_ray["runtime"][key] for key in ("engine", "precision", "device", "recorded")}
    assert recorded == {"engine": "ray", "precision": "fp32", "device": "auto", "recorded": "as requested"}
    assert "family auto | precision fp32 (requested) | device auto (requested)" in on_ray["stdout"]
    assert local["runtime"]["recorded"] == "as run" and local["runtime"]["precision"] == "fp32"


def test_via_and_ray_engine_do_not_mix(scifact_slice_dir):
    result = CliRunner().invoke(app, ["eval", str(scifact_slice_dir), "--engine", "ray", "--via", "langchain"])
    assert result.exit_code == 2
    assert "--engine ray" in result.output
