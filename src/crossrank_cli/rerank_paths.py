"""The ways a reranking call is run and timed: the core, plain sentence-transformers and the two frameworks.

Each path splits one call in two: ``prepare`` builds the inputs the way a pipeline would already hold
them (documents, nodes, a retriever), untimed; ``rerank`` is the timed call and returns the candidate
ids best first. The framework paths live in their own modules and are imported only when chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from rerank_core import CrossEncoderScorer, get_scorer

VIAS: tuple[str, ...] = ("core", "langchain", "llamaindex")


class RerankPath(Protocol):
    """One way of reranking a query's candidates."""

    def prepare(self, query: str, doc_ids: Sequence[str], texts: Sequence[str]) -> Any:
        """Build this path's inputs for one query (not timed)."""
        ...

    def rerank(self, query: str, prepared: Any) -> list[str]:
        """Rerank the prepared candidates; the ids of every candidate returned, best first."""
        ...


class CorePath:
    """``CrossEncoderScorer.rank`` over the candidates' texts."""

    def __init__(self, scorer: CrossEncoderScorer) -> None:
        self.scorer = scorer

    def prepare(self, query: str, doc_ids: Sequence[str], texts: Sequence[str]) -> tuple[list[str], list[str]]:
        """The ids and texts as lists."""
        return list(doc_ids), list(texts)

    def rerank(self, query: str, prepared: tuple[list[str], list[str]]) -> list[str]:
        """Rank every text with the scorer."""
        doc_ids, texts = prepared
        return [doc_ids[hit.index] for hit in self.scorer.rank(query, texts)]


class PredictPath:
    """Plain ``sentence_transformers.CrossEncoder.predict`` on (query, text) pairs, sorted by score."""

    def __init__(self, model: Any, batch_size: int) -> None:
        self.model = model
        self.batch_size = batch_size

    def prepare(self, query: str, doc_ids: Sequence[str], texts: Sequence[str]) -> tuple[list[str], list]:
        """The ids and the (query, text) pairs."""
        return list(doc_ids), [(query, text) for text in texts]

    def rerank(self, query: str, prepared: tuple[list[str], list]) -> list[str]:
        """Score every pair and sort best first (ties keep input order)."""
        doc_ids, pairs = prepared
        scores = np.asarray(self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False))
        return [doc_ids[i] for i in np.argsort(-scores.reshape(len(pairs), -1)[:, -1], kind="stable")]


def via_path(via: str, model: str, **options: Any) -> RerankPath:
    """The path for ``crossrank eval --via``: the core scorer, or crossrank's LangChain or LlamaIndex adapter.

    ``options`` are scorer options (:class:`rerank_core.ScorerOptions` fields). The adapters keep every
    candidate (``top_n=None``) and share the core's model for these options.
    """
    if via == "core":
        return CorePath(get_scorer(model, **options))
    if via == "langchain":
        from langchain_rerank import CrossEncoderReranker

        from .langchain_path import LangChainPath

        return LangChainPath(CrossEncoderReranker(model=model, top_n=None, **options))
    if via == "llamaindex":
        from llamaindex_rerank import CrossEncoderRerank

        from .llamaindex_path import LlamaIndexPath

        return LlamaIndexPath(CrossEncoderRerank(model=model, top_n=None, **options))
    raise ValueError(f"Unknown --via {via!r}; choose one of {', '.join(VIAS)}.")
