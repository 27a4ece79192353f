"""The contract every scoring backend fulfils."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from tokenizers import Tokenizer

from rerank_core.engine.families import ModelFamily
from rerank_core.engine.model_spec import ModelSpec


class Backend(Protocol):
    """A loaded cross-encoder: its tokenizer, limits and a forward pass over padded batches."""

    tokenizer: Tokenizer
    """The fast tokenizer; the input encoder copies it and never changes it."""
    spec: ModelSpec
    """The checkpoint's family, window, pad id and score tokens."""
    family: ModelFamily
    """``spec.family``."""
    max_length: int
    """Tokens per pair, special tokens included."""
    pad_token_id: int
    input_names: tuple[str, ...]
    """Arrays the model takes: ``input_ids``, ``attention_mask`` and, if used, ``token_type_ids``."""
    device: str
    precision: str
    """The precision it runs in: ``fp32``, ``bf16``, ``fp16`` or ``int8`` (never ``auto``)."""

    def forward(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Return float32 logits of shape ``(batch, num_labels)``."""
        ...
