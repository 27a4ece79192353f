"""``CrossEncoderScorer``: the one front class that scores and ranks (query, text) pairs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from tokenizers import Encoding
from tqdm.auto import tqdm

from .activation import ACTIVATIONS, Activation, relevance_scores
from .backends import Backend, check_backend, load_backend
from .batching import length_sorted_batches, pad_batch
from .encoding import LONG_DOCUMENT_MODES, LongDocuments, PairEncoder
from .errors import InvalidArgumentError
from .ranking import rank_texts
from .types import Ranked
from .validation import check_positive_int, check_query, check_texts

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "cross-encoder/ms-marco-MiniLM-L6-v2"


class CrossEncoderScorer:
    """Scores and ranks texts against a query with a Hugging Face cross-encoder.

    The model is loaded on first use (or by :meth:`load`), once, under a lock; scoring from
    many threads at once is safe. Inputs are never modified.

    Args:
        model_name_or_path: A Hugging Face model id or a local folder.
        backend: ``"torch"`` (sentence-transformers on PyTorch).
        device: ``None`` picks CUDA when available, else CPU.
        batch_size: Pairs per forward pass.
        max_length: Tokens per pair; ``None`` means the model's own limit (never unbounded).
        activation: ``"sigmoid"`` for 0..1 relevance (softmax of the positive class for two-label
            models) or ``"none"`` for raw logits (the positive-minus-negative margin for two labels).
        long_documents: ``"truncate"`` (balanced: the query is kept) or ``"max_chunk"`` (overlapping
            windows, the best window's score).
        trust_remote_code: Run code shipped with the checkpoint. Off unless you trust its author.
        model_kwargs: Passed to the model's ``from_pretrained`` (for example ``{"dtype": torch.bfloat16}``).

    Example:
        >>> scorer = CrossEncoderScorer("cross-encoder/ms-marco-MiniLM-L6-v2")
        >>> scorer.rank("what is X?", ["X is a letter.", "Bananas."], top_n=1)
        [Ranked(index=0, score=0.98...)]
    """

    def __init__(
        self,
        model_name_or_path: str = DEFAULT_MODEL,
        *,
        backend: str = "torch",
        device: str | None = None,
        batch_size: int = 32,
        max_length: int | None = None,
        activation: Activation = "sigmoid",
        long_documents: LongDocuments = "truncate",
        trust_remote_code: bool = False,
        model_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(model_name_or_path, str) or not model_name_or_path.strip():
            raise InvalidArgumentError(f"model_name_or_path must be a model id or path, got {model_name_or_path!r}.")
        if activation not in ACTIVATIONS:
            raise InvalidArgumentError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
        if long_documents not in LONG_DOCUMENT_MODES:
            raise InvalidArgumentError(f"long_documents must be one of {LONG_DOCUMENT_MODES}, got {long_documents!r}.")
        if max_length is not None:
            check_positive_int("max_length", max_length)
        self.model_name_or_path = model_name_or_path
        self.backend_name = check_backend(backend)
        self.device = device
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.max_length = max_length
        self.activation: Activation = activation
        self.long_documents: LongDocuments = long_documents
        self.trust_remote_code = bool(trust_remote_code)
        self.model_kwargs = dict(model_kwargs or {})
        self._lock = threading.Lock()
        self._model: tuple[Backend, PairEncoder] | None = None
        self._warned_truncation = False

    def __repr__(self) -> str:
        return (
            f"CrossEncoderScorer({self.model_name_or_path!r}, backend={self.backend_name!r}, "
            f"device={self.device!r}, long_documents={self.long_documents!r})"
        )

    @property
    def options(self) -> dict[str, Any]:
        """The constructor options besides the model, as passed (``device=None`` stays ``None``)."""
        return {
            "backend": self.backend_name,
            "device": self.device,
            "batch_size": self.batch_size,
            "max_length": self.max_length,
            "activation": self.activation,
            "long_documents": self.long_documents,
            "trust_remote_code": self.trust_remote_code,
            "model_kwargs": dict(self.model_kwargs),
        }

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded."""
        return self._model is not None

    def load(self) -> CrossEncoderScorer:
        """Load the model now (it otherwise loads on first use); returns ``self``. Thread-safe."""
        self._loaded_model()
        return self

    def _loaded_model(self) -> tuple[Backend, PairEncoder]:
        """The backend and pair encoder, loading them once; a failed load leaves nothing behind."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    backend = load_backend(
                        self.backend_name,
                        self.model_name_or_path,
                        device=self.device,
                        max_length=self.max_length,
                        trust_remote_code=self.trust_remote_code,
                        model_kwargs=self.model_kwargs,
                    )
                    self._model = (backend, PairEncoder(backend.tokenizer, backend.max_length))
        return self._model

    def score(
        self, query: str, texts: Sequence[str], *, batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        """Score each text against ``query``.

        Returns:
            ``np.ndarray`` of float32, one score per text, in input order (empty for no texts).
        """
        check_query(query)
        check_texts(texts)
        size = self.batch_size if batch_size is None else check_positive_int("batch_size", batch_size)
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float32)
        backend, encoder = self._loaded_model()
        pairs = encoder.encode(query, texts, self.long_documents)
        self._warn_truncation(pairs.truncated, len(texts), encoder.max_length)
        logits = _forward(backend, pairs.encodings, size, show_progress)
        window_scores = relevance_scores(logits, self.activation)
        scores = np.full(len(texts), -np.inf, dtype=np.float32)
        np.maximum.at(scores, np.asarray(pairs.owners, dtype=np.int64), window_scores)
        return scores

    def rank(
        self,
        query: str,
        texts: Sequence[str],
        *,
        top_n: int | None = None,
        min_score: float | None = None,
        rank_window_size: int | None = None,
        batch_size: int | None = None,
        show_progress: bool = False,
    ) -> list[Ranked]:
        """Rank texts best first, as Elasticsearch's ``text_similarity_reranker`` does.

        Args:
            rank_window_size: Score only the first N texts; the rest are dropped, not scored.
            min_score: Drop results whose (activated) score is below this.
            top_n: Keep at most this many, after ``min_score``; ``None`` keeps all.

        Returns:
            ``Ranked(index, score)`` records, best first; ties keep input order.
        """
        return rank_texts(
            lambda q, ts: self.score(q, ts, batch_size=batch_size, show_progress=show_progress),
            query,
            texts,
            top_n=top_n,
            min_score=min_score,
            rank_window_size=rank_window_size,
        )

    def _warn_truncation(self, truncated: int, total: int, max_length: int) -> None:
        if truncated and self.long_documents == "truncate" and not self._warned_truncation:
            self._warned_truncation = True
            logger.warning(
                "%d of %d (query, text) pairs exceed the %d-token window of %s and were truncated "
                "(the query is kept). Pass long_documents='max_chunk' to score every part of long texts.",
                truncated,
                total,
                max_length,
                self.model_name_or_path,
            )


def _forward(backend: Backend, encodings: list[Encoding], batch_size: int, show_progress: bool) -> np.ndarray:
    """Run all encodings through the model in length-sorted batches; logits come back in input order."""
    logits = np.empty((len(encodings), 0), dtype=np.float32)
    batches = length_sorted_batches(encodings, batch_size)
    total = -(-len(encodings) // batch_size)
    for indices in tqdm(batches, total=total, desc="Reranking", unit="batch", disable=not show_progress):
        out = backend.forward(pad_batch(encodings, indices, backend.pad_token_id, backend.input_names))
        if logits.shape[1] != out.shape[1]:
            logits = np.empty((len(encodings), out.shape[1]), dtype=np.float32)
        logits[indices] = out
    return logits
