"""First-stage candidates per query, and a reranked head put back in front of them."""

from __future__ import annotations

from collections.abc import Sequence

Candidates = dict[str, list[str]]
"""query id -> candidate doc ids, best first."""


def reranked_first(reranked: Sequence[str], candidates: Sequence[str]) -> list[str]:
    """``reranked``, then every candidate it does not hold (beyond the window, or not returned) in first-stage order."""
    returned = set(reranked)
    return [*reranked, *(doc for doc in candidates if doc not in returned)]
