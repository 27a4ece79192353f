"""Scorer options as pydantic fields, shared by the LangChain and LlamaIndex adapters."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from rerank_core.backends.precision import Precision
from rerank_core.engine.activation import Activation
from rerank_core.registry import get_scorer
from rerank_core.scorer import CrossEncoderScorer


class ScorerOptions(BaseModel):
    """The :class:`CrossEncoderScorer` options an adapter exposes when its model is an id or path."""

    backend: Literal["torch", "onnx"] = "torch"
    """Inference backend: sentence-transformers on PyTorch, or ONNX Runtime."""
    device: str | None = None
    """``None`` picks CUDA when available, else CPU."""
    precision: Precision = "auto"
    """``auto`` (the fastest that keeps the ranking on this machine), ``fp32``, ``bf16``, ``fp16`` or ``int8``."""
    threads: int | None = Field(default=None, gt=0)
    """ONNX Runtime intra-op threads (default: the machine's cores)."""
    batch_size: int = Field(default=32, gt=0)
    """Pairs per forward pass."""
    max_length: int | None = Field(default=None, gt=0)
    """Tokens per pair; ``None`` is the model's own limit."""
    activation: Activation = "sigmoid"
    """``sigmoid`` for 0..1 relevance, ``none`` for raw logits, ``calibrated`` where the family publishes one."""
    long_documents: Literal["truncate", "max_chunk"] = "truncate"
    """Balanced truncation, or the best of overlapping windows."""
    trust_remote_code: bool = False
    """Run code shipped with the checkpoint; off unless you trust its author."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Passed to the model's ``from_pretrained``."""
    cache_size: int = Field(default=0, ge=0)
    """Scores kept in an LRU cache keyed by (model, options, query, text hash); 0 is off."""
    batch_wait_ms: float = Field(default=2.0, ge=0, le=1000)
    """Async calls: how long a request waits for concurrent ones to share its model batches."""
    max_batch_pairs: int = Field(default=1024, gt=0)
    """Async calls: the most pairs scored in one shared group."""
    family: str | None = None
    """The model family (``cross-encoder``, ``qwen3-reranker``, ...); ``None`` detects it from the checkpoint."""
    instruction: str | None = None
    """For prompt models that take one (Qwen3-Reranker, mxbai-rerank-v2): the instruction; ``None``: the model's."""

    def shared_scorer(self, model_name_or_path: str) -> CrossEncoderScorer:
        """The process-wide scorer for this model with these options (loaded on first use)."""
        return get_scorer(model_name_or_path, **{name: getattr(self, name) for name in ScorerOptions.model_fields})
