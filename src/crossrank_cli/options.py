"""The options and arguments the commands share: one name and one help text for each concept.

A command that has the concept annotates its parameter with the type from here and gives the default
(``model: ModelOption = DEFAULT_MODEL``, the library's own). An option whose default differs by command
(``--queries``, ``--k``) is built by a function that takes the default's description for --help.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from rerank_core import ScorerOptions
from rerank_core.options import option_choices

MODEL_ENV = "CROSSRANK_MODEL"
"""Environment variable naming the cross-encoder (id or local folder) the commands use by default."""
EMBED_MODEL_ENV = "CROSSRANK_EMBED_MODEL"
"""Environment variable naming the bi-encoder of the dense first stage."""
RAY_ADDRESS_ENV = "RAY_ADDRESS"
"""Ray's own variable naming the cluster to join."""

MODEL_HELP = "Cross-encoder: a Hugging Face id or a local folder."


def _choices(option: str, enum_name: str) -> Any:
    """The values of scorer option ``option`` (from :class:`rerank_core.ScorerOptions`) as an enum for typer.

    Built when the CLI is imported, so a type checker sees neither its members nor a type (hence ``Any``).
    """
    return StrEnum(enum_name, {value: value for value in option_choices(option)})


BackendChoice = _choices("backend", "BackendChoice")
"""``--backend`` values: the engine's backends."""
FamilyChoice = _choices("family", "FamilyChoice")
"""``--family`` values: the engine's model families."""
PrecisionChoice = _choices("precision", "PrecisionChoice")
"""``--precision`` values: ``auto`` is the fastest precision that keeps the ranking on this machine."""
LongDocumentsChoice = _choices("long_documents", "LongDocumentsChoice")
"""``--long-documents`` values: how a text longer than the window is scored."""
ChunkingChoice = _choices("chunking", "ChunkingChoice")
"""``--chunking`` values: how ``max_chunk`` cuts a long text."""
DEFAULT_BACKEND: Any = BackendChoice(ScorerOptions.model_fields["backend"].default)
"""The scorer's default backend, as a ``--backend`` value."""
DEFAULT_PRECISION: Any = PrecisionChoice(ScorerOptions.model_fields["precision"].default)
"""The scorer's default precision, as a ``--precision`` value."""


DataDirArgument = Annotated[
    Path,
    typer.Argument(
        metavar="DATA_DIR", help="A BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv), e.g. SciFact."
    ),
]
ModelOption = Annotated[str, typer.Option(envvar=MODEL_ENV, help=MODEL_HELP)]
EmbedModelOption = Annotated[
    str, typer.Option(envvar=EMBED_MODEL_ENV, help="Bi-encoder of --first-stage dense: a Hugging Face id or a folder.")
]
# The three choice enums are built from the option schema at import time: a type checker cannot see them.
BackendOption = Annotated[
    BackendChoice,  # type: ignore[valid-type]
    typer.Option(help="Inference backend: torch (PyTorch) or onnx (ONNX Runtime; a checkpoint is exported once)."),
]
PrecisionOption = Annotated[
    PrecisionChoice,  # type: ignore[valid-type]
    typer.Option(help="Numeric precision (auto: the fastest that keeps the ranking on the device)."),
]
FamilyOption = Annotated[
    FamilyChoice | None,  # type: ignore[valid-type]
    typer.Option(help="Model family: how inputs are built and scores read (default: detected from the checkpoint)."),
]
InstructionOption = Annotated[
    str | None,
    typer.Option(help="Instruction for prompt models that take one (Qwen3-Reranker, mxbai-rerank-v2)."),
]
DeviceOption = Annotated[
    str | None, typer.Option(help="cpu, cuda, cuda:1, ... (default: CUDA if available, else CPU).")
]
NumGpusOption = Annotated[float, typer.Option(min=0, help="GPUs each Ray actor reserves (use with --device cuda).")]
AddressOption = Annotated[
    str | None,
    typer.Option(
        envvar=RAY_ADDRESS_ENV,
        help="Ray cluster to run on (auto: the one this node belongs to; default: a new local Ray).",
    ),
]
OutOption = Annotated[Path | None, typer.Option(help="Write the full results as JSON here.")]
PlotOption = Annotated[Path | None, typer.Option(help="Save a chart of the results here (PNG).")]
ProgressOption = Annotated[bool, typer.Option(help="Show progress on stderr.")]
ChunkOverlapOption = Annotated[
    int | None,
    typer.Option(
        min=0,
        show_default="a quarter of the chunk",
        help="Tokens a window or word chunk shares with the previous one (--long-documents max_chunk).",
    ),
]
SentenceOverlapOption = Annotated[
    int | None,
    typer.Option(
        min=0,
        show_default=str(ScorerOptions.model_fields["sentence_overlap"].default),
        help="Sentences a sentence chunk repeats from the previous one (--long-documents max_chunk).",
    ),
]
MaxChunksOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        show_default=str(ScorerOptions.model_fields["max_chunks_per_doc"].default),
        help="The most chunks scored per text, its first ones (--long-documents max_chunk).",
    ),
]


def queries_option(default: str) -> Any:
    """``--queries N``: how many queries a run uses, from the start of DATA_DIR; ``default`` describes the default."""
    return typer.Option(min=1, show_default=default, help="Use the first N queries of DATA_DIR.")


def k_option(default: str | bool = True) -> Any:
    """``--k K``: candidates per query from the first stage; ``default`` describes the default if not the value."""
    return typer.Option("--k", min=1, show_default=default, help="Candidates per query: the first stage's top K.")


def scorer_flags(
    backend: Any, precision: Any, family: Any, instruction: str | None, device: str | None
) -> dict[str, Any]:
    """The scorer options that ``--backend``, ``--precision``, ``--family``, ``--instruction`` and ``--device`` set."""
    return {
        "backend": str(backend),
        "precision": str(precision),
        "family": None if family is None else str(family),
        "instruction": instruction,
        "device": device,
    }


def chunk_flags(
    chunk_overlap: int | None, sentence_overlap: int | None, max_chunks_per_doc: int | None
) -> dict[str, int]:
    """The chunk options ``--chunk-overlap``, ``--sentence-overlap`` and ``--max-chunks-per-doc`` set, where given."""
    given = {
        "chunk_overlap": chunk_overlap,
        "sentence_overlap": sentence_overlap,
        "max_chunks_per_doc": max_chunks_per_doc,
    }
    return {name: value for name, value in given.items() if value is not None}
