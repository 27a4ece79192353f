"""``crossrank bench``'s figures per row, its comparison with the LangChain baseline and its table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crossrank_harness.stats import latency_summary
from crossrank_harness.system_info import cpu_line
from crossrank_harness.table import format_table, number

from .peak import Peak, Work
from .rows import BASELINE_KEY, RowSpec
from .workload import Workload

TOP_K_OVERLAP = 10


def rank_agreement(reference: Sequence[Sequence[str]], rankings: Sequence[Sequence[str]]) -> dict[str, float]:
    """Mean Kendall tau between the two rankings of each call, and mean overlap of their top 10 (0..1)."""
    from scipy.stats import kendalltau

    taus, overlaps = [], []
    for expected, got in zip(reference, rankings, strict=True):
        position = {doc: i for i, doc in enumerate(got)}
        common = [doc for doc in expected if doc in position]
        if len(common) >= 2:
            taus.append(kendalltau(range(len(common)), [position[doc] for doc in common]).statistic)
        k = min(TOP_K_OVERLAP, len(expected))
        if k:
            overlaps.append(len(set(expected[:k]) & set(got[:k])) / k)
    return {
        "kendall_tau": float(np.mean(taus)) if taus else float("nan"),
        f"top{TOP_K_OVERLAP}_overlap": float(np.mean(overlaps)) if overlaps else float("nan"),
    }


def summarise(
    specs: Sequence[RowSpec],
    results: dict[str, dict[str, Any]],
    workload: Workload,
    work: Work | None = None,
    peaks: Mapping[str, Peak] | None = None,
) -> list[dict[str, Any]]:
    """One JSON-ready summary per row; a row whose worker failed carries its ``error`` instead of figures.

    Rows are compared with the LangChain baseline when it ran: ``vs_langchain`` holds the speed
    ratios (above 1 is faster) and ``agreement_with_langchain`` the rank agreement on the throughput calls.
    With the throughput ``work``, each row has the ``tflops`` it achieved and, with the machine's ``peaks``, its
    ``peak_share`` of the peak of the precision it ran in.
    """
    passages = sum(len(request.ids) for request in workload.throughput)
    summaries = []
    for spec in specs:
        result = results[spec.key]
        label = spec.label
        if spec.options is not None and spec.options["precision"] == "auto" and result.get("precision"):
            label = label.replace(" auto)", f" auto = {result['precision']})")
        summary: dict[str, Any] = {"row": spec.key, "label": label, "kind": spec.kind}
        if "error" in result:
            summaries.append({**summary, "error": result["error"]})
            continue
        seconds = sum(result["throughput_ms"]) / 1000
        summary.update(
            setup_seconds=result["setup_seconds"],
            latency_ms=latency_summary(result["latency_ms"]),
            throughput={
                "passages": passages,
                "seconds": seconds,
                "passages_per_second": passages / seconds if seconds else float("nan"),
                "ms_per_query": latency_summary(result["throughput_ms"]),
            },
            peak_rss_mib=None if result["peak_rss_bytes"] is None else result["peak_rss_bytes"] / 2**20,
        )
        for key in ("precision", "async"):
            if key in result:
                summary[key] = result[key]
        if work is not None and seconds:
            summary["tflops"] = work.flop / seconds / 1e12
            peak = (peaks or {}).get(result.get("precision") or spec.precision)
            if peak is not None:
                summary["peak_share"] = summary["tflops"] / peak.tflops
        summaries.append(summary)
    reference = next((s for s in summaries if s["row"] == BASELINE_KEY and "error" not in s), None)
    if reference is not None:
        for summary in summaries:
            if "error" in summary:
                continue
            summary["vs_langchain"] = {
                "throughput": summary["throughput"]["passages_per_second"]
                / reference["throughput"]["passages_per_second"],
                "latency_p50": reference["latency_ms"]["p50"] / summary["latency_ms"]["p50"],
            }
            summary["agreement_with_langchain"] = rank_agreement(
                results[BASELINE_KEY]["rankings"], results[summary["row"]]["rankings"]
            )
    return summaries


def bench_header(report: dict[str, Any]) -> str:
    """The lines above the table: model and limits, machine, workloads and how memory is measured."""
    config, machine, load = report["row_config"], report["machine"], report["workload"]
    return "\n".join(
        [
            f"crossrank bench: {config['model']} | max length {config['max_length']} tokens | batch size "
            f"{report['settings']['batch_size']} | device {config['device']} | "
            f"torch threads {machine['torch_threads']}",
            cpu_line(machine["cpu"]),
            f"Inputs: BM25 top passages from {report['settings']['data_dir']}; latency = 1 query x "
            f"{load['latency']['passages']} passages, {load['latency']['repeats']} timed calls; throughput = "
            f"{load['throughput']['queries']} queries x {load['throughput']['passages_per_query']} passages; "
            f"{load['warmup_calls']} untimed warm-up call(s) per row",
            "Each row runs in its own fresh process; peak RSS is that process's peak. Agreement: with the "
            "LangChain baseline's rankings on the throughput queries.",
            *_work_lines(report),
        ]
    )


def _work_lines(report: dict[str, Any]) -> list[str]:
    """How TFLOP/s and the share of peak are computed, with the figures they rest on."""
    work = report.get("work")
    if not work:
        return ["TFLOP/s: not computed (the model's parameters cannot be read from a local safetensors checkpoint)."]
    lines = [
        f"TFLOP/s = 2 x {work['parameters'] / 1e6:.1f}M non-embedding parameters x {work['tokens']:,} tokens of the "
        "throughput calls / their seconds (matrix products only; attention's own products are left out)."
    ]
    peaks = report.get("peaks") or {}
    for precision, peak in peaks.items():
        lines.append(f"Peak {precision}: {peak['tflops']:.2f} TFLOP/s = {peak['how']}")
    if peaks:
        lines.append("% of peak: a row's TFLOP/s over the peak of the precision it ran in (logical cores counted).")
    return lines


def bench_table(summaries: Sequence[dict[str, Any]], workload: dict[str, Any]) -> str:
    """The rows as a table: latency on the repeated call, throughput on the many calls, memory, agreement.

    ``workload`` is the report's description of the workload.
    """
    latency = f"1x{workload['latency']['passages']}"
    many = f"{workload['throughput']['queries']}x{workload['throughput']['passages_per_query']}"
    headers = [
        "row",
        f"{latency} p50 ms",
        f"{latency} p95 ms",
        f"{many} passages/s",
        f"{many} p50 ms/query",
        f"{many} p95 ms/query",
        f"x LangChain ({latency} p50)",
        "x LangChain (passages/s)",
        "TFLOP/s",
        "% of peak",
        "peak RSS MiB",
        "Kendall tau",
        "top-10 overlap",
    ]
    rows = []
    for s in summaries:
        if "error" in s:
            last_line = (s["error"].strip().splitlines() or ["no message"])[-1]
            rows.append([s["label"], f"failed: {last_line[:60]}", *["-"] * (len(headers) - 2)])
            continue
        agreement = s.get("agreement_with_langchain", {})
        rows.append(
            [
                s["label"],
                number(s["latency_ms"]["p50"], 1),
                number(s["latency_ms"]["p95"], 1),
                number(s["throughput"]["passages_per_second"], 1),
                number(s["throughput"]["ms_per_query"]["p50"], 1),
                number(s["throughput"]["ms_per_query"]["p95"], 1),
                number(s.get("vs_langchain", {}).get("latency_p50"), 2),
                number(s.get("vs_langchain", {}).get("throughput"), 2),
                number(s.get("tflops"), 3),
                number(100 * s["peak_share"] if "peak_share" in s else None, 1),
                number(s["peak_rss_mib"], 0),
                number(agreement.get("kendall_tau"), 3),
                number(agreement.get(f"top{TOP_K_OVERLAP}_overlap"), 3),
            ]
        )
    return format_table(headers, rows)


def bench_text(report: dict[str, Any]) -> str:
    """What ``crossrank bench`` prints: the header, the rows' table and, where measured, the async table."""
    parts = [bench_header(report), bench_table(report["rows"], report["workload"])]
    concurrency = async_table(report["rows"])
    if concurrency is not None:
        title = "Async: the same adapter calls awaited one by one, then concurrently (asyncio.gather)"
        parts += ["", title, concurrency]
    return "\n".join(parts)


def async_table(summaries: Sequence[dict[str, Any]]) -> str | None:
    """Concurrent against sequential adapter calls, for the rows that measured it (``None`` if none did)."""
    measured = [s for s in summaries if "async" in s]
    if not measured:
        return None
    first = measured[0]["async"]
    calls = f"{first['calls']} calls x {first['passages_per_call']} passages"
    headers = ["row", f"{calls}: one by one s", "concurrent s", "speed-up", "same rankings", "max score diff"]
    rows = [
        [
            s["label"],
            number(s["async"]["sequential_seconds"], 2),
            number(s["async"]["concurrent_seconds"], 2),
            number(s["async"]["speedup"], 2),
            "yes" if s["async"]["same_rankings"] else "no",
            f"{s['async']['max_score_difference']:.1e}",
        ]
        for s in measured
    ]
    return format_table(headers, rows)


def plot_throughput(summaries: Sequence[dict[str, Any]], path: Path) -> None:
    """Save a bar chart of passages/s per row (baselines grey, references light, crossrank blue)."""
    from matplotlib.figure import Figure

    done = [s for s in summaries if "error" not in s]
    colours = {"baseline": "#9e9e9e", "reference": "#c6dbef", "crossrank": "#2171b5"}
    figure = Figure(figsize=(9, 0.38 * len(done) + 1.2), layout="constrained")
    axes = figure.subplots()
    values = [s["throughput"]["passages_per_second"] for s in done]
    axes.barh(range(len(done)), values, color=[colours[s["kind"]] for s in done])
    axes.set_yticks(range(len(done)), [s["label"] for s in done], fontsize=8)
    axes.invert_yaxis()
    for i, value in enumerate(values):
        axes.text(value, i, f" {value:.1f}", va="center", fontsize=8)
    axes.set_xlabel("passages/s (higher is better)")
    axes.set_title("crossrank bench: reranking throughput, same model, inputs and token limit", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
