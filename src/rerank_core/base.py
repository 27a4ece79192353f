"""``Scorer``: what the adapters need from a scorer, local (:class:`CrossEncoderScorer`) or served."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from rerank_core.types import Ranked


class Scorer(ABC):
    """Scores and ranks texts against a query; both framework adapters accept any ``Scorer`` as ``model``.

    Implementations: :class:`rerank_core.CrossEncoderScorer` (in this process) and
    :class:`rerank_core.RemoteScorer` (a reranker served by ``crossrank serve``). They share the ranking
    rules of :mod:`rerank_core.ranking` and the typed errors of :mod:`rerank_core.errors`.
    """

    model_name_or_path: str
    """What the scorer runs: a model id or folder, or the URL of a served model."""

    @abstractmethod
    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One score per text, in input order."""

    @abstractmethod
    async def ascore(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """:meth:`score` for asyncio; never blocks the event loop."""

    @abstractmethod
    def rank(
        self,
        query: str,
        texts: Sequence[str],
        *,
        top_n: int | None = None,
        min_score: float | None = None,
        rank_window_size: int | None = None,
    ) -> list[Ranked]:
        """``Ranked(index, score)`` records, best first: window, then ``min_score``, then ``top_n``."""

    @abstractmethod
    async def arank(
        self,
        query: str,
        texts: Sequence[str],
        *,
        top_n: int | None = None,
        min_score: float | None = None,
        rank_window_size: int | None = None,
    ) -> list[Ranked]:
        """:meth:`rank` for asyncio."""
