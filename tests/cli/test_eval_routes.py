"""``crossrank eval --via``: the LangChain and LlamaIndex adapters measured, several windows, the plot.

A tiny random cross-encoder keeps this fast: these tests are about the routes agreeing, not quality.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crossrank_cli.main import app


@pytest.fixture(scope="module")
def routes_report(scifact_slice_dir, tiny_model_dir, cli_env, tmp_path_factory):
    folder = tmp_path_factory.mktemp("routes")
    options = "--first-stage bm25 --k 10 --via core --via langchain --via llamaindex --no-progress"
    options += " --rank-window-size 10 --rank-window-size 3"
    args = ["eval", str(scifact_slice_dir), *options.split(), "--model", tiny_model_dir]
    args += ["--out", str(folder / "report.json"), "--plot", str(folder / "windows.png")]
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 0, result.output
    return json.loads((folder / "report.json").read_text()), folder


def test_every_route_and_window_is_reported(routes_report):
    report, _ = routes_report
    combos = [(r["first_stage"], r["via"], r["rank_window_size"]) for r in report["reranked"]]
    assert combos == [("bm25", via, w) for via in ("core", "langchain", "llamaindex") for w in (3, 10)]


def test_the_adapters_give_the_cores_rankings(routes_report):
    report, _ = routes_report
    by_key = {(r["via"], r["rank_window_size"]): r["metrics"] for r in report["reranked"]}
    for window in (3, 10):
        assert by_key[("langchain", window)] == by_key[("core", window)]
        assert by_key[("llamaindex", window)] == by_key[("core", window)]


def test_a_window_reorders_only_its_head(routes_report):
    report, _ = routes_report
    first_stage = report["first_stages"]["bm25"]["metrics"]
    for row in report["reranked"]:
        # Candidates outside the window stay below it, so the candidate set (recall at depth k) never changes.
        assert row["metrics"]["recall@10"] == pytest.approx(first_stage["recall@10"])
    small = next(r for r in report["reranked"] if r["via"] == "core" and r["rank_window_size"] == 3)
    full = next(r for r in report["reranked"] if r["via"] == "core" and r["rank_window_size"] == 10)
    assert small["metrics"] != full["metrics"]


def test_the_plot_is_a_png(routes_report):
    _, folder = routes_report
    assert (folder / "windows.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_window_wider_than_k_is_refused(scifact_slice_dir, tiny_model_dir):
    args = ["eval", str(scifact_slice_dir), "--k", "5", "--rank-window-size", "6", "--model", tiny_model_dir]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "--rank-window-size" in result.output and "6" in result.output
