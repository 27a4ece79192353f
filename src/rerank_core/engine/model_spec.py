"""What the engine needs to know of a loaded checkpoint, read the same way by every backend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenizers import Tokenizer

from rerank_core.engine.encoding import PairEncoder
from rerank_core.engine.families import ModelFamily, detect_family
from rerank_core.engine.limits import own_max_length, usable_positions
from rerank_core.engine.prompt_encoding import PromptEncoder
from rerank_core.errors import ModelLoadError


@dataclass(frozen=True)
class ModelSpec:
    """A checkpoint's family, window, pad id and (for LLM rerankers) the vocabulary rows its score reads."""

    family: ModelFamily
    max_length: int
    """Tokens per pair, special tokens and prompt included."""
    pad_token_id: int
    """Only fills padding: encoders mask it and decoders read the last real token, so no score depends on it."""
    score_token_ids: tuple[int, ...] = ()
    calibration_shift: float | None = None
    """For ``activation="calibrated"``: the family's published shift for this checkpoint."""

    def encoder(self, tokenizer: Tokenizer) -> PairEncoder | PromptEncoder:
        """The input builder of this family: the tokenizer's pair template, or the family's prompt."""
        if self.family.prompt is None:
            return PairEncoder(tokenizer, self.max_length)
        return PromptEncoder(tokenizer, self.max_length, self.family.prompt)


def model_spec(
    model_name_or_path: str,
    config: Mapping[str, Any],
    tokenizer: Tokenizer,
    special_tokens: Mapping[str, Any],
    *,
    tokenizer_limit: object,
    max_length: int | None,
    family: str | None,
) -> ModelSpec:
    """Read a checkpoint's :class:`ModelSpec` from its config, fast tokenizer and special tokens.

    ``special_tokens`` maps names such as ``pad_token`` / ``eos_token`` to token strings (a tokenizer
    config or special tokens map); ``tokenizer_limit`` is the tokenizer's ``model_max_length``.
    """
    chosen = detect_family(model_name_or_path, config, family)
    own = own_max_length(tokenizer_limit, usable_positions(dict(config)))
    if chosen.default_max_length is not None:
        own = min(own, chosen.default_max_length)
    return ModelSpec(
        family=chosen,
        max_length=max_length or own,
        pad_token_id=_pad_token_id(tokenizer, config, special_tokens),
        score_token_ids=tuple(_single_token(tokenizer, token, model_name_or_path) for token in chosen.score_tokens),
        calibration_shift=chosen.calibration_shift(model_name_or_path),
    )


def _pad_token_id(tokenizer: Tokenizer, config: Mapping[str, Any], special_tokens: Mapping[str, Any]) -> int:
    """The tokenizer's pad token, else the config's ``pad_token_id``, else EOS / UNK, else 0."""

    def token_id(name: str) -> int | None:
        token = special_tokens.get(name)
        token = token.get("content") if isinstance(token, dict) else token
        return tokenizer.token_to_id(token) if isinstance(token, str) else None

    candidates = (
        token_id("pad_token"),
        (tokenizer.padding or {}).get("pad_id"),
        config.get("pad_token_id"),
        token_id("eos_token"),
        config.get("eos_token_id"),
        token_id("unk_token"),
    )
    return next((value for value in candidates if isinstance(value, int) and not isinstance(value, bool)), 0)


def _single_token(tokenizer: Tokenizer, token: str, model_name_or_path: str) -> int:
    """The id of ``token``, which the score reads; it must be one token of the vocabulary."""
    found = tokenizer.token_to_id(token)
    if found is None:
        ids = tokenizer.encode(token, add_special_tokens=False).ids
        found = ids[0] if len(ids) == 1 else None
    if found is None:
        raise ModelLoadError(
            f"{model_name_or_path!r}'s vocabulary has no single token {token!r}, which its family's score reads; "
            "this is not a checkpoint of that family."
        )
    return found
