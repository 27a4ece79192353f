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


OFFSET_POSITION_TYPES = frozenset(
    {
        "camembert",
        "data2vec-text",
        "esm",
        "ibert",
        "longformer",
        "luke",
        "mpnet",
        "roberta",
        "roberta-prelayernorm",
        "xlm-roberta",
        "xlm-roberta-xl",
        "xmod",
    }
)
"""Model types whose position ids start after the padding index (``padding_idx + 1``), as RoBERTa's do."""


def usable_positions(config: dict[str, object]) -> int | None:
    """How many positions a model can read: ``max_position_embeddings``, less the RoBERTa family's offset.

    RoBERTa-style embeddings number real tokens from ``pad_token_id + 1``, so a model with 514 position
    embeddings and pad id 1 reads 512 tokens.
    """
    positions = config.get("max_position_embeddings")
    if not isinstance(positions, int):
        return None
    pad = config.get("pad_token_id")
    if config.get("model_type") in OFFSET_POSITION_TYPES and isinstance(pad, int):
        return positions - pad - 1
    return positions
