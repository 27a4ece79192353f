"""``Scorer``: what the adapters need from a scorer, local (:class:`CrossEncoderScorer`) or served."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Unpack

import numpy as np

from rerank_core.errors import InvalidArgumentError
from rerank_core.ranking import RankRules, RankSpec, arank_texts, rank_texts
from rerank_core.types import Ranked


class Scorer(ABC):
    """Scores and ranks texts against a query; both framework adapters accept any ``Scorer`` as ``model``.

    Implementations: :class:`rerank_core.CrossEncoderScorer` (in this process) and
    :class:`rerank_core.RemoteScorer` (a reranker served over HTTP); the LangChain adapter wraps a
    LangChain ``BaseCrossEncoder`` as one. A subclass implements :meth:`score` and :meth:`ascore`; ranking
    follows a :class:`rerank_core.RankSpec`, and a subclass that ranks elsewhere (a server) overrides
    :meth:`rank` and :meth:`arank`.
    """

    model_name_or_path: str
    """What the scorer runs: a model id or folder, or the URL of a served model."""
    reports_spans: bool = False
    """Whether :meth:`rank` says which characters of each text its score came from (``Ranked.span``)."""

    @abstractmethod
    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One score per text, in input order."""

    @abstractmethod
    async def ascore(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """:meth:`score` for asyncio; never blocks the event loop."""

    def rank(
        self, query: str, texts: Sequence[str], spec: RankSpec | None = None, **rules: Unpack[RankRules]
    ) -> list[Ranked]:
        """``Ranked(index, score)`` records, best first, by ``spec`` or the same rules as keywords
        (``rank_window_size``, then ``min_score``, then ``top_n``)."""
        return rank_texts(self.score, query, texts, spec, **rules)

    async def arank(
        self, query: str, texts: Sequence[str], spec: RankSpec | None = None, **rules: Unpack[RankRules]
    ) -> list[Ranked]:
        """:meth:`rank` for asyncio."""
        return await arank_texts(self.ascore, query, texts, spec, **rules)


def check_reports_spans(model: object) -> None:
    """Refuse a ``model`` (an id or path, or a scorer) whose results cannot name their best chunk."""
    if isinstance(model, str) or (isinstance(model, Scorer) and model.reports_spans):
        return
    raise InvalidArgumentError(
        f"keep_best_chunk needs a scorer that reports where each score came from: a model id or path, or a "
        f"CrossEncoderScorer; a {type(model).__name__} does not."
    )
