"""crossrank's own routes, those of ``crossrank eval --via``: the core scorer and the two framework adapters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rerank_core import Scorer, get_scorer

from .base import RerankRoute

VIAS: tuple[str, ...] = ("core", "langchain", "llamaindex")


class CoreRoute:
    """``Scorer.rank`` over the candidates' texts (a ``CrossEncoderScorer`` for the core rows)."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer

    def prepare(self, query: str, doc_ids: Sequence[str], texts: Sequence[str]) -> tuple[list[str], list[str]]:
        """The ids and texts as lists."""
        return list(doc_ids), list(texts)

    def rerank(self, query: str, prepared: tuple[list[str], list[str]]) -> list[str]:
        """Rank every text with the scorer."""
        doc_ids, texts = prepared
        return [doc_ids[hit.index] for hit in self.scorer.rank(query, texts)]


def via_route(via: str, model: str, **options: Any) -> RerankRoute:
    """The route for ``crossrank eval --via``: the core scorer, or crossrank's LangChain or LlamaIndex adapter.

    ``options`` are scorer options (:class:`rerank_core.ScorerOptions` fields). The adapters keep every
    candidate (``top_n=None``) and share the core's model for these options.
    """
    if via == "core":
        return CoreRoute(get_scorer(model, **options))
    if via == "langchain":
        from langchain_rerank import CrossEncoderReranker

        from .langchain import LangChainRoute

        return LangChainRoute(CrossEncoderReranker(model=model, top_n=None, **options))
    if via == "llamaindex":
        from llamaindex_rerank import CrossEncoderRerank

        from .llamaindex import LlamaIndexRoute

        return LlamaIndexRoute(CrossEncoderRerank(model=model, top_n=None, **options))
    raise ValueError(f"Unknown --via {via!r}; choose one of {', '.join(VIAS)}.")
