"""``crossrank bench``: reranking speed against the usual tools, same model, inputs and token limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from crossrank_harness.bench.llm import llm_text, select_llm_rows
from crossrank_harness.bench.report import bench_text, plot_throughput
from crossrank_harness.bench.rows import bench_rows
from crossrank_harness.bench.run import (
    FULL,
    LLM_PASSAGES,
    QUICK,
    BenchSettings,
    failed_rows,
    is_llm_reranker,
    run_bench,
    run_llm,
    select_rows,
)
from rerank_core import DEFAULT_MODEL

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

Chosen = TypeVar("Chosen")


def _size_default(size: str) -> str:
    """How ``--help`` states a size's default: ``200; 2 with --quick``."""
    return f"{FULL[size]}; {QUICK[size]} with --quick"


def _chosen_rows(select: Callable[[], Chosen]) -> Chosen:
    """The rows ``--rows`` chooses; none matching is a bad ``--rows``."""
    try:
        return select()
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--rows") from None


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
    )
    say = (lambda line: typer.echo(line, err=True)) if progress else None
    with reported_errors("eval"):
        if is_llm_reranker(model):
            if plot is not None:
                raise typer.BadParameter("charts the rows of cross-encoders only", param_hint="--plot")
            counts = (k,) if k else LLM_PASSAGES["quick" if quick else "full"]
            report = run_llm(settings, counts, _chosen_rows(lambda: select_llm_rows(rows)), say)
            typer.echo(llm_text(report))
        else:
            report = run_bench(settings, _chosen_rows(lambda: select_rows(bench_rows(), rows)), say)
            typer.echo(bench_text(report))
        if out is not None:
            write_json(report, out)
        if plot is not None:
            plot_throughput(report["rows"], plot)
            typer.echo(f"Plot saved to {plot}")
    if failed_rows(report):
        fail("some rows failed; their errors are in the table" + (" and the JSON." if out else "."))
