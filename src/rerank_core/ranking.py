"""Rank semantics shared by the scorer and the framework adapters.

They follow Elasticsearch's ``text_similarity_reranker``: ``rank_window_size`` scores only the
first N inputs (the rest are dropped, never scored); ``min_score`` drops results scoring below it;
``top_n`` cuts last. Ties keep input order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import numpy as np

from rerank_core.types import Ranked
from rerank_core.validation import check_min_score, check_query, check_texts, check_top_n, check_window

ScoreFn = Callable[[str, Sequence[str]], np.ndarray]
"""Scores ``(query, texts)`` and returns one float per text, in input order."""
AsyncScoreFn = Callable[[str, Sequence[str]], Awaitable[np.ndarray]]
"""The async form of :data:`ScoreFn`."""


def select(scores: np.ndarray, *, top_n: int | None = None, min_score: float | None = None) -> list[Ranked]:
    """Order already-computed scores best first (stable on ties), apply ``min_score``, then ``top_n``."""
    top_n = check_top_n(top_n)
    min_score = check_min_score(min_score)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    ranked = [Ranked(index=int(i), score=float(scores[i])) for i in order]
    if min_score is not None:
        ranked = [r for r in ranked if r.score >= min_score]
    return ranked if top_n is None else ranked[:top_n]


def rank_texts(
    score_fn: ScoreFn,
    query: str,
    texts: Sequence[str],
    *,
    top_n: int | None = None,
    min_score: float | None = None,
    rank_window_size: int | None = None,
) -> list[Ranked]:
    """Score the first ``rank_window_size`` texts with ``score_fn`` and rank them.

    Arguments are validated before anything is scored; an empty ``texts`` returns ``[]``
    without calling ``score_fn``.
    """
    candidates = candidates_to_score(query, texts, top_n, min_score, rank_window_size)
    if not candidates:
        return []
    return ranked_from_scores(score_fn(query, candidates), len(candidates), top_n, min_score)


async def arank_texts(
    ascore_fn: AsyncScoreFn,
    query: str,
    texts: Sequence[str],
    *,
    top_n: int | None = None,
    min_score: float | None = None,
    rank_window_size: int | None = None,
) -> list[Ranked]:
    """:func:`rank_texts` with an async scoring function."""
    candidates = candidates_to_score(query, texts, top_n, min_score, rank_window_size)
    if not candidates:
        return []
    return ranked_from_scores(await ascore_fn(query, candidates), len(candidates), top_n, min_score)


def candidates_to_score(
    query: str, texts: Sequence[str], top_n: int | None, min_score: float | None, rank_window_size: int | None
) -> Sequence[str]:
    """Validate every argument, then return the texts to score (the window; none when ``top_n`` is 0)."""
    check_query(query)
    check_texts(texts)
    check_top_n(top_n)
    check_min_score(min_score)
    window = check_window(rank_window_size)
    candidates = texts if window is None else texts[:window]
    return [] if top_n == 0 else candidates


def ranked_from_scores(scores: object, count: int, top_n: int | None, min_score: float | None) -> list[Ranked]:
    """Rank the ``count`` scores of :func:`candidates_to_score`'s texts; a wrong count is an error."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.shape[0] != count:
        raise ValueError(f"The scoring function returned {scores.shape[0]} scores for {count} texts.")
    return select(scores, top_n=top_n, min_score=min_score)
