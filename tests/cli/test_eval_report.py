"""``crossrank eval``'s report records what ran (backend, resolved precision, device, CPU) and only the
metrics its candidates can fill. Tiny runs: 2 queries, a tiny random cross-encoder.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crossrank_cli.main import app
from rerank_core.backends.cpu import cpu_info, flags_text, this_cpu


def _eval(folder, model, out, *extra: str, env=None):
    """Run eval on ``folder``'s first 2 queries on the CPU; ``model=None`` leaves it to ``$CROSSRANK_MODEL``."""
    args = ["eval", str(folder), *"--queries 2 --device cpu --no-progress".split()]
    args += [] if model is None else ["--model", model]
    result = CliRunner().invoke(app, [*args, "--out", str(out), *extra], env=env)
    assert result.exit_code == 0, result.output
    return result, json.loads(out.read_text())


@pytest.mark.parametrize(
    ("k", "metrics", "headers"),
    [
        (5, {"ndcg@10", "recall@5", "mrr@10"}, "| nDCG@10 | R@5 | MRR@10 |"),
        (20, {"ndcg@10", "recall@10", "recall@20", "mrr@10"}, "| nDCG@10 | R@10 | R@20 | MRR@10 |"),
    ],
)
def test_no_metric_is_cut_deeper_than_the_candidates(scifact_slice_dir, tiny_model_dir, tmp_path, k, metrics, headers):
    result, report = _eval(scifact_slice_dir, tiny_model_dir, tmp_path / "report.json", "--k", str(k))
    assert set(report["first_stages"]["bm25"]["metrics"]) == metrics
    (row,) = report["reranked"]
    assert set(row["metrics"]) == metrics and set(row["lift"]) == metrics
    assert " ".join(headers.split()) in " ".join(result.stdout.split())
    assert "R@100" not in result.stdout


def test_the_report_and_title_record_the_resolved_precision_device_and_cpu(scifact_slice_dir, tiny_model_dir, tmp_path):
    env = {"CROSSRANK_MODEL": tiny_model_dir}
    result, report = _eval(scifact_slice_dir, None, tmp_path / "report.json", "--k", "5", env=env)
    auto = "bf16" if this_cpu().fast_bf16 else "fp32"
    assert report["settings"]["model"] == tiny_model_dir  # from $CROSSRANK_MODEL
    assert report["settings"]["precision"] == "auto"
    assert report["runtime"] == {
        "engine": "local",
        "backend": "torch",
        "precision": auto,
        "device": "cpu",
        "family": "cross-encoder",
        "recorded": "as run",
        "cpu": cpu_info().to_json(),
    }
    title = result.stdout.splitlines()[:3]
    assert title[0].endswith(
        f"2 queries, {report['dataset']['documents']} documents, top 5 candidates; cross-encoder {tiny_model_dir}"
    )
    assert (
        title[1]
        == f"Reranked: engine local | backend torch | family cross-encoder | precision {auto} (auto) | device cpu"
    )
    assert title[2].startswith(f"CPU: {this_cpu().model} (") and title[2].endswith(flags_text(this_cpu().flags))


def test_the_onnx_backend_is_recorded_with_its_precision(scifact_slice_dir, tiny_model_dir, cli_env, tmp_path):
    result, report = _eval(
        scifact_slice_dir, tiny_model_dir, tmp_path / "report.json", "--k", "5", "--backend", "onnx", env=cli_env
    )
    assert (report["runtime"]["backend"], report["runtime"]["precision"]) == ("onnx", "fp32")
    assert "backend onnx | family cross-encoder | precision fp32 (auto) | device cpu" in result.stdout


def test_an_llm_reranker_runs_with_its_family_and_instruction(scifact_slice_dir, cli_env, tmp_path):
    from model_zoo import build_qwen3_causal_lm

    model = str(build_qwen3_causal_lm(tmp_path / "Qwen3-Reranker-0.6B"))
    args = ["--k", "5", "--precision", "fp32", "--instruction", "Given a claim, find abstracts that support it"]
    result, report = _eval(scifact_slice_dir, model, tmp_path / "report.json", *args, env=cli_env)
    assert report["runtime"]["family"] == "qwen3-reranker" and report["settings"]["instruction"] == args[-1]
    assert "family qwen3-reranker | precision fp32" in result.stdout
