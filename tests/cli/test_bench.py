"""``crossrank bench --quick``: every baseline and crossrank row runs, in its own process, on the same inputs.

The tiny random cross-encoder keeps it fast; its 128-token limit (below LlamaIndex's hard-coded 512)
also shows that every row reads the same tokens: the rankings agree.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crossrank_cli.bench_rows import BASELINE_KEY, bench_rows
from crossrank_cli.main import app
from rerank_core.backends import BACKENDS

BASELINES = {"langchain-baseline", "llamaindex-baseline", "sentence-transformers"}


@pytest.fixture(scope="module")
def quick_bench(scifact_slice_dir, tiny_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    args = ["bench", str(scifact_slice_dir), "--quick", "--device", "cpu", "--model", tiny_model_dir]
    args += ["--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result, json.loads(out.read_text())


def test_every_baseline_and_every_backend_has_a_row(quick_bench):
    _, report = quick_bench
    keys = [row["row"] for row in report["rows"]]
    assert keys == [spec.key for spec in bench_rows()]
    assert keys[0] == BASELINE_KEY
    assert BASELINES <= set(keys)
    for backend in BACKENDS:
        assert {f"core-{backend}", f"langchain-{backend}", f"llamaindex-{backend}"} <= set(keys)
    assert not [row for row in report["rows"] if "error" in row]


def test_rows_report_speed_memory_and_the_langchain_ratio(quick_bench):
    _, report = quick_bench
    assert report["row_config"]["max_length"] == 128  # the tiny model's own limit
    assert report["workload"]["throughput"] == {"queries": 2, "passages_per_query": 20}
    for row in report["rows"]:
        assert row["throughput"]["passages"] == 40
        assert row["throughput"]["passages_per_second"] > 0
        assert 0 < row["latency_ms"]["p50"] <= row["latency_ms"]["p95"]
        assert row["peak_rss_mib"] > 50  # a process that imported torch and loaded a model
    baseline = report["rows"][0]
    assert baseline["vs_langchain"] == {"throughput": 1.0, "latency_p50": 1.0}


def test_every_row_ranks_like_the_langchain_baseline(quick_bench):
    _, report = quick_bench
    for row in report["rows"]:
        agreement = row["agreement_with_langchain"]
        assert agreement["kendall_tau"] > 0.95, row["row"]
        assert agreement["top10_overlap"] == 1.0, row["row"]


def test_the_table_and_header_show_every_row_and_the_cpu_flags(quick_bench):
    result, report = quick_bench
    for flag in ("avx2", "avx512_bf16", "avx512_vnni", "amx_bf16"):
        assert flag in result.stdout
    for row in report["rows"]:
        assert row["label"] in result.stdout


def test_a_missing_model_stops_before_any_row(scifact_slice_dir, tmp_path):
    result = CliRunner().invoke(app, ["bench", str(scifact_slice_dir), "--quick", "--model", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert f"Cannot find the cross-encoder {str(tmp_path / 'none')!r}" in result.stderr
    assert "[1/" not in result.stderr  # no row was started
