"""Scorer options as pydantic fields, shared by the LangChain and LlamaIndex adapters."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .registry import get_scorer
from .scorer import CrossEncoderScorer


class ScorerOptions(BaseModel):
    """The :class:`CrossEncoderScorer` options an adapter exposes when its model is an id or path."""

    backend: Literal["torch"] = "torch"
    """Inference backend."""
    device: str | None = None
    """``None`` picks CUDA when available, else CPU."""
    batch_size: int = Field(default=32, gt=0)
    """Pairs per forward pass."""
    max_length: int | None = Field(default=None, gt=0)
    """Tokens per pair; ``None`` is the model's own limit."""
    activation: Literal["sigmoid", "none"] = "sigmoid"
    """``sigmoid`` for 0..1 relevance, ``none`` for raw logits."""
    long_documents: Literal["truncate", "max_chunk"] = "truncate"
    """Balanced truncation, or the best of overlapping windows."""
    trust_remote_code: bool = False
    """Run code shipped with the checkpoint; off unless you trust its author."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Passed to the model's ``from_pretrained``."""

    def shared_scorer(self, model_name_or_path: str) -> CrossEncoderScorer:
        """The process-wide scorer for this model with these options (loaded on first use)."""
        return get_scorer(model_name_or_path, **{name: getattr(self, name) for name in ScorerOptions.model_fields})
