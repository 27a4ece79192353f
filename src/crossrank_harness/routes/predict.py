"""Plain sentence-transformers: ``CrossEncoder.predict`` on (query, text) pairs, as a baseline and reference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class PredictRoute:
    """``sentence_transformers.CrossEncoder.predict`` on (query, text) pairs, sorted by score."""

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
