"""``crossrank bench --quick``: every baseline and crossrank row runs, in its own process, on the same inputs.

The tiny random cross-encoder keeps it fast; its 128-token limit (below LlamaIndex's hard-coded 512)
also shows that every row reads the same tokens: the rankings agree.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crossrank_cli.main import app
from crossrank_harness.bench.rows import BASELINE_KEY, MODES, bench_rows
from rerank_core.backends import BACKENDS
from rerank_core.backends.cpu import this_cpu

BASELINES = {"langchain-baseline", "llamaindex-baseline", "sentence-transformers"}
REFERENCES = {"sentence-transformers-bf16", "fastembed", "openvino-by-hand"}


@pytest.fixture(scope="module")
def quick_bench(scifact_slice_dir, tiny_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    args = ["bench", str(scifact_slice_dir), "--quick", "--device", "cpu", "--model", tiny_model_dir]
    args += ["--out", str(folder / "bench.json"), "--plot", str(folder / "bench.png")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result, json.loads((folder / "bench.json").read_text()), folder / "bench.png"


def test_every_baseline_reference_backend_and_precision_has_a_row(quick_bench):
    _, report, _ = quick_bench
    keys = [row["row"] for row in report["rows"]]
    assert keys == [spec.key for spec in bench_rows()]
    assert keys[0] == BASELINE_KEY
    assert BASELINES | REFERENCES <= set(keys)
    for backend in BACKENDS:
        for precision, vias in MODES[backend]:
            assert {f"{via}-{backend}-{precision}" for via in vias} <= set(keys)
    assert not [row for row in report["rows"] if "error" in row]


def test_every_row_reports_its_tflops_and_share_of_the_peak(quick_bench, scifact_slice_dir, tiny_model_dir):
    from transformers import AutoTokenizer

    from crossrank_harness.bench.workload import build_workload

    result, report, _ = quick_bench
    workload = build_workload(scifact_slice_dir, queries=2, passages=20, repeats=2, warmup=1)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokens = sum(
        len(tokenizer(request.query, text, truncation=True, max_length=128)["input_ids"])
        for request in workload.throughput
        for text in request.texts
    )
    assert report["work"]["tokens"] == tokens
    assert report["work"]["flop"] == 2 * report["work"]["parameters"] * tokens
    assert set(report["peaks"]) == {"fp32", "bf16", "int8"} and "TFLOP/s = 2 x" in result.output
    for row in report["rows"]:
        seconds = row["throughput"]["seconds"]
        assert row["tflops"] == pytest.approx(report["work"]["flop"] / seconds / 1e12), row["row"]
        precision = row.get("precision") or {spec.key: spec.precision for spec in bench_rows()}[row["row"]]
        assert row["peak_share"] == pytest.approx(row["tflops"] / report["peaks"][precision]["tflops"]), row["row"]
        assert 0 < row["peak_share"] < 1


def test_crossrank_rows_say_which_precision_ran(quick_bench):
    _, report, _ = quick_bench
    rows = {row["row"]: row for row in report["rows"]}
    auto = "bf16" if this_cpu().fast_bf16 else "fp32"
    assert rows["core-torch-auto"]["precision"] == auto
    assert f"auto = {auto}" in rows["core-torch-auto"]["label"]
    assert rows["core-torch-fp32"]["precision"] == "fp32"
    assert rows["core-onnx-int8"]["precision"] == "int8"


def test_async_calls_are_measured_through_both_adapters(quick_bench):
    result, report, _ = quick_bench
    measured = {row["row"]: row["async"] for row in report["rows"] if "async" in row}
    assert set(measured) == {"langchain-torch-auto", "llamaindex-torch-auto"}
    for figures in measured.values():
        assert figures["calls"] == 2 and figures["passages_per_call"] == 20  # --quick: 2 queries x 20
        assert figures["sequential_seconds"] > 0 and figures["concurrent_seconds"] > 0
        assert figures["max_score_difference"] < 1e-4
    assert "Async: the same adapter calls" in result.stdout


def test_the_plot_is_written(quick_bench):
    *_, plot = quick_bench
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rows_can_be_selected_and_the_baseline_always_runs(scifact_slice_dir, tiny_model_dir, tmp_path):
    out = tmp_path / "bench.json"
    args = ["bench", str(scifact_slice_dir), "--quick", "--device", "cpu", "--model", tiny_model_dir]
    result = CliRunner().invoke(app, [*args, "--rows", "core-torch-fp32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [row["row"] for row in json.loads(out.read_text())["rows"]] == [BASELINE_KEY, "core-torch-fp32"]
    unknown = CliRunner().invoke(app, [*args, "--rows", "nothing-*"])
    assert unknown.exit_code == 2 and "no row matches" in unknown.output


def test_rows_report_speed_memory_and_the_langchain_ratio(quick_bench):
    _, report, _ = quick_bench
    assert report["row_config"]["max_length"] == 128  # the tiny model's own limit
    assert report["workload"]["throughput"] == {"queries": 2, "passages_per_query": 20}
    for row in report["rows"]:
        assert row["throughput"]["passages"] == 40
        assert row["throughput"]["passages_per_second"] > 0
        assert 0 < row["latency_ms"]["p50"] <= row["latency_ms"]["p95"]
        assert row["peak_rss_mib"] > 50  # a process that imported torch and loaded a model
    baseline = report["rows"][0]
    assert baseline["vs_langchain"] == {"throughput": 1.0, "latency_p50": 1.0}


def test_every_fp32_row_ranks_like_the_langchain_baseline(quick_bench):
    _, report, _ = quick_bench
    for row in report["rows"]:
        agreement = row["agreement_with_langchain"]
        if row["kind"] != "baseline" and row.get("precision") != "fp32":
            assert 0 <= agreement["top10_overlap"] <= 1  # bf16 / int8 on a random tiny model: reported, not equal
            continue
        assert agreement["kendall_tau"] > 0.95, row["row"]
        assert agreement["top10_overlap"] == 1.0, row["row"]


def test_the_table_and_header_show_every_row_and_the_cpu_flags(quick_bench):
    result, report, _ = quick_bench
    for flag in ("avx2", "avx512_bf16", "avx512_vnni", "amx_bf16"):
        assert flag in result.stdout
    for row in report["rows"]:
        assert row["label"] in result.stdout


def test_a_missing_model_stops_before_any_row(scifact_slice_dir, tmp_path):
    result = CliRunner().invoke(app, ["bench", str(scifact_slice_dir), "--quick", "--model", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert f"Cannot find the cross-encoder {str(tmp_path / 'none')!r}" in result.stderr
    assert "[1/" not in result.stderr  # no row was started
