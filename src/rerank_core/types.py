"""The small result type returned by ranking."""

from __future__ import annotations

from dataclasses import dataclass

BEST_CHUNK_KEY = "best_chunk"
"""The metadata key both adapters fill with the best chunk (``{"text", "start", "end"}``) when asked to."""


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked input: its position in the caller's list, its score and where in the text the score came from.

    ``score`` is a plain Python ``float`` (JSON-serialisable), activated as the scorer
    was configured (a 0..1 relevance with ``activation="sigmoid"``).
    """

    index: int
    score: float
    span: tuple[int, int] | None = None
    """The ``(start, end)`` characters of the text the score was read from: the whole text when it fits the
    window, its start when truncated, its best chunk with ``long_documents="max_chunk"``; ``None`` where the
    scorer does not say (a served model, a LangChain cross-encoder)."""

    def best_chunk(self, text: str) -> dict[str, object]:
        """``{"text", "start", "end"}``: the part of ``text`` (the ranked input) the score came from, for citing."""
        if self.span is None:
            raise ValueError("This result has no span: its scorer does not report where a score came from.")
        start, end = self.span
        return {"text": text[start:end], "start": start, "end": end}
