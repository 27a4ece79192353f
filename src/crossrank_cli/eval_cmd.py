"""``crossrank eval``: retrieval quality before and after reranking on a BEIR folder."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from crossrank_harness.eval.report import eval_table, plot_windows
from crossrank_harness.eval.run import FIRST_STAGES, EvalSettings, run_eval
from rerank_core import DEFAULT_EMBED_MODEL, DEFAULT_MODEL

from .exit_codes import reported_errors
from .options import (
    DEFAULT_BACKEND,
    DEFAULT_PRECISION,
    AddressOption,
    BackendOption,
    DataDirArgument,
    DeviceOption,
    EmbedModelOption,
    FamilyOption,
    InstructionOption,
    ModelOption,
    NumGpusOption,
    OutOption,
    PlotOption,
    PrecisionOption,
    ProgressOption,
    k_option,
    queries_option,
    scorer_flags,
)
from .output import write_json


class FirstStageChoice(StrEnum):
    """``--first-stage`` values."""

    bm25 = "bm25"
    dense = "dense"
    both = "both"


class EngineChoice(StrEnum):
    """``--engine`` values."""

    local = "local"
    ray = "ray"


class ViaChoice(StrEnum):
    """``--via`` values."""

    core = "core"
    langchain = "langchain"
    llamaindex = "llamaindex"


def eval_command(
    data_dir: DataDirArgument,
    split: Annotated[str, typer.Option(help="The qrels split to evaluate.")] = "test",
    first_stage: Annotated[
        FirstStageChoice,
        typer.Option("--first-stage", help="bm25 (bm25s), dense (FAISS over --embed-model) or both."),
    ] = FirstStageChoice.bm25,
    k: Annotated[int, k_option()] = 100,
    model: ModelOption = DEFAULT_MODEL,
    embed_model: EmbedModelOption = DEFAULT_EMBED_MODEL,
    via: Annotated[
        list[ViaChoice] | None,
        typer.Option(help="Rerank through the core or crossrank's LangChain / LlamaIndex adapter; repeat for several."),
    ] = None,
    rank_window_size: Annotated[
        list[int] | None,
        typer.Option(min=1, help="Rerank only the top N candidates (repeat for a curve) (default: --k)."),
    ] = None,
    queries: Annotated[int | None, queries_option("all judged queries")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Pairs per forward pass.")] = 32,
    backend: BackendOption = DEFAULT_BACKEND,
    precision: PrecisionOption = DEFAULT_PRECISION,
    family: FamilyOption = None,
    instruction: InstructionOption = None,
    device: DeviceOption = None,
    engine: Annotated[
        EngineChoice,
        typer.Option(help="local: rerank in this process; ray: one Ray Data job over every query, on --address."),
    ] = EngineChoice.local,
    actors: Annotated[int, typer.Option(min=1, help="Ray actors with --engine ray, each with its own model.")] = 1,
    num_gpus: NumGpusOption = 0.0,
    address: AddressOption = None,
    out: OutOption = None,
    plot: PlotOption = None,
    progress: ProgressOption = True,
) -> None:
    """Measure nDCG@10, recall and MRR@10 of a first stage alone and after cross-encoder reranking.

    Recall is taken at 10 and at --k up to 100, never deeper than the candidates.

    --plot charts nDCG@10 and ms/query against the rerank window size.
    """
    if engine is EngineChoice.ray and via:
        raise typer.BadParameter("--via chooses a local route; --engine ray reranks through the core on Ray.")
    windows = tuple(rank_window_size or ())
    too_wide = [w for w in windows if w > k]
    if too_wide:
        raise typer.BadParameter(f"{too_wide[0]} is more than --k {k} candidates.", param_hint="--rank-window-size")
    settings = EvalSettings(
        data_dir=data_dir,
        split=split,
        first_stages=FIRST_STAGES if first_stage is FirstStageChoice.both else (first_stage.value,),
        k=k,
        model=model,
        embed_model=embed_model,
        vias=tuple(dict.fromkeys(v.value for v in via or [ViaChoice.core])),
        rank_window_sizes=windows,
        queries=queries,
        batch_size=batch_size,
        **scorer_flags(backend, precision, family, instruction, device),
        engine=engine.value,
        actors=actors,
        num_gpus=num_gpus,
        address=address,
        progress=progress,
    )
    with reported_errors("eval"):
        report = run_eval(settings)
        typer.echo(eval_table(report))
        if out is not None:
            write_json(report, out)
        if plot is not None:
            plot_windows(report, plot)
            typer.echo(f"Plot saved to {plot}")
