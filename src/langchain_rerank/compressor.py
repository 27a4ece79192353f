"""``CrossEncoderReranker``: a LangChain document compressor that reranks with a cross-encoder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from langchain_core.callbacks import Callbacks
from langchain_core.cross_encoders import BaseCrossEncoder
from langchain_core.documents import BaseDocumentCompressor, Document
from langchain_core.load.serializable import Serializable
from pydantic import ConfigDict, Field, field_validator, model_validator

from rerank_core import DEFAULT_MODEL, InvalidArgumentError, InvalidTextError, Ranked, RankSpec, Scorer, ScorerOptions
from rerank_core.base import check_reports_spans
from rerank_core.options import check_options_apply
from rerank_core.ranking import MinScore, RankWindow, TopN
from rerank_core.registry import get_scorer
from rerank_core.types import BEST_CHUNK_KEY

from .cross_encoder_scorer import CrossEncoderModelScorer


class CrossEncoderReranker(BaseDocumentCompressor, ScorerOptions, Serializable):
    """Reranks retrieved documents with a cross-encoder and keeps the best ``top_n``.

    A drop-in replacement for ``langchain_classic.retrievers.document_compressors.CrossEncoderReranker``:
    ``CrossEncoderReranker(model=HuggingFaceCrossEncoder(model_name=...), top_n=3)`` works unchanged.
    ``model`` also takes a Hugging Face model id or local folder, scored by crossrank's engine (shared
    per process, loaded on first use, with the scorer options below), or a ready ``rerank_core.Scorer``:
    a :class:`rerank_core.CrossEncoderScorer`, or a :class:`rerank_core.RemoteScorer` for a model served
    by ``crossrank serve``.

    Results are new ``Document`` objects, best first (ties keep input order), with every field of the
    input (``id``, ``metadata``) and the score in ``metadata[score_key]``; the input documents and list
    are never modified. An empty input returns ``[]`` without loading a model.
    ``acompress_documents`` never blocks the event loop; concurrent calls share model batches.

    Serialisable with ``langchain_core.load.dumpd`` when ``model`` is an id or path; load it back with
    ``langchain_core.load.load(data, allowed_objects=[CrossEncoderReranker],
    valid_namespaces=["langchain_rerank"])``.

    Example:
        .. code-block:: python

            from langchain_classic.retrievers import ContextualCompressionRetriever
            from langchain_rerank import CrossEncoderReranker

            reranker = CrossEncoderReranker(model="cross-encoder/ms-marco-MiniLM-L6-v2", top_n=3)
            retriever = ContextualCompressionRetriever(
                base_compressor=reranker, base_retriever=vector_store.as_retriever(search_kwargs={"k": 20})
            )
            docs = retriever.invoke("What causes tides?")
            docs[0].metadata["relevance_score"]  # 0..1
    """

    model: str | BaseCrossEncoder | Scorer = DEFAULT_MODEL
    """A Hugging Face model id or local folder, any LangChain ``BaseCrossEncoder``, or a crossrank scorer."""
    top_n: TopN = 3
    """Documents to return; ``None`` keeps every scored document, ``0`` returns none."""
    min_score: MinScore = None
    """Drop documents scoring below this (on the model's scale: 0..1 with the default sigmoid)."""
    rank_window_size: RankWindow = None
    """Score only the first N documents, in the order given; the rest are dropped unscored."""
    score_key: str = Field(default="relevance_score", min_length=1)
    """Metadata key that receives each returned document's score (overwritten if present)."""
    keep_best_chunk: bool = False
    """Put the part of each returned document its score came from in ``metadata["best_chunk"]``, as
    ``{"text", "start", "end"}`` (characters of ``page_content``): the best chunk with
    ``long_documents="max_chunk"``, for citing; the whole text when it fits the window."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", protected_namespaces=())

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Serialisable with ``langchain_core.load`` (when ``model`` is an id or path)."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """The namespace of the saved id, pinned: objects saved by any version load in every later one.

        ``langchain_core.load`` imports this module path to find the class, so ``langchain_rerank.compressor``
        keeps exporting it wherever its code lives.
        """
        return ["langchain_rerank", "compressor"]

    @field_validator("model")
    @classmethod
    def _check_model(cls, model: Any) -> Any:
        if isinstance(model, str) and not model.strip():
            raise InvalidArgumentError("model must be a model id or path, not an empty string.")
        return model

    @model_validator(mode="after")
    def _options_need_model_id(self) -> Self:
        """Scorer options configure a model this object loads, so they need ``model`` as an id or path."""
        check_options_apply(self.model, self.model_fields_set)
        if self.keep_best_chunk:
            check_reports_spans(self.model)
        return self

    def compress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> Sequence[Document]:
        """Rerank ``documents`` against ``query``.

        Args:
            documents: The retrieved documents (not modified).
            query: The user's question or search text.
            callbacks: Accepted for the compressor interface; scoring emits no callback events.

        Returns:
            New documents, best first, each with its score in ``metadata[score_key]``.

        Raises:
            InvalidQueryError: ``query`` is empty or not a string.
            InvalidTextError: an item of ``documents`` is not a ``Document``.
        """
        ranked = self.scorer.rank(query, _page_contents(documents), self.rank_spec())
        return self._results(documents, ranked)

    async def acompress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> Sequence[Document]:
        """:meth:`compress_documents` for asyncio, with the same results.

        With a crossrank model (an id, a path or a local scorer), concurrent calls on one event loop are
        micro-batched into shared model batches (see :meth:`rerank_core.CrossEncoderScorer.ascore`); a
        ``RemoteScorer`` sends them concurrently to its server, which merges them; a LangChain
        ``BaseCrossEncoder`` is scored in a worker thread. The event loop never blocks.
        """
        ranked = await self.scorer.arank(query, _page_contents(documents), self.rank_spec())
        return self._results(documents, ranked)

    @property
    def scorer(self) -> Scorer:
        """The scorer behind ``model`` (created on first use, loaded on first score): the process-wide one
        for an id or path, the ``Scorer`` passed, or a ``BaseCrossEncoder`` wrapped as one."""
        if isinstance(self.model, str):
            return get_scorer(self.model, self.scorer_options())
        if isinstance(self.model, Scorer):
            return self.model
        return CrossEncoderModelScorer(self.model)

    def rank_spec(self) -> RankSpec:
        """This compressor's ranking rules (``rank_window_size``, ``min_score``, ``top_n``)."""
        return RankSpec.model_validate(self, from_attributes=True)

    def _results(self, documents: Sequence[Document], ranked: list[Ranked]) -> list[Document]:
        """New documents, best first, each a copy of its input with the score (and best chunk) in its metadata."""
        results = []
        for hit in ranked:
            document = documents[hit.index]
            added: dict[str, Any] = {self.score_key: hit.score}
            if self.keep_best_chunk:
                added[BEST_CHUNK_KEY] = hit.best_chunk(document.page_content)
            results.append(document.model_copy(update={"metadata": {**document.metadata, **added}}))
        return results


def _page_contents(documents: Sequence[Document]) -> list[str]:
    """The texts to score; anything but a sequence of ``Document`` is refused naming the culprit."""
    if isinstance(documents, (str, bytes, Document)) or not isinstance(documents, Sequence):
        raise InvalidTextError(f"documents must be a sequence of Document, got {type(documents).__name__}.")
    texts = []
    for i, doc in enumerate(documents):
        if not isinstance(doc, Document):
            raise InvalidTextError(f"documents[{i}] is a {type(doc).__name__}, not a Document.")
        if not isinstance(doc.page_content, str):
            raise InvalidTextError(f"documents[{i}].page_content is a {type(doc.page_content).__name__}, not a string.")
        texts.append(doc.page_content)
    return texts
