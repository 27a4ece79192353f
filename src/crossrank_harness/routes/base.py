"""What every rerank route does: build a call's inputs (untimed), then rerank them (timed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class RerankRoute(Protocol):
    """One way of reranking a query's candidates.

    ``prepare`` builds the inputs the way a pipeline would already hold them (documents, nodes, a
    retriever); ``rerank`` is the call that is timed and returns the candidate ids best first.
    """

    def prepare(self, query: str, doc_ids: Sequence[str], texts: Sequence[str]) -> Any:
        """Build this route's inputs for one query (not timed)."""
        ...

    def rerank(self, query: str, prepared: Any) -> list[str]:
        """Rerank the prepared candidates; the ids of every candidate returned, best first."""
        ...
