"""``crossrank bench``: reranking speed against the usual tools, same model, inputs and token limit."""

from __future__ import annotations

import fnmatch
import json
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import typer

from rerank_core import DEFAULT_MODEL, ModelNotFoundError, RerankError
from rerank_core.backends.cpu import cpu_info
from rerank_core.engine.families import detect_family
from rerank_core.engine.limits import own_max_length, usable_positions
from rerank_core.engine.model_loading import CROSS_ENCODER, loading_model

from .bench_llm import llm_header, llm_table, run_llm_bench, select_llm_rows
from .bench_report import async_table, bench_header, bench_table, plot_throughput, summarise
from .bench_rows import BASELINE_KEY, BATCH_SIZE, RowConfig, RowSpec, bench_rows
from .bench_workload import Workload, build_workload
from .exit_codes import fail, reported_errors
from .options import (
    DataDirArgument,
    DeviceOption,
    ModelOption,
    OutOption,
    PlotOption,
    ProgressOption,
    k_option,
    queries_option,
)
from .output import write_json
from .system_info import environment
from .worker_process import run_in_fresh_process

FULL = {"queries": 200, "k": 100, "repeats": 20, "warmup": 3}
"""The standard run: 1 query x 100 passages (latency) and 200 queries x 100 passages (throughput)."""
QUICK = {"queries": 2, "k": 20, "repeats": 2, "warmup": 1}
"""``--quick``: the same rows on a few short calls, to check the set-up in about a minute."""
LLM_PASSAGES = {"full": (20, 100), "quick": (2, 4)}
"""Passages per timed call of an LLM reranker's rows (``--k K`` times K instead)."""


@dataclass(frozen=True)
class BenchSettings:
    """What ``crossrank bench`` runs."""

    data_dir: Path
    model: str
    queries: int
    k: int
    """Passages per query: the BM25 top ``k``."""
    repeats: int
    warmup: int
    max_length: int | None = None
    """Tokens per pair in every row; ``None`` is the model's own limit."""
    device: str | None = None
    progress: bool = True
    """Say on stderr which row runs and how long it took."""


def model_max_length(model: str) -> int:
    """The model's own token limit, read as crossrank's engine reads it.

    See :func:`rerank_core.engine.limits.own_max_length` and :func:`rerank_core.engine.limits.usable_positions`.
    """
    from transformers import AutoConfig, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
        config = AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(model, exc) from exc
    return own_max_length(tokenizer.model_max_length, usable_positions(config.to_dict()))


def is_llm_reranker(model: str) -> bool:
    """Whether ``model`` is a causal-LM reranker, whose rows are :mod:`crossrank_cli.bench_llm`'s.

    Raises:
        ModelNotFoundError, ModelLoadError: the model is missing, or is no reranker of a known family.
    """
    from transformers import AutoConfig

    with loading_model(model, CROSS_ENCODER):
        config = AutoConfig.from_pretrained(model).to_dict()
    return detect_family(model, config).head == "token-logits"


def run_worker(spec: RowSpec, config: RowConfig, workload_path: Path, folder: Path) -> dict[str, Any]:
    """Run one row in a fresh Python process; its result, or ``{"error": ...}`` with the end of its stderr."""
    job = {"row": spec.key, "config": asdict(config), "workload": str(workload_path)}
    return run_in_fresh_process("crossrank_cli.bench_worker", job, folder, spec.key)


def export_for_run(model: str, folder: Path) -> str | None:
    """Export ``model`` to ONNX once for the run (the ONNX rows and FastEmbed share it); ``None`` if it fails."""
    from rerank_core.backends.onnx_export import export_onnx

    try:
        return str(export_onnx(model, folder / "onnx"))
    except (RerankError, ImportError, RuntimeError, ValueError) as exc:
        typer.echo(f"ONNX export failed, so the ONNX and FastEmbed rows will fail: {exc}", err=True)
        return None


def select_rows(specs: list[RowSpec], patterns: list[str] | None) -> list[RowSpec]:
    """The rows whose key matches one of the shell-style ``patterns`` (all without), baseline always first."""
    if not patterns:
        return specs
    chosen = [s for s in specs if s.key == BASELINE_KEY or any(fnmatch.fnmatch(s.key, p) for p in patterns)]
    if len(chosen) == 1:
        keys = ", ".join(s.key for s in specs)
        raise typer.BadParameter(f"no row matches {', '.join(patterns)}; rows: {keys}", param_hint="--rows")
    return chosen


def run_bench(settings: BenchSettings, specs: list[RowSpec]) -> dict[str, Any]:
    """Build the workload, run every row in its own process, one after another; the JSON-ready report."""
    import torch

    config = RowConfig(
        model=settings.model,
        max_length=settings.max_length or model_max_length(settings.model),
        device=settings.device or ("cuda" if torch.cuda.is_available() else "cpu"),
        top_n=settings.k,
    )
    needs_onnx = any(s.key == "fastembed" or (s.options or {}).get("backend") == "onnx" for s in specs)
    workload = build_workload(
        settings.data_dir,
        queries=settings.queries,
        passages=settings.k,
        repeats=settings.repeats,
        warmup=settings.warmup,
    )
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="crossrank-bench-") as tmp:
        folder = Path(tmp)
        if needs_onnx:
            config = replace(config, onnx_model=export_for_run(settings.model, folder))
        workload_path = folder / "workload.json"
        workload_path.write_text(json.dumps(workload.to_json()), encoding="utf-8")
        for number, spec in enumerate(specs, start=1):
            if settings.progress:
                typer.echo(f"[{number}/{len(specs)}] {spec.label} ...", err=True)
            started = time.perf_counter()
            results[spec.key] = run_worker(spec, config, workload_path, folder)
            outcome = "failed" if "error" in results[spec.key] else "done"
            if settings.progress:
                typer.echo(f"    {outcome} in {time.perf_counter() - started:.1f} s", err=True)
    settings_json = {**asdict(settings), "data_dir": str(settings.data_dir), "batch_size": BATCH_SIZE}
    del settings_json["progress"]
    return {
        "command": "bench",
        "settings": settings_json,
        "row_config": asdict(config),
        "workload": _describe(workload),
        "machine": {"cpu": cpu_info().to_json(), "torch_threads": torch.get_num_threads()},
        "memory_measure": "peak RSS of each row's own fresh process (imports, model load and the run)",
        "rows": summarise(specs, results, workload),
        "environment": environment(),
    }


def run_llm(settings: BenchSettings, counts: tuple[int, ...], patterns: list[str] | None) -> dict[str, Any]:
    """The LLM reranker's rows (:mod:`crossrank_cli.bench_llm`); the JSON-ready report."""
    import torch

    try:
        chosen = select_llm_rows(patterns)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--rows") from None
    progress = (lambda line: typer.echo(line, err=True)) if settings.progress else None
    with tempfile.TemporaryDirectory(prefix="crossrank-bench-") as tmp:
        section = run_llm_bench(
            settings.data_dir,
            settings.model,
            counts=counts,
            chosen=chosen,
            max_length=settings.max_length,
            device=settings.device or ("cuda" if torch.cuda.is_available() else "cpu"),
            folder=Path(tmp),
            progress=progress,
        )
    return {
        "command": "bench",
        "settings": {**asdict(settings), "data_dir": str(settings.data_dir)},
        "machine": {"cpu": cpu_info().to_json(), "torch_threads": torch.get_num_threads()},
        "memory_measure": "peak RSS of each precision's own fresh process (imports, model load and the run)",
        "llm": section,
        "environment": environment(),
    }


def _describe(workload: Workload) -> dict[str, Any]:
    return {
        "warmup_calls": len(workload.warmup),
        "latency": {"queries": 1, "passages": len(workload.latency.ids), "repeats": workload.repeats},
        "throughput": {
            "queries": len(workload.throughput),
            "passages_per_query": len(workload.throughput[0].ids) if workload.throughput else 0,
        },
    }


def _size_default(size: str) -> str:
    """How ``--help`` states a size's default: ``200; 2 with --quick``."""
    return f"{FULL[size]}; {QUICK[size]} with --quick"


def bench_command(
    data_dir: DataDirArgument,
    model: ModelOption = DEFAULT_MODEL,
    quick: Annotated[
        bool, typer.Option("--quick", help=f"A short run: {QUICK['queries']} queries x {QUICK['k']} passages.")
    ] = False,
    queries: Annotated[int | None, queries_option(_size_default("queries"))] = None,
    k: Annotated[int | None, k_option(_size_default("k"))] = None,
    repeats: Annotated[
        int | None, typer.Option(min=1, show_default=_size_default("repeats"), help="Timed latency calls.")
    ] = None,
    warmup: Annotated[
        int | None, typer.Option(min=0, show_default=_size_default("warmup"), help="Untimed warm-up calls.")
    ] = None,
    max_length: Annotated[
        int | None, typer.Option(min=2, help="Tokens per pair in every row (default: the model's own limit).")
    ] = None,
    device: DeviceOption = None,
    rows: Annotated[
        list[str] | None,
        typer.Option(help="Run only the rows whose key matches (shell pattern, repeatable; the baseline always runs)."),
    ] = None,
    out: OutOption = None,
    plot: PlotOption = None,
    progress: ProgressOption = True,
) -> None:
    """Time reranking against LangChain, LlamaIndex and sentence-transformers on the same inputs.

    The inputs are DATA_DIR's queries with their BM25 top K passages.

    An LLM reranker (Qwen3-Reranker, mxbai-rerank-v2, bge-reranker-v2-gemma) gets its own rows instead:
    its model card's recipe, the full LM head and crossrank, in bf16 and fp32, on one query's BM25 top
    20 and 100 passages (--k K: K; --quick: 2 and 4).

    --plot charts passages/s per row (cross-encoders).
    """
    sizes = QUICK if quick else FULL
    settings = BenchSettings(
        data_dir=data_dir,
        model=model,
        queries=queries or sizes["queries"],
        k=k or sizes["k"],
        repeats=repeats or sizes["repeats"],
        warmup=sizes["warmup"] if warmup is None else warmup,
        max_length=max_length,
        device=device,
        progress=progress,
    )
    with reported_errors("eval"):
        if is_llm_reranker(model):
            if plot is not None:
                raise typer.BadParameter("charts the rows of cross-encoders only", param_hint="--plot")
            counts = (k,) if k else LLM_PASSAGES["quick" if quick else "full"]
            report = run_llm(settings, counts, rows)
            typer.echo(llm_header(report))
            typer.echo(llm_table(report["llm"]))
            if out is not None:
                write_json(report, out)
            if any("error" in row for row in report["llm"]["rows"]):
                fail("some rows failed; their errors are in the table" + (" and the JSON." if out else "."))
            return
        report = run_bench(settings, select_rows(bench_rows(), rows))
        typer.echo(bench_header(report))
        typer.echo(bench_table(report["rows"], report["workload"]))
        concurrency = async_table(report["rows"])
        if concurrency is not None:
            typer.echo("\nAsync: the same adapter calls awaited one by one, then concurrently (asyncio.gather)")
            typer.echo(concurrency)
        if out is not None:
            write_json(report, out)
        if plot is not None:
            plot.parent.mkdir(parents=True, exist_ok=True)
            plot_throughput(report["rows"], plot)
            typer.echo(f"Plot saved to {plot}")
    if any("error" in row for row in report["rows"]):
        fail("some rows failed; their errors are in the table" + (" and the JSON." if out else "."))
