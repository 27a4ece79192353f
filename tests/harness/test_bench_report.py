"""The bench summary from row results: ratios, agreement and failed rows (no processes started)."""

from __future__ import annotations

import math

import pytest

from crossrank_harness.bench.report import bench_table, rank_agreement, summarise
from crossrank_harness.bench.rows import BASELINE_KEY, bench_rows
from crossrank_harness.bench.workload import Request, Workload

IDS = [str(i) for i in range(12)]
WORKLOAD = Workload(
    warmup=[],
    latency=Request("q", IDS, ["t"] * 12),
    repeats=2,
    throughput=[Request("q1", IDS, ["t"] * 12), Request("q2", IDS, ["t"] * 12)],
)
DESCRIPTION = {
    "warmup_calls": 0,
    "latency": {"queries": 1, "passages": 12, "repeats": 2},
    "throughput": {"queries": 2, "passages_per_query": 12},
}


def _result(ms: float, rankings: list[list[str]]) -> dict:
    return {
        "setup_seconds": 1.0,
        "latency_ms": [ms, ms],
        "throughput_ms": [ms, ms],
        "rankings": rankings,
        "peak_rss_bytes": 300 * 2**20,
    }


def test_identical_rankings_agree_fully_and_reversed_ones_not_at_all():
    assert rank_agreement([IDS, IDS], [IDS, IDS]) == pytest.approx({"kendall_tau": 1.0, "top10_overlap": 1.0})
    reversed_ = rank_agreement([IDS], [IDS[::-1]])
    assert reversed_["kendall_tau"] == pytest.approx(-1.0)
    assert reversed_["top10_overlap"] == pytest.approx(8 / 10)  # 12 ids: the top 10s share 8


def test_ratios_agreement_and_a_failed_row_in_the_summary_and_table():
    specs = bench_rows()
    results = {spec.key: _result(100.0, [IDS, IDS]) for spec in specs}
    faster = specs[3].key
    results[faster] = _result(50.0, [IDS, IDS[:10] + IDS[10:][::-1]])
    failed = specs[4].key
    results[failed] = {"error": "Traceback ...\nModelLoadError: max_length=2 leaves no room\n"}
    summaries = {s["row"]: s for s in summarise(specs, results, WORKLOAD)}

    base = summaries[BASELINE_KEY]
    assert base["throughput"]["passages_per_second"] == pytest.approx(24 / 0.2)
    assert base["peak_rss_mib"] == pytest.approx(300)
    assert summaries[faster]["vs_langchain"] == {"throughput": 2.0, "latency_p50": 2.0}
    assert summaries[faster]["agreement_with_langchain"]["top10_overlap"] == 1.0
    assert summaries[faster]["agreement_with_langchain"]["kendall_tau"] < 1.0
    assert "vs_langchain" not in summaries[failed] and "error" in summaries[failed]

    table = bench_table(list(summaries.values()), DESCRIPTION)
    assert "failed: ModelLoadError: max_length=2 leaves no room" in table
    assert len(table.splitlines()) == 2 + len(specs)


def test_without_the_baseline_there_is_nothing_to_compare_with():
    specs = bench_rows()
    results = {spec.key: _result(100.0, [IDS, IDS]) for spec in specs}
    results[BASELINE_KEY] = {"error": "boom"}
    summaries = summarise(specs, results, WORKLOAD)
    assert all("vs_langchain" not in s for s in summaries)
    assert not math.isnan(summaries[1]["throughput"]["passages_per_second"])
