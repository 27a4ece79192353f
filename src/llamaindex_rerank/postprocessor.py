"""``CrossEncoderRerank``: a LlamaIndex node postprocessor over the ``rerank_core`` engine."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import ImageNode, MetadataMode, NodeWithScore, QueryBundle

from rerank_core import (
    DEFAULT_MODEL,
    CrossEncoderScorer,
    InvalidArgumentError,
    InvalidTextError,
    Ranked,
    Scorer,
    ScorerOptions,
)

dispatcher = get_dispatcher(__name__)

RETRIEVAL_SCORE_KEY = "retrieval_score"
"""Metadata key that holds the first-stage score when ``keep_retrieval_score`` is on."""

_SCORER_OPTIONS: tuple[str, ...] = tuple(ScorerOptions.model_fields)


class CrossEncoderRerank(BaseNodePostprocessor, ScorerOptions):
    """Rerank retrieved nodes with a Hugging Face cross-encoder; a drop-in for ``SentenceTransformerRerank``.

    It takes ``SentenceTransformerRerank``'s arguments (``top_n``, ``model``, ``device``,
    ``keep_retrieval_score``, ``trust_remote_code``, in that positional order), so swapping is a
    one-line change, plus ``min_score``, ``rank_window_size``, ``metadata_mode`` and the scorer
    options of :class:`rerank_core.ScorerOptions` (``batch_size``, ``max_length``, ``activation``,
    ``long_documents``, ...). Unlike LlamaIndex's reranker it never changes the nodes it is given:
    it returns new ``NodeWithScore`` objects, best first, whose ``score`` is the cross-encoder's
    (a plain ``float``); ``trust_remote_code`` is off unless you turn it on; and ``max_length``
    defaults to the model's own limit rather than a fixed 512.

    Models are loaded once per process through the ``rerank_core`` registry, on first use, so this
    postprocessor and a LangChain ``CrossEncoderReranker`` with the same model and options share one
    loaded model.

    Example:
        >>> from llamaindex_rerank import CrossEncoderRerank
        >>> reranker = CrossEncoderRerank(model="cross-encoder/ms-marco-MiniLM-L6-v2", top_n=3)
        >>> query_engine = index.as_query_engine(similarity_top_k=20, node_postprocessors=[reranker])
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        default=DEFAULT_MODEL,
        min_length=1,
        description="Hugging Face model id or local folder of the cross-encoder.",
    )
    top_n: int | None = Field(
        default=2, ge=0, description="Number of nodes to return, best first; None returns every scored node."
    )
    min_score: float | None = Field(
        default=None,
        allow_inf_nan=False,
        description="Drop nodes whose cross-encoder score is below this (0..1 with the sigmoid activation).",
    )
    rank_window_size: int | None = Field(
        default=None, ge=1, description="Score only the first N nodes; the rest are dropped. None scores all."
    )
    keep_retrieval_score: bool = Field(
        default=False,
        description=f"Copy each returned node and keep its first-stage score in metadata[{RETRIEVAL_SCORE_KEY!r}].",
    )
    metadata_mode: MetadataMode = Field(
        default=MetadataMode.EMBED, description="Which metadata goes into the text the cross-encoder reads."
    )

    _scorer: Scorer | None = PrivateAttr(default=None)

    def __init__(
        self,
        top_n: int | None = 2,
        model: str | Scorer = DEFAULT_MODEL,
        device: str | None = None,
        keep_retrieval_score: bool = False,
        trust_remote_code: bool = False,
        **kwargs: Any,
    ) -> None:
        """Configure the reranker; nothing is loaded until the first nodes arrive.

        Args:
            top_n: Nodes to return, best first (``None``: all scored nodes; ``0``: none).
            model: A Hugging Face model id or local folder, or a ready ``rerank_core.Scorer``: a
                ``CrossEncoderScorer`` or a ``RemoteScorer`` for a model served by ``crossrank serve``
                (then configure device and other scorer options on the scorer, not here).
            device: ``None`` picks CUDA when available, else CPU.
            keep_retrieval_score: Keep the first-stage score in the returned node's metadata.
            trust_remote_code: Run code shipped with the checkpoint. Only for authors you trust.
            **kwargs: ``min_score``, ``rank_window_size``, ``metadata_mode``, ``callback_manager`` and the
                other scorer options (``batch_size``, ``max_length``, ``activation``, ``long_documents``,
                ``backend``, ``model_kwargs``).
        """
        scorer: Scorer | None = None
        if isinstance(model, Scorer):
            scorer = model
            given = [name for name in _SCORER_OPTIONS if name in kwargs]
            given += ["device"] if device is not None else []
            given += ["trust_remote_code"] if trust_remote_code else []
            if given:
                raise InvalidArgumentError(
                    f"{', '.join(sorted(given))} cannot be set when model is a {type(scorer).__name__}; "
                    "configure the scorer itself, or pass its model id or path as model instead."
                )
            model = scorer.model_name_or_path
            if isinstance(scorer, CrossEncoderScorer):
                options = scorer.options
                device, trust_remote_code = options.pop("device"), options.pop("trust_remote_code")
                kwargs.update(options)
        elif not isinstance(model, str):
            raise TypeError(
                "model must be a Hugging Face model id, a local folder path or a "
                f"rerank_core.Scorer (CrossEncoderScorer, RemoteScorer), got {type(model).__name__}."
            )
        super().__init__(
            top_n=top_n,
            model=model,
            device=device,
            keep_retrieval_score=keep_retrieval_score,
            trust_remote_code=trust_remote_code,
            **kwargs,
        )
        self._scorer = scorer

    @classmethod
    def class_name(cls) -> str:
        return "CrossEncoderRerank"

    @property
    def scorer(self) -> Scorer:
        """The scorer in use: the one passed as ``model``, else the process-wide one for these options."""
        return self._scorer if self._scorer is not None else self.shared_scorer(self.model)

    def _postprocess_nodes(
        self,
        nodes: list[NodeWithScore],
        query_bundle: QueryBundle | None = None,
    ) -> list[NodeWithScore]:
        """Rerank ``nodes`` against the query (a ``QueryBundle``, or a plain string).

        Emits ``ReRankStartEvent`` and, on every exit after it (results, empty input or an error),
        ``ReRankEndEvent`` on this module's dispatcher, and the ``RERANKING`` callback event around
        the scoring. Inputs of the wrong type are rejected before any event.
        """
        query_bundle = _query_bundle(nodes, query_bundle)
        texts = self._texts(nodes)
        with self._reranking(nodes, query_bundle) as outcome:
            if nodes:
                hits = self.scorer.rank(query_bundle.query_str, texts, **self._ranking())
                outcome.extend(self._results(nodes, hits))
        return outcome

    async def _apostprocess_nodes(
        self,
        nodes: list[NodeWithScore],
        query_bundle: QueryBundle | None = None,
    ) -> list[NodeWithScore]:
        """:meth:`_postprocess_nodes` for asyncio, with the same results and events.

        Concurrent calls on one event loop are micro-batched into shared model batches (see
        :meth:`rerank_core.CrossEncoderScorer.ascore`); the event loop never blocks on the model.
        """
        query_bundle = _query_bundle(nodes, query_bundle)
        texts = self._texts(nodes)
        with self._reranking(nodes, query_bundle) as outcome:
            if nodes:
                hits = await self.scorer.arank(query_bundle.query_str, texts, **self._ranking())
                outcome.extend(self._results(nodes, hits))
        return outcome

    @contextmanager
    def _reranking(self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None) -> Iterator[list[NodeWithScore]]:
        """Emit the rerank events around the body, which fills the list it is given with the results."""
        top_n = len(nodes) if self.top_n is None else self.top_n
        dispatcher.event(ReRankStartEvent(query=query_bundle, nodes=nodes, top_n=top_n, model_name=self.model))
        reranked: list[NodeWithScore] = []
        try:
            if query_bundle is None:
                raise ValueError(
                    "Missing query bundle: call postprocess_nodes(nodes, query_str=...) or pass query_bundle=."
                )
            if not nodes:
                yield reranked
                return
            with self.callback_manager.event(
                CBEventType.RERANKING,
                payload={
                    EventPayload.NODES: nodes,
                    EventPayload.MODEL_NAME: self.model,
                    EventPayload.QUERY_STR: query_bundle.query_str,
                    EventPayload.TOP_K: top_n,
                },
            ) as event:
                yield reranked
                event.on_end(payload={EventPayload.NODES: reranked})
        finally:
            dispatcher.event(ReRankEndEvent(nodes=reranked))

    def _texts(self, nodes: Sequence[NodeWithScore]) -> list[str]:
        """The text the cross-encoder reads for each node; nodes with no text are refused, naming the index."""
        texts = []
        for i, item in enumerate(nodes):
            if isinstance(item.node, ImageNode) and not item.node.text:
                raise InvalidTextError(
                    f"nodes[{i}] is an ImageNode without text; a cross-encoder scores text. Drop image nodes "
                    "before reranking, or give them a caption as text."
                )
            content = item.node.get_content(metadata_mode=self.metadata_mode)
            if not isinstance(content, str):
                raise InvalidTextError(f"nodes[{i}] has no text (its content is a {type(content).__name__}).")
            texts.append(content)
        return texts

    def _ranking(self) -> dict[str, Any]:
        return {"top_n": self.top_n, "min_score": self.min_score, "rank_window_size": self.rank_window_size}

    def _results(self, nodes: Sequence[NodeWithScore], hits: list[Ranked]) -> list[NodeWithScore]:
        """New ``NodeWithScore`` objects, best first."""
        return [NodeWithScore(node=self._output_node(nodes[hit.index]), score=hit.score) for hit in hits]

    def _output_node(self, item: NodeWithScore) -> Any:
        """The node to return: the caller's own, or a deep copy carrying the retrieval score."""
        if not self.keep_retrieval_score:
            return item.node
        retrieval_score = None if item.score is None else float(item.score)
        copy = item.node.model_copy(deep=True)
        copy.metadata = {**copy.metadata, RETRIEVAL_SCORE_KEY: retrieval_score}
        return copy


def _query_bundle(nodes: object, query_bundle: object) -> QueryBundle | None:
    """The query as a ``QueryBundle`` (a string is wrapped), after rejecting inputs a reranker cannot read."""
    if isinstance(query_bundle, str):
        query_bundle = QueryBundle(query_str=query_bundle)
    if query_bundle is not None and not isinstance(query_bundle, QueryBundle):
        raise TypeError(f"query_bundle must be a QueryBundle or a string, got {type(query_bundle).__name__}.")
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence):
        raise TypeError(f"nodes must be a list of NodeWithScore, got {type(nodes).__name__}.")
    for i, item in enumerate(nodes):
        if not isinstance(item, NodeWithScore):
            raise InvalidTextError(
                f"nodes[{i}] is a {type(item).__name__}, not a NodeWithScore; wrap nodes as "
                "NodeWithScore(node=node, score=None)."
            )
    return query_bundle
