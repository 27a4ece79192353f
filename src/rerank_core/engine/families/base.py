"""What a model family is: how a checkpoint's input is built and how a score is read from its output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Head = Literal["classifier", "last-token-classifier", "token-logits"]
"""How a score is read: the classifier's logits (encoders, which pool themselves); the classifier head applied
at the last real token (decoder classifiers); or chosen rows of a language model's head at the last real token."""


@dataclass(frozen=True)
class PromptTemplate:
    """A reranking prompt: segments tokenized one by one and joined, as the recipe's reference code does.

    A segment is a format string with the fields ``{query}``, ``{document}`` and ``{instruction}`` (each in one
    segment at most, the query before the document) or none. Segments without fields (the system prefix,
    the assistant suffix) are never truncated; in the others, the document is cut first, then the query
    (see :class:`rerank_core.engine.prompt_encoding.PromptEncoder`).
    """

    segments: tuple[str, ...]
    instruction: str | None = None
    """The default instruction, for templates with an ``{instruction}`` field."""
    instructed: tuple[str, ...] | None = None
    """For templates whose instruction is optional: the segments used when a call gives one."""
    add_bos: bool = False
    """Put the tokenizer's BOS token first (as the reference code does for Gemma)."""

    @property
    def takes_instruction(self) -> bool:
        """Whether the template has room for an instruction."""
        return self.instructed is not None or any("{instruction}" in segment for segment in self.segments)

    def segments_for(self, instruction: str | None) -> tuple[str, ...]:
        """The segments a prompt with ``instruction`` (``None``: none, or the default) is built from."""
        return self.instructed if instruction is not None and self.instructed is not None else self.segments


@dataclass(frozen=True)
class ModelFamily:
    """One family of reranking checkpoints: its input recipe, its score and its window."""

    name: str
    head: Head
    description: str
    """For the README's table and error messages."""
    prompt: PromptTemplate | None = None
    """``None``: the tokenizer's own pair template joins query and document."""
    score_tokens: tuple[str, ...] = ()
    """For ``token-logits``: the vocabulary tokens whose logits are read, negative first (``("no", "yes")``:
    two labels, softmax of the second) or the positive alone (``("Yes",)``: one logit)."""
    default_max_length: int | None = None
    """The recipe's own window, capping the model's limit when the caller sets none."""
    calibration: tuple[tuple[str, float], ...] = ()
    """The authors' score calibration, ``sigmoid(score - shift)``: (name part, shift) pairs, first match wins,
    and ``("", shift)`` last as the default; empty when the family publishes none."""

    def calibration_shift(self, model_name_or_path: str) -> float | None:
        """The calibration shift for this checkpoint, or ``None`` when the family has no calibration."""
        name = model_name_or_path.lower()
        return next((shift for part, shift in self.calibration if part in name), None)
