"""Checks on queries, texts and ranking arguments, raising typed errors that name the problem."""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

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
