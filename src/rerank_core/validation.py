"""Checks on queries, texts and ranking arguments, raising typed errors that name the problem."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from rerank_core.errors import InvalidArgumentError, InvalidQueryError, InvalidTextError


def check_query(query: object) -> str:
    """Return ``query`` if it is a non-empty, non-blank string; raise otherwise."""
    if not isinstance(query, str):
        raise InvalidQueryError(f"The query must be a string, got {type(query).__name__}.")
    if not query.strip():
        raise InvalidQueryError("The query is empty; a reranker needs a question or search text to score against.")
    return query


def check_texts(texts: object) -> Sequence[str]:
    """Return ``texts`` if it is a sequence of strings; otherwise name the first offending index."""
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
        raise InvalidTextError(f"texts must be a list (or other sequence) of strings, got {type(texts).__name__}.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidTextError(f"texts[{i}] is a {type(text).__name__}, not a string.")
    return texts


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an int >= 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def check_instruction(instruction: object) -> str | None:
    """``None`` or a non-blank string (a prompt model's instruction)."""
    if instruction is not None and (not isinstance(instruction, str) or not instruction.strip()):
        raise InvalidArgumentError(f"instruction must be a non-blank string or None, got {instruction!r}.")
    return instruction


def check_top_n(top_n: object) -> int | None:
    """``None`` (keep all) or an int >= 0 (0 returns nothing)."""
    if top_n is None:
        return None
    if isinstance(top_n, bool) or not isinstance(top_n, Integral) or top_n < 0:
        raise InvalidArgumentError(f"top_n must be None or an integer >= 0, got {top_n!r}.")
    return int(top_n)


def check_window(rank_window_size: object) -> int | None:
    """``None`` (score every input) or an int >= 1."""
    if rank_window_size is None:
        return None
    return check_positive_int("rank_window_size", rank_window_size)


def check_min_score(min_score: object) -> float | None:
    """``None`` (no threshold) or a finite real number."""
    if min_score is None:
        return None
    if isinstance(min_score, bool) or not isinstance(min_score, Real) or not math.isfinite(min_score):
        raise InvalidArgumentError(f"min_score must be None or a finite number, got {min_score!r}.")
    return float(min_score)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], values: Mapping[str, object]) -> M:
    """``model(**values)``, with a refusal raised as :class:`InvalidArgumentError` naming each bad value."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        raise InvalidArgumentError(" ".join(_problem(model, error) for error in exc.errors())) from exc


def _problem(model: type[BaseModel], error: ErrorDetails) -> str:
    """One sentence for one of pydantic's errors: the check's own message, or the field and what it wants."""
    name = ".".join(str(part) for part in error["loc"])
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, InvalidArgumentError):
        return str(cause)
    if error["type"] == "extra_forbidden":
        return f"Unknown option {name!r}; {model.__name__} takes {', '.join(model.model_fields)}."
    return f"{name}: {error['msg']}, got {error['input']!r}."
