"""``crossrank eval``'s outputs: the table on stdout and the window plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crossrank_harness.system_info import cpu_line
from crossrank_harness.table import format_table, number

from .run import AS_RUN

METRIC_LABELS = {"ndcg": "nDCG", "recall": "R", "mrr": "MRR"}
"""Table headers of the metric families: ``recall@20`` is ``R@20``."""


def metric_label(metric: str) -> str:
    """The table header of a ranx metric name: ``ndcg@10`` -> ``nDCG@10``."""
    family, _, cutoff = metric.partition("@")
    return f"{METRIC_LABELS.get(family, family)}@{cutoff}"


def eval_table(report: dict[str, Any]) -> str:
    """The title lines, then one row per first stage alone and per (first stage, route, window) after reranking.

    The metric columns are the report's (none deeper than the candidates); Ray rows get a note on their
    throughput under the table.
    """
    metrics = list(next(iter(report["first_stages"].values()))["metrics"])
    headers = [
        "first stage",
        "reranked via",
        "window",
        *(metric_label(m) for m in metrics),
        "nDCG@10 lift",
        "ms/query p50",
        "ms/query p95",
    ]
    rows = []
    for kind, stage in report["first_stages"].items():
        rows.append([kind, "-", "-", *(number(stage["metrics"][m]) for m in metrics), "-", "-", "-"])
        for row in report["reranked"]:
            if row["first_stage"] == kind:
                rows.append(
                    [
                        kind,
                        row["via"],
                        str(row["rank_window_size"]),
                        *(number(row["metrics"][m]) for m in metrics),
                        f"{row['lift']['ndcg@10']:+.3f}",
                        number(row["ms_per_query"]["p50"], 1),
                        number(row["ms_per_query"]["p95"], 1),
                    ]
                )
    notes = [
        f"{row['via']}, {row['first_stage']}, window {row['rank_window_size']}: {row['ray']['pairs_per_second']:.1f} "
        f"pairs/s over the whole job ({row['ray']['seconds']:.1f} s, actor start-up included)"
        for row in report["reranked"]
        if "ray" in row
    ]
    return "\n".join([*eval_title(report), format_table(headers, rows), *notes])


def eval_title(report: dict[str, Any]) -> list[str]:
    """What was measured (data, queries, candidates, model), what reranked it, and on which CPU."""
    dataset, settings, runtime = report["dataset"], report["settings"], report["runtime"]
    return [
        f"{settings['data_dir']} ({settings['split']}): {dataset['queries']} queries, {dataset['documents']} "
        f"documents, top {settings['k']} candidates; cross-encoder {settings['model']}",
        f"Reranked: {runtime_text(runtime, settings['precision'])}",
        cpu_line(runtime["cpu"]),
    ]


def runtime_text(runtime: dict[str, Any], requested_precision: str) -> str:
    """``engine local | backend torch | family cross-encoder | precision bf16 (auto) | device cpu``; Ray's marked."""
    if runtime["recorded"] == AS_RUN:
        precision = runtime["precision"] + (" (auto)" if requested_precision == "auto" else "")
        device = runtime["device"]
    else:
        precision, device = f"{runtime['precision']} (requested)", f"{runtime['device']} (requested)"
    parts = [f"engine {runtime['engine']}", f"backend {runtime['backend']}", f"family {runtime['family']}"]
    return " | ".join([*parts, f"precision {precision}", f"device {device}"])


def plot_windows(report: dict[str, Any], path: Path) -> None:
    """Save a two-panel figure: nDCG@10 and mean ms per query against the rerank window size.

    One colour per first stage (its score alone is the dotted line), one marker per rerank route.
    """
    from matplotlib.figure import Figure

    markers = {"core": ("o", "-"), "langchain": ("s", "--"), "llamaindex": ("^", ":")}
    figure = Figure(figsize=(10, 4), layout="constrained")
    quality, latency = figure.subplots(1, 2)
    for index, (kind, stage) in enumerate(report["first_stages"].items()):
        colour = f"C{index}"
        quality.axhline(stage["metrics"]["ndcg@10"], color=colour, linestyle=":", linewidth=1, label=f"{kind} alone")
        rows = [r for r in report["reranked"] if r["first_stage"] == kind]
        for via in dict.fromkeys(r["via"] for r in rows):
            series = sorted((r for r in rows if r["via"] == via), key=lambda r: r["rank_window_size"])
            windows = [r["rank_window_size"] for r in series]
            marker, style = markers.get(via, ("o", "-"))
            look = {"color": colour, "marker": marker, "linestyle": style, "label": f"{kind} + rerank via {via}"}
            quality.plot(windows, [r["metrics"]["ndcg@10"] for r in series], **look)
            latency.plot(windows, [r["ms_per_query"]["mean"] for r in series], **look)
    quality.set(xlabel="rank window size (candidates reranked)", ylabel="nDCG@10", title="Quality")
    latency.set(xlabel="rank window size (candidates reranked)", ylabel="ms per query (mean)", title="Rerank time")
    quality.legend(fontsize="small")
    latency.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
