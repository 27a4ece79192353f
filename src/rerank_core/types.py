"""The small result type returned by ranking."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked input: its position in the caller's list and its score.

    ``score`` is a plain Python ``float`` (JSON-serialisable), activated as the scorer
    was configured (a 0..1 relevance with ``activation="sigmoid"``).
    """

    index: int
    score: float
