"""``CrossEncoderScorer``: the one front class that scores and ranks (query, text) pairs."""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rerank_core.backends import Backend, check_backend, load_backend
from rerank_core.backends.precision import Precision, check_precision
from rerank_core.base import Scorer
from rerank_core.engine.activation import ACTIVATIONS, Activation, relevance_scores
from rerank_core.engine.batching import length_sorted_batches, pad_batch
from rerank_core.engine.encoding import LONG_DOCUMENT_MODES, EncodedPairs, LongDocuments, PairEncoder
from rerank_core.engine.families import FAMILIES
from rerank_core.engine.microbatch import MicroBatcher
from rerank_core.engine.model_loading import showing_load_progress
from rerank_core.engine.prompt_encoding import PromptEncoder
from rerank_core.engine.score_cache import ScoreCache
from rerank_core.engine.tokens import Tokens
from rerank_core.errors import InvalidArgumentError
from rerank_core.ranking import arank_texts, rank_texts
from rerank_core.types import Ranked
from rerank_core.validation import check_positive_int, check_query, check_texts

logger = logging.getLogger(__name__)

InputEncoder = PairEncoder | PromptEncoder
"""Builds a family's model inputs: the tokenizer's pair template, or a prompt."""

DEFAULT_MODEL = "cross-encoder/ms-marco-MiniLM-L6-v2"


class CrossEncoderScorer(Scorer):
    """Scores and ranks texts against a query with a Hugging Face cross-encoder.

    The model is loaded on first use (or by :meth:`load`), once, under a lock; scoring from
    many threads at once is safe. Inputs are never modified.

    Args:
        model_name_or_path: A Hugging Face model id or a local folder.
        backend: ``"torch"`` (sentence-transformers on PyTorch) or ``"onnx"`` (ONNX Runtime, no torch).
        device: ``None`` picks CUDA when available, else CPU.
        precision: ``"auto"`` picks the fastest precision that keeps the ranking (fp16 on CUDA, bf16 on
            CPUs with AMX or AVX-512 BF16, else fp32); or ``"fp32"``, ``"bf16"``, ``"fp16"``, ``"int8"``
            (ONNX only). See :mod:`rerank_core.backends.precision`.
        threads: Intra-op threads of the ONNX Runtime session (default: the machine's cores). The torch
            backend uses PyTorch's process-wide setting (``torch.set_num_threads``) instead.
        batch_size: Pairs per forward pass.
        max_length: Tokens per pair; ``None`` means the model's own limit (never unbounded).
        activation: ``"sigmoid"`` for 0..1 relevance (softmax of the positive class for two-label
            models), ``"none"`` for raw logits (the positive-minus-negative margin for two labels), or
            ``"calibrated"`` for the authors' calibration where a family publishes one (mxbai-rerank-v2).
        long_documents: ``"truncate"`` (balanced: the query is kept) or ``"max_chunk"`` (overlapping
            windows, the best window's score).
        trust_remote_code: Run code shipped with the checkpoint. Off unless you trust its author.
        model_kwargs: Passed to the model's ``from_pretrained`` (for example ``{"dtype": torch.bfloat16}``).
        cache_size: Keep up to this many scores in an LRU cache keyed by (model, options, query, text
            hash); repeated pairs then skip the model. ``0`` (the default) turns the cache off.
        batch_wait_ms: In :meth:`ascore` / :meth:`arank`, how long a request waits for concurrent ones
            to share its model batches.
        max_batch_pairs: In the async path, the most pairs scored in one shared group.
        family: The model family (:data:`rerank_core.engine.families.FAMILIES`: ``"cross-encoder"``,
            ``"qwen3-reranker"``, ...); ``None`` detects it from the checkpoint's config and name.
        instruction: The default instruction of prompt models that take one (Qwen3-Reranker,
            mxbai-rerank-v2); ``None`` keeps the model's own default. Calls may pass their own.

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
        precision: Precision = "auto",
        threads: int | None = None,
        batch_size: int = 32,
        max_length: int | None = None,
        activation: Activation = "sigmoid",
        long_documents: LongDocuments = "truncate",
        trust_remote_code: bool = False,
        model_kwargs: dict[str, Any] | None = None,
        cache_size: int = 0,
        batch_wait_ms: float = 2.0,
        max_batch_pairs: int = 1024,
        family: str | None = None,
        instruction: str | None = None,
    ) -> None:
        if not isinstance(model_name_or_path, str) or not model_name_or_path.strip():
            raise InvalidArgumentError(f"model_name_or_path must be a model id or path, got {model_name_or_path!r}.")
        if activation not in ACTIVATIONS:
            raise InvalidArgumentError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
        if long_documents not in LONG_DOCUMENT_MODES:
            raise InvalidArgumentError(f"long_documents must be one of {LONG_DOCUMENT_MODES}, got {long_documents!r}.")
        if max_length is not None:
            check_positive_int("max_length", max_length)
        if threads is not None:
            check_positive_int("threads", threads)
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise InvalidArgumentError(f"cache_size must be an integer >= 0 (0 is off), got {cache_size!r}.")
        if isinstance(batch_wait_ms, bool) or not isinstance(batch_wait_ms, Real) or not 0 <= batch_wait_ms <= 1000:
            raise InvalidArgumentError(f"batch_wait_ms must be milliseconds in 0..1000, got {batch_wait_ms!r}.")
        self.model_name_or_path = model_name_or_path
        self.backend_name = check_backend(backend)
        self.device = device
        self.precision: Precision = check_precision(precision)
        self.threads = threads
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.max_length = max_length
        self.activation: Activation = activation
        self.long_documents: LongDocuments = long_documents
        self.trust_remote_code = bool(trust_remote_code)
        self.model_kwargs = dict(model_kwargs or {})
        self.cache_size = cache_size
        self.batch_wait_ms = float(batch_wait_ms)
        self.max_batch_pairs = check_positive_int("max_batch_pairs", max_batch_pairs)
        if family is not None and family not in FAMILIES:
            raise InvalidArgumentError(f"Unknown family {family!r}; choose one of {', '.join(FAMILIES)}.")
        self.family = family
        self.instruction = _checked_instruction(instruction)
        self.cache = ScoreCache(cache_size, self._cache_namespace()) if cache_size else None
        """The score cache (``None`` when ``cache_size`` is 0); its ``hits`` and ``misses`` count pairs."""
        self._lock = threading.Lock()
        self._model: tuple[Backend, InputEncoder] | None = None
        self._batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MicroBatcher] = weakref.WeakKeyDictionary()
        self._batchers_lock = threading.Lock()
        self._warned_truncation = False
        self._shift: float | None = None

    def __repr__(self) -> str:
        return (
            f"CrossEncoderScorer({self.model_name_or_path!r}, backend={self.backend_name!r}, "
            f"device={self.device!r}, precision={self.precision!r}, long_documents={self.long_documents!r})"
        )

    @property
    def options(self) -> dict[str, Any]:
        """The constructor options besides the model, as passed (``device=None`` stays ``None``)."""
        return {
            "backend": self.backend_name,
            "device": self.device,
            "precision": self.precision,
            "threads": self.threads,
            "batch_size": self.batch_size,
            "max_length": self.max_length,
            "activation": self.activation,
            "long_documents": self.long_documents,
            "trust_remote_code": self.trust_remote_code,
            "model_kwargs": dict(self.model_kwargs),
            "cache_size": self.cache_size,
            "batch_wait_ms": self.batch_wait_ms,
            "max_batch_pairs": self.max_batch_pairs,
            "family": self.family,
            "instruction": self.instruction,
        }

    @property
    def precision_used(self) -> str | None:
        """The precision the loaded model runs in (``auto`` resolved), or ``None`` before loading."""
        return None if self._model is None else self._model[0].precision

    @property
    def device_used(self) -> str | None:
        """The device the loaded model runs on (``device=None`` resolved), or ``None`` before loading."""
        return None if self._model is None else self._model[0].device

    @property
    def family_used(self) -> str | None:
        """The model family of the loaded model (``family=None`` detected), or ``None`` before loading."""
        return None if self._model is None else self._model[0].family.name

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded."""
        return self._model is not None

    def load(self) -> CrossEncoderScorer:
        """Load the model now (it otherwise loads on first use); returns ``self``. Thread-safe."""
        self._loaded_model()
        return self

    def _loaded_model(self, show_progress: bool = False) -> tuple[Backend, InputEncoder]:
        """The backend and pair encoder, loading them once; a failed load leaves nothing behind."""
        if self._model is None:
            with self._lock, showing_load_progress(show_progress):
                if self._model is None:
                    backend = load_backend(
                        self.backend_name,
                        self.model_name_or_path,
                        device=self.device,
                        precision=self.precision,
                        threads=self.threads,
                        max_length=self.max_length,
                        trust_remote_code=self.trust_remote_code,
                        model_kwargs=self.model_kwargs,
                        family=self.family,
                    )
                    if self.activation == "calibrated" and backend.spec.calibration_shift is None:
                        raise InvalidArgumentError(
                            f"activation='calibrated' needs a family with a published calibration (mxbai-rerank-v2); "
                            f"{self.model_name_or_path!r} is {backend.family.name}. Use 'sigmoid' or 'none'."
                        )
                    self._shift = backend.spec.calibration_shift
                    self._model = (backend, backend.spec.encoder(backend.tokenizer))
        return self._model

    def score(
        self,
        query: str,
        texts: Sequence[str],
        *,
        batch_size: int | None = None,
        show_progress: bool = False,
        instruction: str | None = None,
    ) -> np.ndarray:
        """Score each text against ``query``.

        ``instruction`` replaces the scorer's (and the model's default) for this call, for prompt models
        that take one; other models refuse it.

        Returns:
            ``np.ndarray`` of float32, one score per text, in input order (empty for no texts).
        """
        groups = [(query, texts)]
        return self.score_groups(groups, batch_size=batch_size, show_progress=show_progress, instruction=instruction)[0]

    def score_groups(
        self,
        groups: Sequence[tuple[str, Sequence[str]]],
        *,
        batch_size: int | None = None,
        show_progress: bool = False,
        instruction: str | None = None,
    ) -> list[np.ndarray]:
        """Score several ``(query, texts)`` groups at once: their pairs share length-sorted model batches.

        What a Ray Data actor does with the rows of a batch and a Ray Serve replica with concurrent
        requests. Each result is what :meth:`score` gives for that group (to 1e-6 in fp32; to about 5e-3
        in bf16, where a score moves with the padding width of its batch). Every group is validated
        before anything is scored.

        Returns:
            One float32 array per group, in group order, each in its texts' order.
        """
        if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence):
            raise InvalidArgumentError(f"groups must be a sequence of (query, texts), got {type(groups).__name__}.")
        for i, group in enumerate(groups):
            if not isinstance(group, (tuple, list)) or len(group) != 2:
                raise InvalidArgumentError(f"groups[{i}] must be a (query, texts) pair, got {type(group).__name__}.")
            check_query(group[0])
            check_texts(group[1])
        size = self.batch_size if batch_size is None else check_positive_int("batch_size", batch_size)
        instruction = _checked_instruction(instruction) or self.instruction
        cached = [self._cached(query, texts, instruction) for query, texts in groups]
        parts = [(g, part) for g, (_, _, missing) in enumerate(cached) for part in _chunks(missing)]
        if parts:
            backend, encoder = self._loaded_model(show_progress)
            for run in _runs(parts):
                encoded = [
                    self._encode(encoder, groups[g][0], [groups[g][1][i] for i in part], instruction) for g, part in run
                ]
                logits = _forward(backend, [e for pairs in encoded for e in pairs.encodings], size, show_progress)
                start = 0
                for (g, part), pairs in zip(run, encoded):
                    scores, keys, _ = cached[g]
                    stop = start + len(pairs.encodings)
                    self._fill(scores, keys, part, pairs, logits[start:stop])
                    start = stop
        return [scores for scores, _, _ in cached]

    async def ascore(self, query: str, texts: Sequence[str], *, instruction: str | None = None) -> np.ndarray:
        """:meth:`score` for asyncio: concurrent calls on one event loop share model batches.

        Loading, tokenizing and the model run in worker threads, so the event loop stays free.
        Scores equal :meth:`score`'s to 1e-6 in fp32 (to about 5e-3 in bf16, where a score moves with the
        padding width of the shared batch); cancelling one call leaves the others untouched.
        """
        check_query(query)
        check_texts(texts)
        instruction = _checked_instruction(instruction) or self.instruction
        scores, keys, missing = self._cached(query, texts, instruction)
        if missing:
            _, encoder = await asyncio.to_thread(self._loaded_model)
            for part in _chunks(missing):
                pairs = await asyncio.to_thread(self._encode, encoder, query, [texts[i] for i in part], instruction)
                logits = await self._batcher().submit(pairs.encodings)
                self._fill(scores, keys, part, pairs, logits)
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
        instruction: str | None = None,
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
            lambda q, ts: self.score(
                q, ts, batch_size=batch_size, show_progress=show_progress, instruction=instruction
            ),
            query,
            texts,
            top_n=top_n,
            min_score=min_score,
            rank_window_size=rank_window_size,
        )

    async def arank(
        self,
        query: str,
        texts: Sequence[str],
        *,
        top_n: int | None = None,
        min_score: float | None = None,
        rank_window_size: int | None = None,
        instruction: str | None = None,
    ) -> list[Ranked]:
        """:meth:`rank` for asyncio, scored through :meth:`ascore`."""

        async def score(q: str, ts: Sequence[str]) -> np.ndarray:
            return await self.ascore(q, ts, instruction=instruction)

        return await arank_texts(
            score, query, texts, top_n=top_n, min_score=min_score, rank_window_size=rank_window_size
        )

    def _cache_namespace(self) -> str:
        """What a score depends on besides query and text."""
        return repr(
            (
                self.model_name_or_path,
                self.backend_name,
                self.device,
                self.precision,
                self.max_length,
                self.activation,
                self.long_documents,
                self.family,
                sorted((str(k), repr(v)) for k, v in self.model_kwargs.items()),
            )
        )

    def _cached(
        self, query: str, texts: Sequence[str], instruction: str | None
    ) -> tuple[np.ndarray, list[bytes], list[int]]:
        """Scores filled from the cache, the texts' cache keys and the indices still to score."""
        scores = np.full(len(texts), np.nan, dtype=np.float32)
        if self.cache is None or not texts:
            return scores, [], list(range(len(texts)))
        keys = self.cache.keys_for(query if instruction is None else f"{instruction}\x1f{query}", texts)
        missing = []
        for i, hit in enumerate(self.cache.get_many(keys)):
            if hit is None:
                missing.append(i)
            else:
                scores[i] = hit
        return scores, keys, missing

    def _encode(self, encoder: InputEncoder, query: str, texts: Sequence[str], instruction: str | None) -> EncodedPairs:
        pairs = encoder.encode(query, texts, self.long_documents, instruction)
        self._warn_truncation(pairs.truncated, len(texts), encoder.max_length)
        return pairs

    def _fill(
        self, scores: np.ndarray, keys: list[bytes], missing: list[int], pairs: EncodedPairs, logits: np.ndarray
    ) -> None:
        """Write the activated scores of the texts at ``missing`` (best window each) and cache them."""
        per_text = np.full(len(missing), -np.inf, dtype=np.float32)
        np.maximum.at(
            per_text, np.asarray(pairs.owners, dtype=np.int64), relevance_scores(logits, self.activation, self._shift)
        )
        scores[missing] = per_text
        if self.cache is not None:
            self.cache.put_many([keys[i] for i in missing], per_text.tolist())

    def _batcher(self) -> MicroBatcher:
        """This event loop's micro-batcher (one per loop, created on first use)."""
        loop = asyncio.get_running_loop()
        with self._batchers_lock:
            batcher = self._batchers.get(loop)
            if batcher is None:
                batcher = MicroBatcher(self._run_group, max_wait_ms=self.batch_wait_ms, max_pairs=self.max_batch_pairs)
                self._batchers[loop] = batcher
        return batcher

    def _run_group(self, encodings: list[Tokens]) -> np.ndarray:
        backend, _ = self._loaded_model()
        return _forward(backend, encodings, self.batch_size, show_progress=False)

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


def _checked_instruction(instruction: object) -> str | None:
    """``instruction`` if it is ``None`` or a non-blank string."""
    if instruction is not None and (not isinstance(instruction, str) or not instruction.strip()):
        raise InvalidArgumentError(f"instruction must be a non-blank string or None, got {instruction!r}.")
    return instruction


TEXTS_PER_CHUNK = 1024
"""Texts tokenized and scored together within one call: memory stays bounded however many texts come in,
while length-sorted batching still has a thousand texts to sort."""


def _chunks(indices: list[int]) -> list[list[int]]:
    """``indices`` in consecutive runs of at most :data:`TEXTS_PER_CHUNK`."""
    return [indices[start : start + TEXTS_PER_CHUNK] for start in range(0, len(indices), TEXTS_PER_CHUNK)]


def _runs(parts: list[tuple[int, list[int]]]) -> list[list[tuple[int, list[int]]]]:
    """Consecutive ``(group, indices)`` parts packed into runs of at most :data:`TEXTS_PER_CHUNK` texts."""
    runs: list[list[tuple[int, list[int]]]] = []
    count = TEXTS_PER_CHUNK
    for part in parts:
        if count + len(part[1]) > TEXTS_PER_CHUNK:
            runs.append([])
            count = 0
        runs[-1].append(part)
        count += len(part[1])
    return runs


def _forward(backend: Backend, encodings: list[Tokens], batch_size: int, show_progress: bool) -> np.ndarray:
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
