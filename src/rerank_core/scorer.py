"""``CrossEncoderScorer``: the one front class that scores and ranks (query, text) pairs."""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Unpack

import numpy as np
from tokenizers import Tokenizer
from tqdm.auto import tqdm

from rerank_core.backends import Backend, load_backend
from rerank_core.base import Scorer
from rerank_core.engine.activation import Activation, relevance_scores
from rerank_core.engine.batching import length_sorted_batches, pad_batch
from rerank_core.engine.encoding import EncodedPairs, PairEncoder, clean_copy
from rerank_core.engine.microbatch import MicroBatcher
from rerank_core.engine.model_loading import showing_load_progress
from rerank_core.engine.prompt_encoding import PromptEncoder
from rerank_core.engine.score_cache import ScoreCache
from rerank_core.engine.token_budget import encode_prefixes
from rerank_core.engine.tokens import Tokens
from rerank_core.errors import InvalidArgumentError
from rerank_core.options import ScorerOptions
from rerank_core.ranking import RankRules, RankSpec, arank_texts, rank_texts
from rerank_core.types import Ranked
from rerank_core.validation import check_instruction, check_positive_int, check_query, check_texts, validated

logger = logging.getLogger(__name__)

InputEncoder = PairEncoder | PromptEncoder
"""Builds a family's model inputs: the tokenizer's pair template, or a prompt."""

DEFAULT_MODEL = "cross-encoder/ms-marco-MiniLM-L6-v2"
"""The model a scorer loads when none is named (fetched from the Hugging Face hub, then cached)."""


class CrossEncoderScorer(Scorer):
    """Scores and ranks texts against a query with a Hugging Face cross-encoder.

    The model is loaded on first use (or by :meth:`load`), once, under a lock; scoring from
    many threads at once is safe. Inputs are never modified.

    Args:
        model_name_or_path: A Hugging Face model id or a local folder.
        options: A :class:`rerank_core.ScorerOptions`, or give its fields as keywords (``backend="onnx"``,
            ``batch_size=16``, ...); keywords override ``options``. A bad or unknown option raises
            :class:`InvalidArgumentError`. Each option reads back as an attribute (``scorer.batch_size``).

    Example:
        >>> scorer = CrossEncoderScorer("cross-encoder/ms-marco-MiniLM-L6-v2")
        >>> scorer.rank("what is X?", ["X is a letter.", "Bananas."], top_n=1)
        [Ranked(index=0, score=0.98...)]
    """

    reports_spans = True

    def __init__(
        self, model_name_or_path: str = DEFAULT_MODEL, *, options: ScorerOptions | None = None, **overrides: Any
    ) -> None:
        if not isinstance(model_name_or_path, str) or not model_name_or_path.strip():
            raise InvalidArgumentError(f"model_name_or_path must be a model id or path, got {model_name_or_path!r}.")
        given = {} if options is None else options.scorer_options().model_dump(exclude_unset=True)
        self.model_name_or_path = model_name_or_path
        self._options = validated(ScorerOptions, {**given, **overrides})
        self.cache: ScoreCache[tuple[float, int, int]] | None = (
            ScoreCache(self._options.cache_size, repr((model_name_or_path, self._options.cache_namespace())))
            if self._options.cache_size
            else None
        )
        """The score cache (``None`` when ``cache_size`` is 0); its ``hits`` and ``misses`` count pairs."""
        self._lock = threading.Lock()
        self._model: tuple[Backend, InputEncoder] | None = None
        self._batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MicroBatcher] = weakref.WeakKeyDictionary()
        self._batchers_lock = threading.Lock()
        self._warned_truncation = False
        self._shift: float | None = None
        self._chunks = self._options.chunk_plan()
        self._plain_tokenizer: Tokenizer | None = None

    def __getattr__(self, name: str) -> Any:
        """Each option reads as an attribute: ``scorer.batch_size``, ``scorer.precision`` (as configured)."""
        if name in ScorerOptions.model_fields and "_options" in self.__dict__:
            return getattr(self._options, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        o = self._options
        return (
            f"CrossEncoderScorer({self.model_name_or_path!r}, backend={o.backend!r}, "
            f"device={o.device!r}, precision={o.precision!r}, long_documents={o.long_documents!r})"
        )

    @property
    def options(self) -> ScorerOptions:
        """The options it was built with, as passed (``device=None`` stays ``None``); a copy."""
        return self._options.model_copy(update={"model_kwargs": dict(self._options.model_kwargs)})

    @property
    def precision_used(self) -> str | None:
        """The precision the loaded model runs in (``auto`` resolved), or ``None`` before loading."""
        return None if self._model is None else self._model[0].precision

    @property
    def device_used(self) -> str | None:
        """The device the loaded model runs on (``device=None`` resolved), or ``None`` before loading."""
        return None if self._model is None else self._model[0].device

    @property
    def max_length_used(self) -> int | None:
        """Tokens per pair of the loaded model (``max_length=None`` resolved to the model's own limit), or ``None``
        before loading."""
        return None if self._model is None else self._model[1].max_length

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

    def activated(self, raw_scores: np.ndarray, activation: Activation) -> np.ndarray:
        """Scores given with ``activation="none"`` as ``activation`` gives them for this model (loading it): a
        served reranker scores raw and activates per request."""
        self._loaded_model()
        return relevance_scores(raw_scores, activation, self._shift)

    def first_tokens(self, texts: Sequence[str], max_tokens: int) -> list[str]:
        """Each text cut after its first ``max_tokens`` tokens of the model's tokenizer (shorter texts whole),
        loading the model: Cohere's ``max_tokens_per_doc``."""
        check_positive_int("max_tokens", max_tokens)
        backend, _ = self._loaded_model()
        if self._plain_tokenizer is None:
            self._plain_tokenizer = clean_copy(backend.tokenizer)
        prefixes = encode_prefixes(self._plain_tokenizer, texts, max_tokens)
        return [
            text if len(prefix.offsets) <= max_tokens else text[: prefix.offsets[max_tokens - 1][1]]
            for text, prefix in zip(texts, prefixes)
        ]

    def tokens_read(self, query: str, texts: Sequence[str], *, instruction: str | None = None) -> np.ndarray:
        """The tokens the model reads for each text beside ``query`` (special tokens included, every chunk's with
        ``long_documents="max_chunk"``), loading the model: the work a call costs."""
        _, encoder = self._loaded_model()
        instruction = check_instruction(instruction) or self._options.instruction
        pairs = encoder.encode(check_query(query), check_texts(texts), self._chunks, instruction)
        counts = np.zeros(len(texts), dtype=np.int64)
        np.add.at(counts, np.asarray(pairs.owners, dtype=np.int64), [len(e) for e in pairs.encodings])
        return counts

    def overflowing(self, query: str, texts: Sequence[str], *, instruction: str | None = None) -> int:
        """How many ``texts`` do not fit the model's window whole beside ``query`` (what truncation would cut or
        chunking split), loading the model: TEI's ``truncate=false`` check."""
        _, encoder = self._loaded_model()
        instruction = check_instruction(instruction) or self._options.instruction
        return encoder.encode(check_query(query), check_texts(texts), None, instruction).truncated

    def _loaded_model(self, show_progress: bool = False) -> tuple[Backend, InputEncoder]:
        """The backend and pair encoder, loading them once; a failed load leaves nothing behind."""
        if self._model is None:
            with self._lock, showing_load_progress(show_progress):
                if self._model is None:
                    backend = load_backend(self.model_name_or_path, self._options)
                    if self._options.activation == "calibrated" and backend.spec.calibration_shift is None:
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
        return [scores for scores, _ in self._score_groups(groups, batch_size, show_progress, instruction)]

    def _score_groups(
        self,
        groups: Sequence[tuple[str, Sequence[str]]],
        batch_size: int | None,
        show_progress: bool,
        instruction: str | None,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`score_groups`, with each group's spans: per text, the characters its score was read from."""
        if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence):
            raise InvalidArgumentError(f"groups must be a sequence of (query, texts), got {type(groups).__name__}.")
        for i, group in enumerate(groups):
            if not isinstance(group, (tuple, list)) or len(group) != 2:
                raise InvalidArgumentError(f"groups[{i}] must be a (query, texts) pair, got {type(group).__name__}.")
            check_query(group[0])
            check_texts(group[1])
        size = self._options.batch_size if batch_size is None else check_positive_int("batch_size", batch_size)
        instruction = check_instruction(instruction) or self._options.instruction
        cached = [self._cached(query, texts, instruction) for query, texts in groups]
        parts = [(g, part) for g, found in enumerate(cached) for part in _chunks(found.missing)]
        if parts:
            backend, encoder = self._loaded_model(show_progress)
            for run in _runs(parts):
                encoded = [
                    self._encode(encoder, groups[g][0], [groups[g][1][i] for i in part], instruction) for g, part in run
                ]
                logits = _forward(backend, [e for pairs in encoded for e in pairs.encodings], size, show_progress)
                start = 0
                for (g, part), pairs in zip(run, encoded):
                    stop = start + len(pairs.encodings)
                    self._fill(cached[g], part, pairs, logits[start:stop])
                    start = stop
        return [(found.scores, found.spans) for found in cached]

    async def ascore(self, query: str, texts: Sequence[str], *, instruction: str | None = None) -> np.ndarray:
        """:meth:`score` for asyncio: concurrent calls on one event loop share model batches.

        Loading, tokenizing and the model run in worker threads, so the event loop stays free.
        Scores equal :meth:`score`'s to 1e-6 in fp32 (to about 5e-3 in bf16, where a score moves with the
        padding width of the shared batch); cancelling one call leaves the others untouched.
        """
        return (await self._ascore(query, texts, instruction))[0]

    async def _ascore(self, query: str, texts: Sequence[str], instruction: str | None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`ascore`, with the spans the scores were read from."""
        check_query(query)
        check_texts(texts)
        instruction = check_instruction(instruction) or self._options.instruction
        found = self._cached(query, texts, instruction)
        if found.missing:
            _, encoder = await asyncio.to_thread(self._loaded_model)
            for part in _chunks(found.missing):
                pairs = await asyncio.to_thread(self._encode, encoder, query, [texts[i] for i in part], instruction)
                logits = await self._batcher().submit(pairs.encodings)
                self._fill(found, part, pairs, logits)
        return found.scores, found.spans

    def rank(
        self,
        query: str,
        texts: Sequence[str],
        spec: RankSpec | None = None,
        *,
        batch_size: int | None = None,
        show_progress: bool = False,
        instruction: str | None = None,
        **rules: Unpack[RankRules],
    ) -> list[Ranked]:
        """Rank texts best first, as Elasticsearch's ``text_similarity_reranker`` does.

        Args:
            spec: The ranking rules (:class:`rerank_core.RankSpec`), or give them as keywords:
                ``rank_window_size`` (score only the first N texts; the rest are dropped, not scored),
                ``min_score`` (drop results whose activated score is below it) and ``top_n`` (keep at most
                this many, after ``min_score``; ``None`` keeps all).
            batch_size: Pairs per forward pass for this call (default: the scorer's).
            show_progress: Show a progress bar over the model batches.
            instruction: As in :meth:`score`.

        Returns:
            ``Ranked(index, score, span)`` records, best first; ties keep input order. ``span`` is the characters
            of the text the score was read from (the best chunk with ``long_documents="max_chunk"``).
        """

        def score(q: str, ts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
            return self._score_groups([(q, ts)], batch_size, show_progress, instruction)[0]

        return rank_texts(score, query, texts, spec, **rules)

    async def arank(
        self,
        query: str,
        texts: Sequence[str],
        spec: RankSpec | None = None,
        *,
        instruction: str | None = None,
        **rules: Unpack[RankRules],
    ) -> list[Ranked]:
        """:meth:`rank` for asyncio, scored through :meth:`ascore`."""

        async def score(q: str, ts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
            return await self._ascore(q, ts, instruction)

        return await arank_texts(score, query, texts, spec, **rules)

    def _cached(self, query: str, texts: Sequence[str], instruction: str | None) -> _Found:
        """Scores and spans filled from the cache, the texts' cache keys and the indices still to score."""
        found = _Found(np.full(len(texts), np.nan, dtype=np.float32), np.zeros((len(texts), 2), dtype=np.int64), [], [])
        if self.cache is None or not texts:
            found.missing.extend(range(len(texts)))
            return found
        found.keys.extend(self.cache.keys_for(query if instruction is None else f"{instruction}\x1f{query}", texts))
        for i, hit in enumerate(self.cache.get_many(found.keys)):
            if hit is None:
                found.missing.append(i)
            else:
                found.scores[i], found.spans[i] = hit[0], hit[1:]
        return found

    def _encode(self, encoder: InputEncoder, query: str, texts: Sequence[str], instruction: str | None) -> EncodedPairs:
        pairs = encoder.encode(query, texts, self._chunks, instruction)
        if pairs.truncated and self._chunks is None and not self._warned_truncation:
            self._warn_truncation(pairs, texts, encoder.max_length)
        return pairs

    def _fill(self, found: _Found, missing: list[int], pairs: EncodedPairs, logits: np.ndarray) -> None:
        """Write the activated scores of the texts at ``missing`` (best chunk each, the first on ties) with that
        chunk's span, and cache them."""
        activated = relevance_scores(logits, self._options.activation, self._shift)
        best = np.full(len(missing), -np.inf, dtype=np.float32)
        spans = np.zeros((len(missing), 2), dtype=np.int64)
        for owner, score, span in zip(pairs.owners, activated.tolist(), pairs.spans):
            if score > best[owner] or np.isneginf(best[owner]):
                best[owner], spans[owner] = score, span
        found.scores[missing] = best
        found.spans[missing] = spans
        if self.cache is not None:
            self.cache.put_many(
                [found.keys[i] for i in missing],
                [(score, start, end) for score, (start, end) in zip(best.tolist(), spans.tolist())],
            )

    def _batcher(self) -> MicroBatcher:
        """This event loop's micro-batcher (one per loop, created on first use)."""
        loop = asyncio.get_running_loop()
        with self._batchers_lock:
            batcher = self._batchers.get(loop)
            if batcher is None:
                batcher = MicroBatcher(
                    self._run_group, max_wait_ms=self._options.batch_wait_ms, max_pairs=self._options.max_batch_pairs
                )
                self._batchers[loop] = batcher
        return batcher

    def _run_group(self, encodings: list[Tokens]) -> np.ndarray:
        backend, _ = self._loaded_model()
        return _forward(backend, encodings, self._options.batch_size, show_progress=False)

    def _warn_truncation(self, pairs: EncodedPairs, texts: Sequence[str], max_length: int) -> None:
        """Warn once that texts were cut, saying how much of them went unread."""
        self._warned_truncation = True
        unread = [1 - end / len(texts[owner]) for owner, (_, end) in zip(pairs.owners, pairs.spans) if texts[owner]]
        cut = [share for share in unread if share > 0] or [0.0]
        logger.warning(
            "%d of %d texts exceed the %d-token window of %s and were truncated (the query is kept): %.0f%% of "
            "their characters on average (up to %.0f%%) were not read. Pass long_documents='max_chunk' to score "
            "every part of long texts (chunking='window', 'sentence' or 'word').",
            pairs.truncated,
            len(texts),
            max_length,
            self.model_name_or_path,
            100 * sum(cut) / len(cut),
            100 * max(cut),
        )


@dataclass(slots=True)
class _Found:
    """A call's scores and spans (filled from the cache, then by scoring), the texts' cache keys and the
    indices still to score."""

    scores: np.ndarray
    spans: np.ndarray
    keys: list[bytes]
    missing: list[int]


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
