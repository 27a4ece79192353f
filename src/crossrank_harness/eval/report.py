"""``crossrank eval``'s outputs: the table on stdout, and the plot against the rerank window or the chunk size."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from crossrank_harness.system_info import cpu_line
from crossrank_harness.table import format_table, number

from .run import AS_RUN, chunk_size_label, scoring_label

METRIC_LABELS = {"ndcg": "nDCG", "recall": "R", "mrr": "MRR"}
"""Table headers of the metric families: ``recall@20`` is ``R@20``."""


def metric_label(metric: str) -> str:
    """The table header of a ranx metric name: ``ndcg@10`` -> ``nDCG@10``."""
    family, _, cutoff = metric.partition("@")
    return f"{METRIC_LABELS.get(family, family)}@{cutoff}"


def eval_table(report: dict[str, Any]) -> str:
    """The title lines, then one row per first stage alone and per (first stage, route, scoring, window) after
    reranking.

    The metric columns are the report's (none deeper than the candidates); the scoring columns are there when a
    row chunks long documents, with a note on the chunk options; Ray rows get a note on their throughput.
    """
    metrics = list(next(iter(report["first_stages"].values()))["metrics"])
    chunked = [row["scoring"] for row in report["reranked"] if row["scoring"]["long_documents"] == "max_chunk"]
    scoring_headers = ["scoring", "chunk size"] if chunked else []
    headers = [
        "first stage",
        "reranked via",
        *scoring_headers,
        "window",
        *(metric_label(m) for m in metrics),
        "nDCG@10 lift",
        "ms/query p50",
        "ms/query p95",
    ]
    rows = []
    for kind, stage in report["first_stages"].items():
        alone = ["-"] * len(scoring_headers)
        rows.append([kind, "-", *alone, "-", *(number(stage["metrics"][m]) for m in metrics), "-", "-", "-"])
        for row in report["reranked"]:
            if row["first_stage"] == kind:
                scoring = [scoring_label(row["scoring"]), chunk_size_label(row["scoring"])] if chunked else []
                rows.append(
                    [
                        kind,
                        row["via"],
                        *scoring,
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
    notes += [chunk_note(chunked)] if chunked else []
    return "\n".join([*eval_title(report), format_table(headers, rows), *notes])


def chunk_note(chunked: list[dict[str, Any]]) -> str:
    """How the ``max_chunk`` rows cut their texts: the overlaps and the chunk cap (the run's values)."""
    parts = []
    overlaps = {s["chunk_overlap"] for s in chunked if s["chunking"] != "sentence"}
    if overlaps:
        tokens = ", ".join("a quarter of a chunk" if o is None else f"{o} tokens" for o in sorted(overlaps, key=str))
        parts.append(f"window and word chunks overlap by {tokens}")
    sentences = {s["sentence_overlap"] for s in chunked if s["chunking"] == "sentence"}
    if sentences:
        parts.append(f"sentence chunks repeat {', '.join(map(str, sorted(sentences)))} sentence(s)")
    caps = ", ".join(map(str, sorted({s["max_chunks_per_doc"] for s in chunked})))
    parts.append(f"at most {caps} chunks per document are scored (the text beyond them is not read)")
    return "max_chunk: " + "; ".join(parts) + "; chunk size room: what the query leaves of the window."


def eval_title(report: dict[str, Any]) -> list[str]:
    """What was measured (data, queries, candidates, model), what reranked it, and on which CPU."""
    dataset, settings, runtime = report["dataset"], report["settings"], report["runtime"]
    long = dataset.get("long_documents")
    return [
        f"{settings['data_dir']} ({settings['split']}): {dataset['queries']} queries, {dataset['documents']} "
        f"{'long ' if long else ''}documents, top {settings['k']} candidates; cross-encoder {settings['model']}",
        *([long_corpus_text(long)] if long else []),
        f"Reranked: {runtime_text(runtime, settings['precision'])}",
        cpu_line(runtime["cpu"]),
    ]


def long_corpus_text(long: dict[str, Any]) -> str:
    """How ``--corpus long`` built its documents, from the report's summary of them."""
    others, grouped, chars = long["others_per_judged"], long["abstracts_per_distractor"], long["characters"]
    return (
        f"Long documents (seed {long['seed']}): {long['judged_documents']} each hide a judged abstract among "
        f"{others[0]}-{others[1]} others, {long['distractor_documents']} distractors of {grouped[0]}-{grouped[1]} "
        f"unjudged abstracts; {chars['min']:,}-{chars['max']:,} characters (median {chars['median']:,.0f})"
    )


def runtime_text(runtime: dict[str, Any], requested_precision: str) -> str:
    """``engine local | backend torch | family cross-encoder | precision bf16 (auto) | device cpu``; Ray's marked."""
    if runtime["recorded"] == AS_RUN:
        precision = runtime["precision"] + (" (auto)" if requested_precision == "auto" else "")
        device = runtime["device"]
    else:
        precision, device = f"{runtime['precision']} (requested)", f"{runtime['device']} (requested)"
    parts = [f"engine {runtime['engine']}", f"backend {runtime['backend']}", f"family {runtime['family']}"]
    return " | ".join([*parts, f"precision {precision}", f"device {device}"])


def plot_eval(report: dict[str, Any], path: Path) -> None:
    """Save the run's chart: against the chunk size when several were compared, else against the rerank window."""
    (plot_chunk_sizes if len(report["settings"]["chunk_sizes"]) > 1 else plot_windows)(report, path)


def plot_windows(report: dict[str, Any], path: Path) -> None:
    """Save a two-panel figure: nDCG@10 and mean ms per query against the rerank window size.

    One colour per first stage and scoring (the first stage's score alone is the dotted line), one marker per
    rerank route.
    """
    markers = {"core": ("o", "-"), "langchain": ("s", "--"), "llamaindex": ("^", ":")}
    several = len({scoring_label(r["scoring"]) for r in report["reranked"]}) > 1
    groups = _series(report, lambda row: (row["first_stage"], scoring_label(row["scoring"]), row["via"]))
    colours = {name[:2]: f"C{index}" for index, name in enumerate(dict.fromkeys(name[:2] for name, _ in groups))}
    figure, (quality, latency) = _figure()
    for kind, stage in report["first_stages"].items():
        colour = next(c for (stage_kind, _), c in colours.items() if stage_kind == kind)
        quality.axhline(stage["metrics"]["ndcg@10"], color=colour, linestyle=":", linewidth=1, label=f"{kind} alone")
    for (kind, scored, via), series in groups:
        series.sort(key=lambda r: r["rank_window_size"])
        windows = [r["rank_window_size"] for r in series]
        marker, style = markers.get(via, ("o", "-"))
        label = f"{kind} + rerank via {via}" + (f", {scored}" if several else "")
        look = {"color": colours[(kind, scored)], "marker": marker, "linestyle": style, "label": label}
        quality.plot(windows, [r["metrics"]["ndcg@10"] for r in series], **look)
        latency.plot(windows, [r["ms_per_query"]["mean"] for r in series], **look)
    _save(figure, quality, latency, "rank window size (candidates reranked)", path)


def plot_chunk_sizes(report: dict[str, Any], path: Path) -> None:
    """Save a two-panel figure: nDCG@10 and mean ms per query against ``max_chunk``'s chunk size.

    One line per chunking (and first stage, route and window where several were run); each first stage alone is
    a grey dotted line, each scoring without chunks (``truncate``) a dashed one.
    """
    rows = report["reranked"]
    varying = [key for key in ("first_stage", "via", "rank_window_size") if len({r[key] for r in rows}) > 1]

    def name(row: dict[str, Any]) -> str:
        return ", ".join([scoring_label(row["scoring"]), *(str(row[key]) for key in varying)])

    figure, (quality, latency) = _figure()
    for kind, stage in report["first_stages"].items():
        quality.axhline(stage["metrics"]["ndcg@10"], color="grey", linestyle=":", linewidth=1, label=f"{kind} alone")
    for index, (label, series) in enumerate(_series(report, name)):
        if series[0]["scoring"]["long_documents"] != "max_chunk":
            line = {"color": f"C{index}", "linestyle": "--", "linewidth": 1, "label": label}
            quality.axhline(series[0]["metrics"]["ndcg@10"], **line)
            latency.axhline(series[0]["ms_per_query"]["mean"], **line)
            continue
        series.sort(key=lambda r: r["scoring"]["chunk_size"])
        sizes = [r["scoring"]["chunk_size"] for r in series]
        look = {"color": f"C{index}", "marker": "o", "label": label}
        quality.plot(sizes, [r["metrics"]["ndcg@10"] for r in series], **look)
        latency.plot(sizes, [r["ms_per_query"]["mean"] for r in series], **look)
    _save(figure, quality, latency, "chunk size (tokens)", path)


def _figure() -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), layout="constrained")
    return figure, figure.subplots(1, 2)


def _series(report: dict[str, Any], key: Callable[[dict[str, Any]], Any]) -> list[tuple[Any, list[dict[str, Any]]]]:
    """The reranked rows grouped by ``key(row)``, in report order."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in report["reranked"]:
        groups.setdefault(key(row), []).append(row)
    return list(groups.items())


def _save(figure: Any, quality: Any, latency: Any, xlabel: str, path: Path) -> None:
    quality.set(xlabel=xlabel, ylabel="nDCG@10", title="Quality")
    latency.set(xlabel=xlabel, ylabel="ms per query (mean)", title="Rerank time")
    quality.legend(fontsize="small")
    latency.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
