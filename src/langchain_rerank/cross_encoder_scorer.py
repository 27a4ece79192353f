"""A LangChain ``BaseCrossEncoder`` seen as a :class:`rerank_core.Scorer`, so every model ranks the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
from langchain_core.cross_encoders import BaseCrossEncoder

from rerank_core import Scorer


class CrossEncoderModelScorer(Scorer):
    """Scores with any LangChain ``BaseCrossEncoder`` (``HuggingFaceCrossEncoder``, ...); async runs in a thread."""

    def __init__(self, model: BaseCrossEncoder) -> None:
        self.model = model
        self.model_name_or_path = str(getattr(model, "model_name", type(model).__name__))

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """``model.score`` over the (query, text) pairs, one float per text."""
        return np.asarray(list(self.model.score([(query, text) for text in texts])), dtype=np.float64)

    async def ascore(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """:meth:`score` in a worker thread, so the event loop never blocks."""
        return await asyncio.to_thread(self.score, query, texts)
