"""``CrossEncoderRerank``: a LlamaIndex node postprocessor over the ``rerank_core`` engine."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from numbers import Real
from typing import Any, overload

from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import BaseNode, ImageNode, MetadataMode, Node, NodeWithScore, QueryBundle, TextNode

from rerank_core import (
    DEFAULT_MODEL,
    CrossEncoderScorer,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidQueryError,
    InvalidTextError,
    Ranked,
    RankSpec,
    Scorer,
    ScorerOptions,
)
from rerank_core.base import check_reports_spans
from rerank_core.options import check_options_apply
from rerank_core.ranking import MinScore, RankWindow, TopN
from rerank_core.registry import get_scorer
from rerank_core.types import BEST_CHUNK_KEY
from rerank_core.validation import check_query

from .compat import CORE_ORDER, INTEGRATION_ORDER, named_arguments, with_cross_encoder_options

dispatcher = get_dispatcher(__name__)

RETRIEVAL_SCORE_KEY = "retrieval_score"
"""Metadata key that holds the first-stage score when ``keep_retrieval_score`` is on."""


class CrossEncoderRerank(BaseNodePostprocessor, ScorerOptions):
    """Rerank retrieved nodes with a Hugging Face cross-encoder; a drop-in for ``SentenceTransformerRerank``.

    It takes the arguments of both ``SentenceTransformerRerank`` classes, in either positional order:
    llama-index-core's (``top_n``, ``model``, ``device``, ``keep_retrieval_score``, ``trust_remote_code``)
    and llama-index-postprocessor-sbert-rerank's (``model``, ``device``, ``cache_folder``, ``top_n``,
    ``keep_retrieval_score``, ``cross_encoder_kwargs``), so swapping is a one-line change, plus ``min_score``,
    ``rank_window_size``, ``metadata_mode`` and the scorer options of :class:`rerank_core.ScorerOptions`
    (``batch_size``, ``max_length``, ``activation``, ``long_documents``, ...). ``device`` is ``None`` until the
    model loads (on the first nodes, or :meth:`load`), then the device it runs on.

    Unlike LlamaIndex's reranker it never changes the nodes it is given: it returns new ``NodeWithScore``
    objects, best first, whose ``score`` is the cross-encoder's (a plain ``float``) and whose nodes are the
    input's own (with ``keep_retrieval_score``, shallow copies with their own metadata dict, whose values,
    picklable or not, are carried over as they are); bad nodes and queries raise the typed errors of
    :mod:`rerank_core.errors` (a blank query even with no nodes); ``trust_remote_code`` is off unless you
    turn it on; and ``max_length`` defaults to the model's own limit rather than a fixed 512.

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
    top_n: TopN = Field(default=2, description="Number of nodes to return, best first; None returns every scored node.")
    min_score: MinScore = Field(
        default=None,
        description="Drop nodes whose cross-encoder score is below this (0..1 with the sigmoid activation).",
    )
    rank_window_size: RankWindow = Field(
        default=None, description="Score only the first N nodes; the rest are dropped. None scores all."
    )
    keep_retrieval_score: bool = Field(
        default=False,
        description=f"Return shallow copies holding the first-stage score in metadata[{RETRIEVAL_SCORE_KEY!r}].",
    )
    metadata_mode: MetadataMode = Field(
        default=MetadataMode.EMBED, description="Which metadata goes into the text the cross-encoder reads."
    )
    keep_best_chunk: bool = Field(
        default=False,
        description=f"Return shallow copies holding, in metadata[{BEST_CHUNK_KEY!r}], the part of the text the "
        "cross-encoder read (node.get_content(metadata_mode)) that the score came from, as {'text', 'start', "
        "'end'}: the best chunk with long_documents='max_chunk', for citing. The key is excluded from the "
        "node's LLM and embedding text.",
    )
    cross_encoder_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="sentence-transformers CrossEncoder keyword arguments, as given; their scorer options are set "
        "from them at construction (see llamaindex_rerank.compat.CROSS_ENCODER_KWARGS).",
    )

    _scorer: Scorer | None = PrivateAttr(default=None)

    @overload
    def __init__(
        self,
        top_n: int | None = 2,
        model: str | Scorer = DEFAULT_MODEL,
        device: str | None = None,
        keep_retrieval_score: bool = False,
        trust_remote_code: bool = False,
        **kwargs: Any,
    ) -> None: ...

    @overload
    def __init__(
        self,
        model: str | Scorer,
        device: str | None = None,
        cache_folder: str | os.PathLike[str] | None = None,
        top_n: int | None = 2,
        keep_retrieval_score: bool = False,
        cross_encoder_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Configure the reranker; nothing is loaded until the first nodes arrive.

        The arguments, positional in either class's order (llama-index-core's when the first is ``top_n``, an
        ``int`` or ``None``; llama-index-postprocessor-sbert-rerank's when it is ``model``, a ``str`` or a
        ``Scorer``) or by keyword:

        - ``top_n``: nodes to return, best first (``None``: all scored nodes; ``0``: none).
        - ``model``: a Hugging Face model id or local folder, or a ready ``rerank_core.Scorer``: a
          ``CrossEncoderScorer`` or a ``RemoteScorer`` for a model served by ``crossrank serve`` (then
          configure device and other scorer options on the scorer, not here).
        - ``device``: ``None`` picks CUDA when available, else CPU, and reads back as the device in use once
          the model has loaded.
        - ``cache_folder``: where models downloaded from the Hugging Face hub are cached.
        - ``keep_retrieval_score``: keep the first-stage score in the returned node's metadata.
        - ``trust_remote_code``: run code shipped with the checkpoint. Only for authors you trust.
        - ``cross_encoder_kwargs``: sentence-transformers ``CrossEncoder`` keyword arguments, kept as given and
          mapped onto scorer options by ``llamaindex_rerank.compat.CROSS_ENCODER_KWARGS`` (``max_length``,
          ``backend``, ``activation_fn``, ...); an option also given directly must agree with it.

        Args:
            *args: The leading arguments above, in one class's positional order.
            **kwargs: The arguments above by name, and ``min_score``, ``rank_window_size``, ``metadata_mode``,
                ``callback_manager`` and the other scorer options (``batch_size``, ``max_length``,
                ``activation``, ``long_documents``, ``backend``, ``model_kwargs``).

        Raises:
            InvalidCallError: too many positional arguments, or one also given by keyword.
            InvalidArgumentTypeError: the first positional argument is neither a ``top_n`` nor a ``model``,
                ``model`` is neither a string nor a ``Scorer``, or ``cross_encoder_kwargs`` is not a dict.
            InvalidArgumentError: scorer options beside a ``Scorer`` model, or a ``cross_encoder_kwargs`` key that
                is refused, unknown, or disagrees with an option given directly.
        """
        fields = with_cross_encoder_options(named_arguments(args, kwargs))
        model = fields.get("model", DEFAULT_MODEL)
        scorer: Scorer | None = None
        if isinstance(model, Scorer):
            scorer = model
            check_options_apply(scorer, [name for name, value in fields.items() if _sets_option(name, value)])
            fields["model"] = scorer.model_name_or_path
            if isinstance(scorer, CrossEncoderScorer):
                fields.update(scorer.options.model_dump())
        elif not isinstance(model, str):
            raise InvalidArgumentTypeError(
                "model",
                "a Hugging Face model id, a local folder path or a rerank_core.Scorer (CrossEncoderScorer, "
                "RemoteScorer)",
                model,
            )
        super().__init__(**fields)
        if self.keep_best_chunk:
            check_reports_spans(self.model if scorer is None else scorer)
        self._scorer = scorer

    @classmethod
    def class_name(cls) -> str:
        return "CrossEncoderRerank"

    @property
    def scorer(self) -> Scorer:
        """The scorer in use: the one passed as ``model``, else the process-wide one for these options.

        Once the model has loaded, ``device`` holds the device it runs on; the registry
        (:func:`rerank_core.get_scorer`) serves that device and ``device=None`` with the same loaded scorer,
        so recording it never loads a second model.
        """
        return self._scorer if self._scorer is not None else get_scorer(self.model, self.scorer_options())

    def load(self) -> CrossEncoderRerank:
        """Load the model now (it otherwise loads with the first nodes) and record its device; returns ``self``."""
        scorer = self.scorer
        if isinstance(scorer, CrossEncoderScorer):
            self._record_device(scorer.load())
        return self

    def _record_device(self, scorer: Scorer) -> None:
        """Set ``device``, when ``None``, to the device a loaded local model runs on (a served one has none here)."""
        if self.device is None and isinstance(scorer, CrossEncoderScorer) and scorer.device_used is not None:
            self.device = scorer.device_used

    def rank_spec(self) -> RankSpec:
        """This postprocessor's ranking rules (``rank_window_size``, ``min_score``, ``top_n``)."""
        return RankSpec.model_validate(self, from_attributes=True)

    def postprocess_nodes(
        self,
        nodes: list[NodeWithScore],
        query_bundle: QueryBundle | None = None,
        query_str: str | None = None,
    ) -> list[NodeWithScore]:
        """Rerank ``nodes`` against ``query_str`` or ``query_bundle`` (one of them), best first."""
        _check_one_query(query_bundle, query_str)
        return super().postprocess_nodes(nodes, query_bundle=query_bundle, query_str=query_str)

    async def apostprocess_nodes(
        self,
        nodes: list[NodeWithScore],
        query_bundle: QueryBundle | None = None,
        query_str: str | None = None,
    ) -> list[NodeWithScore]:
        """:meth:`postprocess_nodes` for asyncio."""
        _check_one_query(query_bundle, query_str)
        return await super().apostprocess_nodes(nodes, query_bundle=query_bundle, query_str=query_str)

    def _postprocess_nodes(
        self,
        nodes: list[NodeWithScore],
        query_bundle: QueryBundle | None = None,
    ) -> list[NodeWithScore]:
        """Rerank ``nodes`` against the query (a ``QueryBundle``, or a plain string).

        Emits ``ReRankStartEvent`` and, on every exit after it (results, empty input or an error),
        ``ReRankEndEvent`` on this module's dispatcher, and the ``RERANKING`` callback event around
        the scoring. Inputs of the wrong type are rejected before any event; a blank query is refused
        between the two events, with nodes or without, as the core and the LangChain compressor refuse it.
        """
        query_bundle = _query_bundle(query_bundle)
        nodes = _checked_nodes(nodes)
        texts = self._texts(nodes)
        retrieval_scores = _retrieval_scores(nodes) if self.keep_retrieval_score else None
        with self._reranking(nodes, query_bundle) as (outcome, query):
            if nodes:
                scorer = self.scorer
                hits = scorer.rank(query, texts, self.rank_spec())
                self._record_device(scorer)
                outcome.extend(self._results(nodes, texts, hits, retrieval_scores))
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
        query_bundle = _query_bundle(query_bundle)
        nodes = _checked_nodes(nodes)
        texts = self._texts(nodes)
        retrieval_scores = _retrieval_scores(nodes) if self.keep_retrieval_score else None
        with self._reranking(nodes, query_bundle) as (outcome, query):
            if nodes:
                scorer = self.scorer
                hits = await scorer.arank(query, texts, self.rank_spec())
                self._record_device(scorer)
                outcome.extend(self._results(nodes, texts, hits, retrieval_scores))
        return outcome

    @contextmanager
    def _reranking(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None
    ) -> Iterator[tuple[list[NodeWithScore], str]]:
        """Emit the rerank events around the body, which gets a list to fill with the results and the query."""
        top_n = len(nodes) if self.top_n is None else self.top_n
        dispatcher.event(ReRankStartEvent(query=query_bundle, nodes=nodes, top_n=top_n, model_name=self.model))
        reranked: list[NodeWithScore] = []
        try:
            if query_bundle is None:
                raise InvalidQueryError(
                    "Missing query bundle: call postprocess_nodes(nodes, query_str=...) or pass query_bundle=."
                )
            if not nodes:
                check_query(query_bundle.query_str)  # nothing to score, but a blank query is still refused
                yield reranked, query_bundle.query_str
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
                yield reranked, query_bundle.query_str
                event.on_end(payload={EventPayload.NODES: reranked})
        finally:
            dispatcher.event(ReRankEndEvent(nodes=reranked))

    def _texts(self, nodes: Sequence[NodeWithScore]) -> list[str]:
        """The text the cross-encoder reads for each node; a node without text is refused, naming its index."""
        texts = []
        for i, item in enumerate(nodes):
            node = item.node
            _check_has_text(i, node)
            try:
                content = node.get_content(metadata_mode=self.metadata_mode)
            except Exception as exc:  # a node whose fields were set without validation, or a custom node class
                raise InvalidTextError(
                    f"nodes[{i}] has no readable text: its get_content() raised {type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(content, str):
                raise InvalidTextError(f"nodes[{i}] has no text (its content is a {type(content).__name__}).")
            texts.append(content)
        return texts

    def _results(
        self,
        nodes: Sequence[NodeWithScore],
        texts: Sequence[str],
        hits: list[Ranked],
        retrieval_scores: list[float | None] | None,
    ) -> list[NodeWithScore]:
        """New ``NodeWithScore`` objects, best first, holding the input nodes or (with retrieval scores or best
        chunks) copies."""
        results = []
        for hit in hits:
            node = nodes[hit.index].node
            added: dict[str, Any] = {}
            if retrieval_scores is not None:
                added[RETRIEVAL_SCORE_KEY] = retrieval_scores[hit.index]
            if self.keep_best_chunk:
                added[BEST_CHUNK_KEY] = hit.best_chunk(texts[hit.index])
            if added:
                node = _copy_with(node, added, hidden=[BEST_CHUNK_KEY] if self.keep_best_chunk else [])
            results.append(NodeWithScore(node=node, score=hit.score))
        return results


def _sets_option(name: str, value: object) -> bool:
    """Whether ``name=value`` sets a scorer option: a signature's argument left at its default does not."""
    field = ScorerOptions.model_fields.get(name)
    return field is not None and not (
        name in {*CORE_ORDER, *INTEGRATION_ORDER} and value == field.get_default(call_default_factory=True)
    )


def _copy_with(node: BaseNode, added: dict[str, Any], hidden: list[str]) -> BaseNode:
    """A shallow copy of ``node`` with ``added`` in its metadata, the ``hidden`` keys excluded from its LLM and
    embedding text; ``node`` is left untouched.

    The copy has its own ``metadata`` dict and its own top-level lists and dicts (relationships, excluded
    keys...), so changing them leaves the input alone; the values in them are the input's own objects,
    carried over as they are (locks, generators, open files and other objects that cannot be copied or
    pickled included).
    """
    containers: dict[str, Any] = {
        name: value.copy()
        for name in type(node).model_fields
        if isinstance(value := getattr(node, name, None), dict | list) and type(value) in (dict, list)
    }
    containers["metadata"] = {**node.metadata, **added}
    for name in ("excluded_llm_metadata_keys", "excluded_embed_metadata_keys"):
        if hidden and isinstance(containers.get(name), list):
            containers[name] += [key for key in hidden if key not in containers[name]]
    return node.model_copy(update=containers)


def _check_one_query(query_bundle: object, query_str: object) -> None:
    """Refuse a call that gives both ``query_bundle`` and ``query_str``, as LlamaIndex does, with a typed error."""
    if query_bundle is not None and query_str is not None:
        raise InvalidQueryError(
            "Cannot specify both query_str and query_bundle: pass the query once, as query_str= or as query_bundle=."
        )


def _query_bundle(query_bundle: object) -> QueryBundle | None:
    """The query as a ``QueryBundle`` (a string is wrapped); ``None`` when missing (refused after the start event)."""
    if isinstance(query_bundle, str):
        return QueryBundle(query_str=query_bundle)
    if query_bundle is None:
        return None
    if not isinstance(query_bundle, QueryBundle):
        raise InvalidQueryError(
            f"query_bundle must be a QueryBundle or a string, got {type(query_bundle).__name__}; "
            "call postprocess_nodes(nodes, query_str=...)."
        )
    if not isinstance(query_bundle.query_str, str):
        raise InvalidQueryError(
            f"The query must be a string (query_str=, or a QueryBundle's query_str), "
            f"got {type(query_bundle.query_str).__name__}."
        )
    return query_bundle


def _checked_nodes(nodes: object) -> list[NodeWithScore]:
    """``nodes`` as a new list, after checking that it is a sequence of ``NodeWithScore`` holding LlamaIndex nodes."""
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence):
        raise InvalidTextError(f"nodes must be a list of NodeWithScore, got {type(nodes).__name__}.")
    checked = list(nodes)
    for i, item in enumerate(checked):
        if not isinstance(item, NodeWithScore):
            raise InvalidTextError(
                f"nodes[{i}] is a {type(item).__name__}, not a NodeWithScore; wrap nodes as "
                "NodeWithScore(node=node, score=None)."
            )
        if not isinstance(item.node, BaseNode):
            raise InvalidTextError(
                f"nodes[{i}].node is a {type(item.node).__name__}, not a LlamaIndex node (TextNode, Document...)."
            )
    return checked


def _check_has_text(i: int, node: BaseNode) -> None:
    """Refuse ``nodes[i]`` when it holds no text to score, or metadata that is not a dict."""
    metadata = getattr(node, "metadata", None)
    if not isinstance(metadata, dict):
        raise InvalidTextError(f"nodes[{i}].node.metadata is a {type(metadata).__name__}, not a dict.")
    if isinstance(node, ImageNode) and not node.text:
        raise InvalidTextError(
            f"nodes[{i}] is an ImageNode without text; a cross-encoder scores text. Drop image nodes "
            "before reranking, or give them a caption as text."
        )
    if isinstance(node, TextNode) and not isinstance(node.text, str):
        raise InvalidTextError(f"nodes[{i}] has no text: its text is a {type(node.text).__name__}, not a string.")
    if isinstance(node, Node) and not (node.text_resource and node.text_resource.text):
        media = [kind for kind in ("image", "audio", "video") if getattr(node, f"{kind}_resource", None) is not None]
        if media:
            raise InvalidTextError(
                f"nodes[{i}] is a {type(node).__name__} without text (it holds only {' and '.join(media)} content); a "
                "cross-encoder scores text. Drop such nodes before reranking, or give them text."
            )


def _retrieval_scores(nodes: Sequence[NodeWithScore]) -> list[float | None]:
    """Each node's first-stage score as a ``float`` (``None`` stays ``None``); a non-number is refused."""
    scores: list[float | None] = []
    for i, item in enumerate(nodes):
        score = item.score
        if score is not None and (isinstance(score, bool) or not isinstance(score, Real)):
            raise InvalidArgumentError(
                f"nodes[{i}].score is a {type(score).__name__}, not a number; keep_retrieval_score needs the "
                "first-stage score as a float or None."
            )
        scores.append(None if score is None else float(score))
    return scores
