"""``crossrank bench`` on an LLM reranker: the recipe, full-head and crossrank rows, bf16 and fp32, same scores.

Tiny random causal LMs from the model zoo, in folders named like their hub repos (so the family is detected).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from model_zoo import build_gemma_causal_lm, build_qwen3_causal_lm
from typer.testing import CliRunner

from crossrank_cli.main import app
from crossrank_harness.bench.llm import LLM_PRECISIONS, LLM_ROUTES, llm_row_keys
from rerank_core.backends.cpu import this_cpu


@pytest.fixture(scope="module")
def llm_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("llm-bench")


@pytest.fixture(scope="module")
def qwen3_bench(scifact_slice_dir, llm_folder):
    model = build_qwen3_causal_lm(llm_folder / "Qwen3-Reranker-0.6B")
    out = llm_folder / "bench.json"
    args = ["bench", str(scifact_slice_dir), "--quick", "--device", "cpu", "--model", str(model), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result, json.loads(out.read_text())


def test_every_route_runs_in_both_precisions_on_two_list_lengths(qwen3_bench):
    _, report = qwen3_bench
    section = report["llm"]
    assert [row["row"] for row in section["rows"]] == llm_row_keys()
    assert len(llm_row_keys()) == len(LLM_ROUTES) * len(LLM_PRECISIONS)
    assert section["passages"] == [2, 4]
    assert "rows" not in report  # no cross-encoder baseline can load a causal LM
    for row in section["rows"]:
        assert set(row["speed"]) == {"2", "4"}
        for figures in row["speed"].values():
            assert figures["seconds"] > 0 and figures["passages_per_second"] > 0
        assert row["peak_rss_mib"] > 0
        assert row["mean_tokens"] > 0


def test_each_precision_is_the_one_asked_and_the_recipe_is_its_reference(qwen3_bench):
    _, report = qwen3_bench
    for row in report["llm"]["rows"]:
        assert row["precision_used"] == row["precision"]
        if row["row"].startswith("llm-recipe-"):
            assert all(figures["vs_recipe"] == 1.0 for figures in row["speed"].values())
            assert row["max_score_difference"] == 0.0


def test_the_three_routes_compute_the_same_scores(qwen3_bench):
    _, report = qwen3_bench
    for row in report["llm"]["rows"]:
        tolerance = 1e-4 if row["precision"] == "fp32" else 0.1
        assert row["max_score_difference"] < tolerance, row["row"]
        if row["precision"] == "fp32":
            assert row["agreement_with_recipe"]["kendall_tau"] == 1.0, row["row"]


def test_the_table_shows_every_row_and_the_cpu(qwen3_bench):
    result, report = qwen3_bench
    assert "LLM reranker" in result.stdout and "Qwen3-Reranker-0.6B" in result.stdout
    assert ("amx_bf16 yes" in result.stdout) == this_cpu().flags.get("amx_bf16", False)
    for label in LLM_ROUTES.values():
        assert result.stdout.count(label) == len(LLM_PRECISIONS)


def test_rows_can_be_selected_and_a_single_score_token_family_runs(scifact_slice_dir, llm_folder):
    model = build_gemma_causal_lm(llm_folder / "bge-reranker-v2-gemma")
    out = llm_folder / "gemma.json"
    args = ["bench", str(scifact_slice_dir), "--k", "3", "--device", "cpu", "--model", str(model)]
    result = CliRunner().invoke(app, [*args, "--rows", "llm-crossrank-fp32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    section = json.loads(out.read_text())["llm"]
    assert [row["row"] for row in section["rows"]] == ["llm-recipe-fp32", "llm-crossrank-fp32"]
    assert section["passages"] == [3]
    assert section["rows"][1]["max_score_difference"] < 1e-4
    unknown = CliRunner().invoke(app, [*args, "--rows", "core-*"])
    assert unknown.exit_code == 2 and "no row matches" in unknown.output
    plot = CliRunner().invoke(app, [*args, "--plot", str(llm_folder / "p.png")])
    assert plot.exit_code == 2 and "cross-encoders only" in plot.output
