"""A FAISS first stage with cross-encoder reranking, in a few lines of LlamaIndex.

``build_faiss_index`` embeds nodes with ``HuggingFaceEmbedding`` into a ``FaissVectorStore``;
``build_rerank_query_engine`` puts a :class:`CrossEncoderRerank` behind its retriever. FAISS and
the embedding model are imported only when these functions run (``pip install "crossrank[faiss]"``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_index.core import StorageContext, VectorStoreIndex, load_index_from_storage
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import BaseNode, Document, NodeWithScore, QueryBundle

from rerank_core import DEFAULT_EMBED_MODEL, DEFAULT_MODEL, CrossEncoderScorer, MissingDependencyError
from rerank_core.engine.model_loading import BI_ENCODER, loading_model
from rerank_core.validation import check_positive_int

from .postprocessor import CrossEncoderRerank

if TYPE_CHECKING:
    from llama_index.core.llms import LLM
    from llama_index.core.schema import TransformComponent


@dataclass(frozen=True)
class RerankPipeline:
    """A FAISS index, its first-stage retriever, the reranker and a query engine that chains them."""

    index: VectorStoreIndex
    """The FAISS-backed index (persist it with ``index.storage_context.persist(dir)``)."""
    retriever: BaseRetriever
    """The first stage: the ``similarity_top_k`` nearest nodes by embedding."""
    reranker: CrossEncoderRerank
    """The second stage, also the query engine's node postprocessor."""
    query_engine: RetrieverQueryEngine
    """First stage, reranking, then the response synthesiser (and its LLM)."""

    def retrieve(self, query: str | QueryBundle) -> list[NodeWithScore]:
        """The reranked context for ``query``, best first, without calling any LLM."""
        return self.query_engine.retrieve(_bundle(query))

    async def aretrieve(self, query: str | QueryBundle) -> list[NodeWithScore]:
        """Async :meth:`retrieve`; embedding and reranking run off the event loop."""
        return await self.query_engine.aretrieve(_bundle(query))


def build_faiss_index(
    nodes: Sequence[BaseNode],
    *,
    embed_model: BaseEmbedding | str | None = None,
    faiss_index: Any = None,
    transformations: list[TransformComponent] | None = None,
    persist_dir: str | os.PathLike[str] | None = None,
    show_progress: bool = False,
) -> VectorStoreIndex:
    """Embed ``nodes`` into a new ``VectorStoreIndex`` over a ``FaissVectorStore``.

    Args:
        nodes: ``Document`` objects (split into chunks by ``transformations``, LlamaIndex's
            ``Settings.transformations`` when ``None``) or ready nodes such as ``TextNode`` (indexed
            as they are, one vector per node).
        embed_model: A LlamaIndex embedding, or a sentence-transformers model id/path for
            ``HuggingFaceEmbedding`` (default ``sentence-transformers/all-MiniLM-L6-v2``).
        faiss_index: A ``faiss.Index`` to fill; default an exact inner-product index, which is cosine
            similarity for normalised embeddings (``HuggingFaceEmbedding`` normalises by default).
        transformations: Chunking for ``Document`` input.
        persist_dir: When given, the index (FAISS vectors, docstore, index store) is saved there;
            reload it with :func:`load_faiss_index`.
        show_progress: Show embedding progress bars.

    Returns:
        The index; ``index.as_retriever(similarity_top_k=20)`` is the plain first stage.
    """
    faiss, faiss_vector_store = _faiss()
    documents = _are_documents(nodes)
    embedding = resolve_embed_model(embed_model)
    if faiss_index is None:
        faiss_index = faiss.IndexFlatIP(len(embedding.get_text_embedding("dimension probe")))
    storage_context = StorageContext.from_defaults(vector_store=faiss_vector_store(faiss_index=faiss_index))
    if documents:
        index = VectorStoreIndex.from_documents(
            nodes,
            storage_context=storage_context,
            embed_model=embedding,
            transformations=transformations,
            show_progress=show_progress,
        )
    else:
        index = VectorStoreIndex(
            nodes=list(nodes),
            storage_context=storage_context,
            embed_model=embedding,
            show_progress=show_progress,
        )
    if persist_dir is not None:
        index.storage_context.persist(persist_dir=os.fspath(persist_dir))
    return index


def load_faiss_index(
    persist_dir: str | os.PathLike[str], *, embed_model: BaseEmbedding | str | None = None
) -> VectorStoreIndex:
    """Reload an index saved by :func:`build_faiss_index` (or ``index.storage_context.persist``).

    ``embed_model`` must be the model the index was built with: queries are embedded with it.
    """
    _, faiss_vector_store = _faiss()
    path = Path(persist_dir)
    if not (path / "docstore.json").is_file():
        raise FileNotFoundError(
            f"{path} holds no persisted index (docstore.json is missing); build one with "
            "build_faiss_index(..., persist_dir=...)."
        )
    vector_store = faiss_vector_store.from_persist_dir(os.fspath(path))
    storage_context = StorageContext.from_defaults(vector_store=vector_store, persist_dir=os.fspath(path))
    index = load_index_from_storage(storage_context, embed_model=resolve_embed_model(embed_model))
    if not isinstance(index, VectorStoreIndex):
        raise TypeError(f"{path} holds a {type(index).__name__}, not a VectorStoreIndex.")
    return index


def build_rerank_query_engine(
    source: VectorStoreIndex | Sequence[BaseNode],
    *,
    model: str | CrossEncoderScorer = DEFAULT_MODEL,
    similarity_top_k: int = 20,
    top_n: int | None = 3,
    embed_model: BaseEmbedding | str | None = None,
    llm: LLM | None = None,
    persist_dir: str | os.PathLike[str] | None = None,
    **reranker_options: Any,
) -> RerankPipeline:
    """A two-stage pipeline: FAISS retrieves ``similarity_top_k`` nodes, the cross-encoder keeps ``top_n``.

    Args:
        source: An index (for example from :func:`load_faiss_index`) or nodes/documents to index with
            :func:`build_faiss_index`.
        model: The cross-encoder: a model id or path, or a ``rerank_core.CrossEncoderScorer``.
        similarity_top_k: First-stage candidates.
        top_n: Nodes kept after reranking.
        embed_model: Embedding for new indexes (see :func:`build_faiss_index`); ignored for an index.
        llm: The LLM that writes answers; ``None`` uses LlamaIndex's ``Settings.llm``. Without an LLM,
            pass ``llama_index.core.llms.MockLLM()`` and use :meth:`RerankPipeline.retrieve`.
        persist_dir: Where to save a newly built index.
        **reranker_options: Further :class:`CrossEncoderRerank` fields (``min_score``, ``device``,
            ``batch_size``, ``keep_retrieval_score``, ...).

    Example:
        >>> from llama_index.core.llms import MockLLM
        >>> rag = build_rerank_query_engine(documents, llm=MockLLM())  # default models from the hub
        >>> context = rag.retrieve("What lowers blood pressure?")   # 3 nodes, best first
        >>> answer = rag.query_engine.query("What lowers blood pressure?")
    """
    similarity_top_k = check_positive_int("similarity_top_k", similarity_top_k)
    reranker = CrossEncoderRerank(top_n=top_n, model=model, **reranker_options)
    if isinstance(source, VectorStoreIndex):
        index = source
    else:
        index = build_faiss_index(source, embed_model=embed_model, persist_dir=persist_dir)
    retriever = index.as_retriever(similarity_top_k=similarity_top_k)
    query_engine = RetrieverQueryEngine.from_args(retriever, llm=llm, node_postprocessors=[reranker])
    return RerankPipeline(index=index, retriever=retriever, reranker=reranker, query_engine=query_engine)


def resolve_embed_model(embed_model: BaseEmbedding | str | None) -> BaseEmbedding:
    """A LlamaIndex embedding as given, or a ``HuggingFaceEmbedding`` for a model id/path (default MiniLM)."""
    if isinstance(embed_model, BaseEmbedding):
        return embed_model
    if embed_model is not None and not isinstance(embed_model, str):
        raise TypeError(
            f"embed_model must be a LlamaIndex BaseEmbedding or a model id/path, got {type(embed_model).__name__}."
        )
    try:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or "llama-index-embeddings-huggingface", "faiss") from exc
    model_name = embed_model or DEFAULT_EMBED_MODEL
    with loading_model(model_name, BI_ENCODER):
        return HuggingFaceEmbedding(model_name=model_name)


def _faiss() -> tuple[Any, Any]:
    """The ``faiss`` module and ``FaissVectorStore``, or an install hint."""
    try:
        import faiss
        from llama_index.vector_stores.faiss import FaissVectorStore
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or "faiss", "faiss") from exc
    return faiss, FaissVectorStore


def _are_documents(nodes: object) -> bool:
    """Whether ``nodes`` are ``Document`` objects (to chunk); raise unless all are nodes of one kind."""
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence):
        raise TypeError(f"nodes must be a list of LlamaIndex Documents or nodes, got {type(nodes).__name__}.")
    for i, node in enumerate(nodes):
        if not isinstance(node, BaseNode):
            raise TypeError(
                f"nodes[{i}] is a {type(node).__name__}; wrap texts as Document(text=...) or TextNode(text=...)."
            )
    kinds = {isinstance(node, Document) for node in nodes}
    if len(kinds) > 1:
        raise TypeError("nodes mixes Documents (to be chunked) and ready nodes; pass one kind or the other.")
    return kinds == {True}


def _bundle(query: str | QueryBundle) -> QueryBundle:
    """A ``QueryBundle`` for a string query."""
    return QueryBundle(query_str=query) if isinstance(query, str) else query
