"""Reranking through LlamaIndex: a node postprocessor on ``NodeWithScore`` lists."""

from __future__ import annotations

from collections.abc import Sequence

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, TextNode


class LlamaIndexRoute:
    """``postprocessor.postprocess_nodes(nodes, query_str=query)`` on fresh nodes per call."""

    def __init__(self, postprocessor: BaseNodePostprocessor) -> None:
        self.postprocessor = postprocessor

    def prepare(self, query: str, doc_ids: Sequence[str], texts: Sequence[str]) -> list[NodeWithScore]:
        """New nodes (some postprocessors write scores into the nodes they are given)."""
        return [
            NodeWithScore(node=TextNode(id_=doc_id, text=text), score=None)
            for doc_id, text in zip(doc_ids, texts, strict=True)
        ]

    def rerank(self, query: str, prepared: list[NodeWithScore]) -> list[str]:
        """Run the postprocessor."""
        return [item.node.node_id for item in self.postprocessor.postprocess_nodes(prepared, query_str=query)]

    async def ascored(self, query: str, prepared: list[NodeWithScore]) -> list[tuple[str, float]]:
        """``apostprocess_nodes``; (id, score) of every candidate, best first (NaN where a node has no score)."""
        results = await self.postprocessor.apostprocess_nodes(prepared, query_str=query)
        return [(item.node.node_id, float("nan") if item.score is None else item.score) for item in results]
