"""The token limit a cross-encoder is scored at when the caller sets none."""

from __future__ import annotations

FALLBACK_MAX_LENGTH = 512
"""Used for checkpoints whose tokenizer and config claim no usable limit."""


def own_max_length(tokenizer_limit: object, position_limit: object) -> int:
    """The model's own limit: its tokenizer's ``model_max_length`` capped by its position embeddings.

    Values that are missing, non-integer or absurd (tokenizers without a limit report about 1e30) are
    ignored; with neither usable the limit is 512, never unbounded.
    """
    limits = [v for v in (tokenizer_limit, position_limit) if isinstance(v, int) and 0 < v < 100_000]
    return min(limits) if limits else FALLBACK_MAX_LENGTH
