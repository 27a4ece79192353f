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
from llama_index.core.llms import LLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import BaseNode, Document, NodeWithScore, QueryBundle
from llama_index.core.storage.docstore.types import DEFAULT_PERSIST_FNAME as DOCSTORE_FILE
from llama_index.core.vector_stores.simple import DEFAULT_VECTOR_STORE, NAMESPACE_SEP
from llama_index.core.vector_stores.types import DEFAULT_PERSIST_FNAME

from rerank_core import DEFAULT_MODEL, Scorer
from rerank_core.engine.model_loading import BI_ENCODER, embed_model_name, loading_model
from rerank_core.errors import (
    IndexFolderError,
    IndexNotFoundError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidTextError,
    MissingDependencyError,
)
from rerank_core.validation import check_positive_int, check_query

from .postprocessor import CrossEncoderRerank

if TYPE_CHECKING:
    from llama_index.core.schema import TransformComponent

VECTORS_FILE = f"{DEFAULT_VECTOR_STORE}{NAMESPACE_SEP}{DEFAULT_PERSIST_FNAME}"
"""The file ``FaissVectorStore`` persists its FAISS index in (beside LlamaIndex's ``docstore.json``)."""


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
        """The reranked context for ``query``, best first, without calling any LLM.

        Raises:
            InvalidQueryError: ``query`` is neither a ``QueryBundle`` nor a non-blank string.
        """
        return self.query_engine.retrieve(_bundle(query))

    async def aretrieve(self, query: str | QueryBundle) -> list[NodeWithScore]:
        """Async :meth:`retrieve` (raising as it does); embedding and reranking run off the event loop."""
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
            ``HuggingFaceEmbedding`` (default ``rerank_core.DEFAULT_EMBED_MODEL``).
        faiss_index: An empty, trained ``faiss.Index`` of the embedding's dimension to fill; default an
            exact inner-product index, which is cosine similarity for normalised embeddings
            (``HuggingFaceEmbedding`` normalises by default).
        transformations: Chunking for ``Document`` input.
        persist_dir: When given, the index (FAISS vectors, docstore, index store) is saved there;
            reload it with :func:`load_faiss_index`.
        show_progress: Show embedding progress bars.

    Returns:
        The index; ``index.as_retriever(similarity_top_k=20)`` is the plain first stage.

    Raises:
        InvalidTextError: ``nodes`` is not a list of LlamaIndex nodes, or mixes ``Document`` objects
            and ready nodes; the message names the first offending index.
        InvalidArgumentTypeError: ``embed_model`` is neither an embedding nor a model id or path,
            ``faiss_index`` is not a ``faiss.Index``, or ``persist_dir`` is not a path.
        InvalidArgumentError: ``faiss_index`` is not empty, not trained or of another dimension, or
            ``embed_model`` is an empty string.
        ModelNotFoundError: no bi-encoder under the ``embed_model`` id or path.
        IndexFolderError: ``persist_dir`` cannot be created or written (for example a file stands there).
    """
    faiss, faiss_vector_store = _faiss()
    documents = _documents_to_chunk(nodes)
    folder = None if persist_dir is None else _folder(persist_dir)
    embedding = resolve_embed_model(embed_model)
    dimension = len(embedding.get_text_embedding("dimension probe"))
    if faiss_index is None:
        faiss_index = faiss.IndexFlatIP(dimension)
    else:
        _check_faiss_index(faiss, faiss_index, dimension)
    storage_context = StorageContext.from_defaults(vector_store=faiss_vector_store(faiss_index=faiss_index))
    if documents is not None:
        index = VectorStoreIndex.from_documents(
            documents,
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
    if folder is not None:
        try:
            index.storage_context.persist(persist_dir=os.fspath(folder))
        except OSError as exc:
            raise IndexFolderError(
                f"Cannot save the index in {str(folder)!r}: {exc}. Pass a folder path you can write to."
            ) from exc
    return index


def load_faiss_index(
    persist_dir: str | os.PathLike[str], *, embed_model: BaseEmbedding | str | None = None
) -> VectorStoreIndex:
    """Reload an index saved by :func:`build_faiss_index` (or ``index.storage_context.persist``).

    ``embed_model`` must be the model the index was built with: queries are embedded with it.

    Raises:
        IndexNotFoundError: ``persist_dir``, or its ``docstore.json`` or FAISS vectors file, is missing.
        InvalidArgumentError: the vectors file is not a FAISS index (the folder holds another kind of
            vector store), or ``embed_model`` is an empty string.
        InvalidArgumentTypeError: ``persist_dir`` is not a path, ``embed_model`` is neither an embedding
            nor a model id or path, or the folder holds another kind of index than a ``VectorStoreIndex``.
        ModelNotFoundError: no bi-encoder under the ``embed_model`` id or path.
    """
    _, faiss_vector_store = _faiss()
    folder = _folder(persist_dir)
    missing = [name for name in (DOCSTORE_FILE, VECTORS_FILE) if not (folder / name).is_file()]
    if missing:
        raise IndexNotFoundError(
            f"{str(folder)!r} holds no persisted FAISS index ({' and '.join(missing)} missing); build one "
            "with build_faiss_index(..., persist_dir=...)."
        )
    try:
        vector_store = faiss_vector_store.from_persist_dir(os.fspath(folder))
    except RuntimeError as exc:  # faiss.read_index: not a FAISS file (a SimpleVectorStore's JSON, say)
        raise InvalidArgumentError(
            f"{str(folder / VECTORS_FILE)!r} is not a FAISS index ({exc}); load_faiss_index loads folders "
            "saved by build_faiss_index. Load other persisted indexes with LlamaIndex's load_index_from_storage."
        ) from exc
    storage_context = StorageContext.from_defaults(vector_store=vector_store, persist_dir=os.fspath(folder))
    index = load_index_from_storage(storage_context, embed_model=resolve_embed_model(embed_model))
    if not isinstance(index, VectorStoreIndex):
        raise InvalidArgumentTypeError(f"The index persisted in {str(folder)!r}", "a VectorStoreIndex", index)
    return index


def build_rerank_query_engine(
    source: VectorStoreIndex | Sequence[BaseNode],
    *,
    model: str | Scorer = DEFAULT_MODEL,
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
        model: The cross-encoder: a model id or path, or any ``rerank_core.Scorer``
            (``CrossEncoderScorer``, ``RemoteScorer``).
        similarity_top_k: First-stage candidates.
        top_n: Nodes kept after reranking.
        embed_model: Embedding for new indexes (see :func:`build_faiss_index`); not for an index, which
            keeps its own.
        llm: The LLM that writes answers; ``None`` uses LlamaIndex's ``Settings.llm``. Without an LLM,
            pass ``llama_index.core.llms.MockLLM()`` and use :meth:`RerankPipeline.retrieve`.
        persist_dir: Where to save a newly built index (an index you pass is saved with
            ``index.storage_context.persist``).
        **reranker_options: Further :class:`CrossEncoderRerank` fields (``min_score``, ``device``,
            ``batch_size``, ``keep_retrieval_score``, ...).

    Raises:
        InvalidArgumentError: ``similarity_top_k`` is not a positive integer, or ``embed_model`` or
            ``persist_dir`` is given with an index.
        InvalidArgumentTypeError: ``llm`` is not a LlamaIndex ``LLM``.
        InvalidTextError, ModelNotFoundError, IndexFolderError: as :func:`build_faiss_index` raises
            them, for nodes.

    Example:
        >>> from llama_index.core.llms import MockLLM
        >>> rag = build_rerank_query_engine(documents, llm=MockLLM())  # default models from the hub
        >>> context = rag.retrieve("What lowers blood pressure?")   # 3 nodes, best first
        >>> answer = rag.query_engine.query("What lowers blood pressure?")
    """
    similarity_top_k = check_positive_int("similarity_top_k", similarity_top_k)
    if llm is not None and not isinstance(llm, LLM):
        raise InvalidArgumentTypeError("llm", "a LlamaIndex LLM, or None for Settings.llm", llm)
    reranker = CrossEncoderRerank(top_n=top_n, model=model, **reranker_options)
    if isinstance(source, VectorStoreIndex):
        if embed_model is not None or persist_dir is not None:
            raise InvalidArgumentError(
                "embed_model and persist_dir apply when nodes are given; an index keeps its own embedding "
                "model, and is saved with index.storage_context.persist(persist_dir=...)."
            )
        index = source
    else:
        index = build_faiss_index(source, embed_model=embed_model, persist_dir=persist_dir)
    retriever = index.as_retriever(similarity_top_k=similarity_top_k)
    query_engine = RetrieverQueryEngine.from_args(retriever, llm=llm, node_postprocessors=[reranker])
    return RerankPipeline(index=index, retriever=retriever, reranker=reranker, query_engine=query_engine)


def resolve_embed_model(embed_model: BaseEmbedding | str | None) -> BaseEmbedding:
    """A LlamaIndex embedding as given, or a ``HuggingFaceEmbedding`` for a model id/path.

    ``None`` loads ``rerank_core.DEFAULT_EMBED_MODEL``.

    Raises:
        InvalidArgumentTypeError: ``embed_model`` is neither a ``BaseEmbedding`` nor a string.
        InvalidArgumentError: ``embed_model`` is an empty string.
        ModelNotFoundError: no bi-encoder under the ``embed_model`` id or path.
    """
    if isinstance(embed_model, BaseEmbedding):
        return embed_model
    model_name = embed_model_name(embed_model, "embed_model", "a LlamaIndex BaseEmbedding or a model id/path")
    try:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or "llama-index-embeddings-huggingface", "faiss") from exc
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


def _folder(persist_dir: object) -> Path:
    """``persist_dir`` as a ``Path``; anything but a str or ``os.PathLike`` is refused."""
    if not isinstance(persist_dir, (str, os.PathLike)):
        raise InvalidArgumentTypeError("persist_dir", "a folder path (str or os.PathLike)", persist_dir)
    return Path(persist_dir)


def _check_faiss_index(faiss: Any, faiss_index: object, dimension: int) -> None:
    """Refuse a ``faiss_index`` that cannot take ``dimension``-dimensional vectors of new nodes."""
    if not isinstance(faiss_index, faiss.Index):
        raise InvalidArgumentTypeError(
            "faiss_index", "a faiss.Index, or None for an exact inner-product index", faiss_index
        )
    if faiss_index.d != dimension:
        raise InvalidArgumentError(
            f"faiss_index takes {faiss_index.d}-dimensional vectors; the embedding model gives {dimension}. "
            f"Create it for {dimension} dimensions, for example faiss.IndexFlatIP({dimension})."
        )
    if not faiss_index.is_trained:
        raise InvalidArgumentError("faiss_index is not trained; train it on sample vectors first.")
    if faiss_index.ntotal:
        raise InvalidArgumentError(
            f"faiss_index already holds {faiss_index.ntotal} vectors, which no node stands for; pass an empty index."
        )


def _documents_to_chunk(nodes: object) -> list[Document] | None:
    """``nodes`` if they are ``Document`` objects (to chunk), ``None`` for ready nodes; raise unless one kind."""
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence):
        raise InvalidTextError(f"nodes must be a list of LlamaIndex Documents or nodes, got {type(nodes).__name__}.")
    for i, node in enumerate(nodes):
        if not isinstance(node, BaseNode):
            raise InvalidTextError(
                f"nodes[{i}] is a {type(node).__name__}; wrap texts as Document(text=...) or TextNode(text=...)."
            )
    documents = [node for node in nodes if isinstance(node, Document)]
    if documents and len(documents) < len(nodes):
        i = next(i for i, node in enumerate(nodes) if isinstance(node, Document) != isinstance(nodes[0], Document))
        raise InvalidTextError(
            f"nodes[{i}] is a {type(nodes[i]).__name__} but nodes[0] is a {type(nodes[0]).__name__}: pass "
            "Documents (to be chunked) or ready nodes, not both."
        )
    return documents or None


def _bundle(query: object) -> QueryBundle:
    """``query`` as a ``QueryBundle``; anything else must be a non-blank string."""
    return query if isinstance(query, QueryBundle) else QueryBundle(query_str=check_query(query))
