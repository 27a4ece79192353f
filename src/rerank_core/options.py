"""The scorer's options: one schema, read by the scorer, its cache key, both adapters and the CLI.

Adding an option is one line in :class:`ScorerOptions` (plus its use): :class:`rerank_core.CrossEncoderScorer`
takes it as a keyword, ``scorer.options`` reports it, the LangChain and LlamaIndex adapters expose it as a
field, and the score cache keys on it unless it is marked :data:`NOT_IN_SCORES`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from rerank_core.backends import BACKENDS
from rerank_core.backends.precision import Precision, check_precision
from rerank_core.engine.activation import ACTIVATIONS, Activation
from rerank_core.engine.chunking import CHUNKINGS, Chunking, ChunkPlan
from rerank_core.engine.encoding import LONG_DOCUMENT_MODES, LongDocuments
from rerank_core.engine.families import FAMILIES
from rerank_core.errors import InvalidArgumentError
from rerank_core.validation import check_instruction, check_positive_int, validated


@dataclass(frozen=True)
class OneOf:
    """A pydantic before-validator: the value must be one of ``choices`` (``None`` too, if ``optional``)."""

    choices: tuple[str, ...]
    optional: bool = False

    def __call__(self, value: object, info: ValidationInfo) -> object:
        if (value is None and self.optional) or value in self.choices:
            return value
        raise InvalidArgumentError(f"Unknown {info.field_name} {value!r}; choose one of {', '.join(self.choices)}.")


def _positive(value: object, info: ValidationInfo) -> object:
    """``None`` or an int >= 1 (not a bool)."""
    return value if value is None else check_positive_int(str(info.field_name), value)


def _count(value: object, info: ValidationInfo) -> object:
    """An int >= 0 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"{info.field_name} must be an integer >= 0 (0 is off), got {value!r}.")
    return value


def _count_or_none(value: object, info: ValidationInfo) -> object:
    """``None`` or an int >= 0 (not a bool)."""
    return value if value is None else _count(value, info)


def _folder(value: object, info: ValidationInfo) -> object:
    """``None``, or a folder path as a string (a ``pathlib.Path`` is read as its string)."""
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise InvalidArgumentError(f"{info.field_name} must be a folder path or None, got {value!r}.")


def _milliseconds(value: object, info: ValidationInfo) -> object:
    """A number of milliseconds in 0..1000."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1000:
        raise InvalidArgumentError(f"{info.field_name} must be milliseconds in 0..1000, got {value!r}.")
    return float(value)


def _dict(value: object) -> object:
    """``None`` read as an empty dict."""
    return {} if value is None else value


CHUNK_OPTIONS = ("chunking", "chunk_size", "chunk_overlap", "sentence_overlap", "max_chunks_per_doc")
"""The options that configure ``long_documents="max_chunk"``."""

NOT_IN_SCORES = "not in scores"
"""Marks an option that never changes a score (how fast or how safely it is computed), so the cache ignores it."""


class ScorerOptions(BaseModel):
    """How :class:`rerank_core.CrossEncoderScorer` loads and runs a model; the adapters inherit these fields."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    backend: Annotated[str, BeforeValidator(OneOf(BACKENDS))] = "torch"
    """Inference backend (:data:`rerank_core.backends.BACKENDS`): PyTorch, ONNX Runtime or OpenVINO (no torch)."""
    device: str | None = None
    """``None`` picks CUDA when available, else CPU."""
    precision: Annotated[Precision, BeforeValidator(check_precision)] = "auto"
    """``auto`` is the fastest precision that keeps the ranking (fp16 on CUDA, bf16 on CPUs with AMX or
    AVX-512 BF16, else fp32); or ``fp32``, ``bf16``, ``fp16``, ``int8`` (ONNX and OpenVINO).
    See :mod:`rerank_core.backends.precision`."""
    threads: Annotated[int | None, BeforeValidator(_positive), NOT_IN_SCORES] = None
    """ONNX Runtime intra-op / OpenVINO inference threads (default: the machine's cores); torch uses
    ``torch.set_num_threads``."""
    batch_size: Annotated[int, BeforeValidator(_positive), NOT_IN_SCORES] = 32
    """Pairs per forward pass."""
    max_length: Annotated[int | None, BeforeValidator(_positive)] = None
    """Tokens per pair; ``None`` is the model's own limit (never unbounded)."""
    activation: Annotated[Activation, BeforeValidator(OneOf(ACTIVATIONS))] = "sigmoid"
    """``sigmoid`` for 0..1 relevance (softmax of the positive class for two-label models), ``none`` for raw
    logits (the positive-minus-negative margin for two labels), or ``calibrated``: the authors' calibration,
    where a family publishes one (mxbai-rerank-v2)."""
    long_documents: Annotated[LongDocuments, BeforeValidator(OneOf(LONG_DOCUMENT_MODES))] = "truncate"
    """A text that does not fit the window: ``truncate`` (balanced, the query is kept) reads its start only;
    ``max_chunk`` cuts it into chunks (``chunking``), scores each with the query and keeps the best."""
    chunking: Annotated[Chunking, BeforeValidator(OneOf(CHUNKINGS))] = "window"
    """How ``max_chunk`` cuts a text (see :mod:`rerank_core.engine.chunking`): ``window`` (token windows),
    ``sentence`` (whole sentences) or ``word`` (whole words)."""
    chunk_size: Annotated[int | None, BeforeValidator(_positive)] = None
    """Tokens per chunk; ``None`` (and any larger value) is the room the query leaves in the model's window."""
    chunk_overlap: Annotated[int | None, BeforeValidator(_count_or_none)] = None
    """``window`` and ``word``: tokens a chunk shares with the previous one; ``None`` is a quarter of the chunk."""
    sentence_overlap: Annotated[int, BeforeValidator(_count)] = 1
    """``sentence``: sentences a chunk repeats from the end of the previous one (Elasticsearch's default, 1)."""
    max_chunks_per_doc: Annotated[int, BeforeValidator(_positive)] = 32
    """``max_chunk``: the most chunks scored per text, its first ones; text beyond them is not read."""
    trust_remote_code: Annotated[bool, Field(strict=True), NOT_IN_SCORES] = False
    """Run code shipped with the checkpoint; off unless you trust its author."""
    cache_folder: Annotated[str | None, BeforeValidator(_folder), NOT_IN_SCORES] = None
    """Where models downloaded from the Hugging Face hub are cached (``None``: the hub's own cache folder)."""
    model_kwargs: Annotated[dict[str, Any], BeforeValidator(_dict)] = Field(default_factory=dict)
    """Passed to the model's ``from_pretrained`` (for example ``{"dtype": torch.bfloat16}``)."""
    cache_size: Annotated[int, BeforeValidator(_count), NOT_IN_SCORES] = 0
    """Scores kept in an LRU cache keyed by (model, options, query, text hash); 0 is off."""
    batch_wait_ms: Annotated[float, BeforeValidator(_milliseconds), NOT_IN_SCORES] = 2.0
    """Async calls: how long a request waits for concurrent ones to share its model batches."""
    max_batch_pairs: Annotated[int, BeforeValidator(_positive), NOT_IN_SCORES] = 1024
    """Async calls: the most pairs scored in one shared group."""
    family: Annotated[str | None, BeforeValidator(OneOf(tuple(FAMILIES), optional=True))] = None
    """The model family (``cross-encoder``, ``qwen3-reranker``, ...); ``None`` detects it from the checkpoint."""
    instruction: Annotated[str | None, BeforeValidator(check_instruction), NOT_IN_SCORES] = None
    """For prompt models that take one (Qwen3-Reranker, mxbai-rerank-v2): the instruction; ``None``: the model's.
    (A call's instruction is part of its cache key.)"""

    @model_validator(mode="after")
    def _chunk_options_apply(self) -> Self:
        """Chunk options configure ``long_documents="max_chunk"``; each strategy takes its own overlap."""
        changed = [name for name in CHUNK_OPTIONS if getattr(self, name) != ScorerOptions.model_fields[name].default]
        if changed and self.long_documents == "truncate":
            raise InvalidArgumentError(
                f"{', '.join(changed)} set how long_documents='max_chunk' cuts texts, but long_documents is "
                "'truncate'; pass long_documents='max_chunk' too."
            )
        if self.chunking == "sentence" and self.chunk_overlap is not None:
            raise InvalidArgumentError(
                "chunking='sentence' overlaps whole sentences: set sentence_overlap, not chunk_overlap."
            )
        if self.chunking != "sentence" and "sentence_overlap" in changed:
            raise InvalidArgumentError(f"sentence_overlap applies to chunking='sentence', not {self.chunking!r}.")
        size, overlap = self.chunk_size, self.chunk_overlap
        if size is not None and overlap is not None and overlap >= size:
            raise InvalidArgumentError(
                f"chunk_overlap={self.chunk_overlap} must be smaller than chunk_size={self.chunk_size}."
            )
        return self

    def scorer_options(self) -> ScorerOptions:
        """These options alone, as a new object (an adapter that inherits them holds other fields too)."""
        return validated(ScorerOptions, {name: getattr(self, name) for name in ScorerOptions.model_fields})

    def chunk_plan(self) -> ChunkPlan | None:
        """How long texts are cut into chunks (``None``: they are truncated)."""
        if self.long_documents == "truncate":
            return None
        return ChunkPlan(
            self.chunking, self.chunk_size, self.chunk_overlap, self.sentence_overlap, self.max_chunks_per_doc
        )

    def cache_namespace(self) -> str:
        """What a score depends on among these options, as a string (the score cache's namespace)."""
        return repr(
            sorted(
                (name, repr(sorted(value.items())) if isinstance(value, dict) else repr(value))
                for name, field in ScorerOptions.model_fields.items()
                if NOT_IN_SCORES not in field.metadata
                for value in [getattr(self, name)]
            )
        )


def option_choices(name: str) -> tuple[str, ...]:
    """The values option ``name`` takes (for command-line choices); empty for a free-form option."""
    for item in ScorerOptions.model_fields[name].metadata:
        if isinstance(item, BeforeValidator) and isinstance(item.func, OneOf):
            return item.func.choices
    annotation = ScorerOptions.model_fields[name].annotation
    return get_args(annotation) if get_origin(annotation) is Literal else ()


def check_options_apply(model: object, given: Iterable[str]) -> None:
    """Refuse scorer options beside a ``model`` that is not an id or path: they configure a model loaded here."""
    names = sorted(set(given) & set(ScorerOptions.model_fields))
    if names and not isinstance(model, str):
        kind = type(model).__name__
        raise InvalidArgumentError(
            f"{', '.join(names)} cannot be set when model is a {kind}: the scorer options apply only when model "
            f"is a model id or path; configure the {kind} you passed instead."
        )
