"""How a list is ranked: one :class:`RankSpec` (window, ``min_score``, ``top_n``), validated where it is handed over.

The rules follow Elasticsearch's ``text_similarity_reranker``: ``rank_window_size`` scores only the first N
inputs (the rest are dropped, never scored); ``min_score`` drops results scoring below it; ``top_n`` cuts
last. Ties keep input order. Every scorer ranks through :func:`rank_texts` / :func:`arank_texts` or, with
scores in hand, :meth:`RankSpec.select`; both adapters and the HTTP wire carry a :class:`RankSpec`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, TypedDict, Unpack

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict

from rerank_core.types import Ranked
from rerank_core.validation import (
    check_min_score,
    check_query,
    check_texts,
    check_top_n,
    check_window,
    validated,
)

TopN = Annotated[int | None, BeforeValidator(check_top_n)]
"""Results to keep: ``None`` keeps all, ``0`` none."""
MinScore = Annotated[float | None, BeforeValidator(check_min_score)]
"""Drop results scoring below this (``None``: no threshold)."""
RankWindow = Annotated[int | None, BeforeValidator(check_window)]
"""Score only the first N inputs (``None``: all)."""

Spans = np.ndarray | Sequence[tuple[int, int]]
"""Per text, the ``(start, end)`` characters its score was read from (an ``(n, 2)`` array or pairs)."""
Scores = np.ndarray | tuple[np.ndarray, Spans]
"""One float per text, in input order; with the spans they were read from, where the scorer knows them."""
ScoreFn = Callable[[str, Sequence[str]], Scores]
"""Scores ``(query, texts)``: one float per text, in input order (and the spans, where known)."""
AsyncScoreFn = Callable[[str, Sequence[str]], Awaitable[Scores]]
"""The async form of :data:`ScoreFn`."""


class RankSpec(BaseModel):
    """The ranking rules of one call: window, then ``min_score``, then ``top_n``; the default keeps everything.

    Build one where a user hands the rules over (it validates them), then pass it down: the scorers, both
    adapters and the HTTP wire all take it as it is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rank_window_size: RankWindow = None
    """Score only the first N inputs, in the order given; the rest are dropped unscored."""
    min_score: MinScore = None
    """Drop results whose (activated) score is below this."""
    top_n: TopN = None
    """Keep at most this many results, best first, after ``min_score``."""

    def candidates(self, query: str, texts: Sequence[str]) -> Sequence[str]:
        """Check ``query`` and ``texts``, then return the texts to score: the window (none when ``top_n`` is 0)."""
        check_query(query)
        check_texts(texts)
        if self.top_n == 0:
            return []
        return texts if self.rank_window_size is None else texts[: self.rank_window_size]

    def select(self, scores: object, count: int | None = None, spans: Spans | None = None) -> list[Ranked]:
        """Order scores best first (stable on ties), apply ``min_score``, then ``top_n``.

        With ``count``, the scores must be that many (those of :meth:`candidates`); another number is an error.
        With ``spans`` (one per score), each result carries its own.
        """
        values = np.asarray(scores, dtype=np.float64).reshape(-1)
        if count is not None and values.shape[0] != count:
            raise ValueError(f"The scoring function returned {values.shape[0]} scores for {count} texts.")
        order = np.argsort(-values, kind="stable")
        ranked = [
            Ranked(index=int(i), score=float(values[i]), span=None if spans is None else _span(spans[i])) for i in order
        ]
        if self.min_score is not None:
            ranked = [r for r in ranked if r.score >= self.min_score]
        return ranked if self.top_n is None else ranked[: self.top_n]


class RankRules(TypedDict, total=False):
    """:class:`RankSpec`'s fields as keyword arguments, for calls that take ``top_n=3`` rather than a spec."""

    rank_window_size: int | None
    min_score: float | None
    top_n: int | None


def rank_spec(spec: RankSpec | None = None, **rules: Unpack[RankRules]) -> RankSpec:
    """``spec`` (default: keep everything) with ``rules`` set on it; a bad rule is an ``InvalidArgumentError``."""
    if not rules:
        return spec or RankSpec()
    base = {} if spec is None else spec.model_dump(exclude_unset=True)
    return validated(RankSpec, {**base, **rules})


def select(scores: object, spec: RankSpec | None = None, **rules: Unpack[RankRules]) -> list[Ranked]:
    """Rank already-computed scores by ``spec`` / ``rules`` (see :meth:`RankSpec.select`)."""
    return rank_spec(spec, **rules).select(scores)


def rank_texts(
    score_fn: ScoreFn, query: str, texts: Sequence[str], spec: RankSpec | None = None, **rules: Unpack[RankRules]
) -> list[Ranked]:
    """Score the texts inside the window with ``score_fn`` and rank them.

    Arguments are validated before anything is scored; an empty ``texts`` returns ``[]`` without calling
    ``score_fn``.
    """
    spec = rank_spec(spec, **rules)
    candidates = spec.candidates(query, texts)
    if not candidates:
        return []
    return _selected(spec, score_fn(query, candidates), len(candidates))


async def arank_texts(
    ascore_fn: AsyncScoreFn, query: str, texts: Sequence[str], spec: RankSpec | None = None, **rules: Unpack[RankRules]
) -> list[Ranked]:
    """:func:`rank_texts` with an async scoring function."""
    spec = rank_spec(spec, **rules)
    candidates = spec.candidates(query, texts)
    if not candidates:
        return []
    return _selected(spec, await ascore_fn(query, candidates), len(candidates))


def _selected(spec: RankSpec, scores: Scores, count: int) -> list[Ranked]:
    if isinstance(scores, tuple):
        return spec.select(scores[0], count, scores[1])
    return spec.select(scores, count)


def _span(span: Sequence[int]) -> tuple[int, int]:
    start, end = span
    return int(start), int(end)
