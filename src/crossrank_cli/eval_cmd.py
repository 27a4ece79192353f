"""``crossrank eval``: retrieval quality before and after reranking on a BEIR folder."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from crossrank_harness.data.long_documents import ABSTRACTS_PER_DISTRACTOR, OTHERS_PER_JUDGED
from crossrank_harness.eval.report import eval_table, plot_eval
from crossrank_harness.eval.run import FIRST_STAGES, LONG_CORPUS_K, EvalSettings, run_eval
from rerank_core import DEFAULT_EMBED_MODEL, DEFAULT_MODEL

from .exit_codes import reported_errors
from .options import (
    DEFAULT_BACKEND,
    DEFAULT_PRECISION,
    AddressOption,
    BackendOption,
    ChunkingChoice,
    ChunkOverlapOption,
    DataDirArgument,
    DeviceOption,
    EmbedModelOption,
    FamilyOption,
    InstructionOption,
    LongDocumentsChoice,
    MaxChunksOption,
    ModelOption,
    NumGpusOption,
    OutOption,
    PlotOption,
    PrecisionOption,
    ProgressOption,
    SentenceOverlapOption,
    chunk_flags,
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


class CorpusChoice(StrEnum):
    """``--corpus`` values."""

    original = "original"
    long = "long"


class ViaChoice(StrEnum):
    """``--via`` values."""

    core = "core"
    langchain = "langchain"
    llamaindex = "llamaindex"


def eval_command(
    data_dir: DataDirArgument,
    split: Annotated[str, typer.Option(help="The qrels split to evaluate.")] = "test",
    corpus: Annotated[
        CorpusChoice,
        typer.Option(
            help="original: DATA_DIR's documents; long: each judged document hidden at a random place among "
            f"{OTHERS_PER_JUDGED[0]}-{OTHERS_PER_JUDGED[1]} unjudged ones, the rest grouped "
            f"{ABSTRACTS_PER_DISTRACTOR[0]}-{ABSTRACTS_PER_DISTRACTOR[1]} at a time as distractors; every scoring "
            "is compared by default."
        ),
    ] = CorpusChoice.original,
    seed: Annotated[int, typer.Option(help="The seed of --corpus long's documents.")] = 0,
    first_stage: Annotated[
        FirstStageChoice,
        typer.Option("--first-stage", help="bm25 (bm25s), dense (FAISS over --embed-model) or both."),
    ] = FirstStageChoice.bm25,
    k: Annotated[int | None, k_option(f"100; {LONG_CORPUS_K} with --corpus long")] = None,
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
    long_documents: Annotated[
        list[LongDocumentsChoice] | None,
        typer.Option(
            show_default="truncate; with --corpus long, both",
            help="How a text longer than the window is scored: truncate (its start) or max_chunk (its best chunk); "
            "repeat to compare.",
        ),
    ] = None,
    chunking: Annotated[
        list[ChunkingChoice] | None,
        typer.Option(
            show_default="window; with --corpus long, all three",
            help="How max_chunk cuts a text: window (token windows), sentence or word; repeat to compare.",
        ),
    ] = None,
    chunk_size: Annotated[
        list[int] | None,
        typer.Option(
            min=1,
            show_default="the room the query leaves in the window",
            help="Tokens per max_chunk chunk; repeat for a curve (--plot draws quality against it).",
        ),
    ] = None,
    chunk_overlap: ChunkOverlapOption = None,
    sentence_overlap: SentenceOverlapOption = None,
    max_chunks_per_doc: MaxChunksOption = None,
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

    --corpus long measures how long documents are read: the first stage's top 50 long documents (--k) are
    reranked with each scoring (--long-documents, --chunking, --chunk-size); a document is relevant when the
    abstract hidden in it is.

    --plot charts nDCG@10 and ms/query against the rerank window size, or against the chunk size when several
    --chunk-size are given.
    """
    if engine is EngineChoice.ray and via:
        raise typer.BadParameter("--via chooses a local route; --engine ray reranks through the core on Ray.")
    if k is None:
        k = LONG_CORPUS_K if corpus is CorpusChoice.long else 100
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
        corpus=corpus.value,
        seed=seed,
        long_documents=tuple(dict.fromkeys(str(mode) for mode in long_documents or ())),
        chunkings=tuple(dict.fromkeys(str(strategy) for strategy in chunking or ())),
        chunk_sizes=tuple(dict.fromkeys(chunk_size or ())),
        chunk_options=chunk_flags(chunk_overlap, sentence_overlap, max_chunks_per_doc),
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
            plot_eval(report, plot)
            typer.echo(f"Plot saved to {plot}")
