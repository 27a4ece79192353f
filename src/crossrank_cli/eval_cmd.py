"""``crossrank eval``: retrieval quality before and after reranking on a BEIR folder."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from crossrank_eval import BeirFormatError
from rerank_core import RerankError

from .choices import PrecisionChoice
from .defaults import EMBED_MODEL_ENV, MODEL_ENV, default_embed_model, default_model
from .eval_report import eval_table, plot_windows
from .evaluation import FIRST_STAGES, EvalSettings, run_eval


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
    data_dir: Annotated[Path, typer.Argument(help="A BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv.")],
    split: Annotated[str, typer.Option(help="The qrels split to evaluate.")] = "test",
    first_stage: Annotated[
        FirstStageChoice,
        typer.Option("--first-stage", help="bm25 (bm25s), dense (FAISS over --embed-model) or both."),
    ] = FirstStageChoice.bm25,
    k: Annotated[int, typer.Option("--k", min=1, help="Candidates per query from the first stage.")] = 100,
    model: Annotated[
        str | None,
        typer.Option(help=f"Cross-encoder id or folder (default: ${MODEL_ENV} or the library default)."),
    ] = None,
    embed_model: Annotated[
        str | None,
        typer.Option(help=f"Bi-encoder for --first-stage dense (default: ${EMBED_MODEL_ENV} or all-MiniLM-L6-v2)."),
    ] = None,
    via: Annotated[
        list[ViaChoice] | None,
        typer.Option(help="Rerank through the core or crossrank's LangChain / LlamaIndex adapter; repeat for several."),
    ] = None,
    rank_window_size: Annotated[
        list[int] | None,
        typer.Option(min=1, help="Rerank only the top N candidates (repeat for a curve) (default: --k)."),
    ] = None,
    max_queries: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N judged queries.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Pairs per forward pass.")] = 32,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, ... (default: CUDA if available, else CPU).")] = None,
    precision: Annotated[
        PrecisionChoice, typer.Option(help="Numeric precision (auto: the fastest that keeps the ranking).")
    ] = PrecisionChoice.auto,
    engine: Annotated[
        EngineChoice,
        typer.Option(
            help="local: rerank in this process; ray: one Ray Data job over every query (RAY_ADDRESS or local)."
        ),
    ] = EngineChoice.local,
    actors: Annotated[int, typer.Option(min=1, help="Ray actors with --engine ray, each with its own model.")] = 1,
    gpus_per_actor: Annotated[
        float, typer.Option(min=0, help="GPUs each Ray actor reserves (with --engine ray --device cuda).")
    ] = 0.0,
    out: Annotated[Path | None, typer.Option(help="Write the full results as JSON here.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Save nDCG@10 and ms/query against window size here.")] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars on stderr.")] = True,
) -> None:
    """Measure nDCG@10, Recall@10/100 and MRR@10 of a first stage alone and after cross-encoder reranking."""
    if engine is EngineChoice.ray and via:
        raise typer.BadParameter("--via chooses a local path; --engine ray reranks through the core on Ray.")
    windows = tuple(rank_window_size or ())
    too_wide = [w for w in windows if w > k]
    if too_wide:
        raise typer.BadParameter(f"{too_wide[0]} is more than --k {k} candidates.", param_hint="--rank-window-size")
    settings = EvalSettings(
        data_dir=data_dir,
        split=split,
        first_stages=FIRST_STAGES if first_stage is FirstStageChoice.both else (first_stage.value,),
        k=k,
        model=model or default_model(),
        embed_model=embed_model or default_embed_model(),
        vias=tuple(dict.fromkeys(v.value for v in via or [ViaChoice.core])),
        rank_window_sizes=windows,
        max_queries=max_queries,
        batch_size=batch_size,
        device=device,
        precision=precision.value,
        engine=engine.value,
        actors=actors,
        gpus_per_actor=gpus_per_actor,
        progress=progress,
    )
    try:
        report = run_eval(settings)
    except BeirFormatError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (RerankError, OSError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except ImportError as exc:
        typer.echo(f'Error: {exc}. Install the evaluation tools with: pip install "crossrank[eval]"', err=True)
        raise typer.Exit(1) from exc
    typer.echo(eval_table(report))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"Results written to {out}")
    if plot is not None:
        plot_windows(report, plot)
        typer.echo(f"Plot saved to {plot}")
