"""Two-stage retrieval: a first stage (a FAISS index by default) whose candidates a cross-encoder reranks.

Needs ``langchain-classic``; building or loading a FAISS index also needs ``langchain-community``,
``langchain-huggingface`` and ``faiss-cpu`` (``pip install "crossrank[faiss]"``).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import RetrieverLike
from langchain_core.runnables import Runnable
from langchain_core.vectorstores import VectorStore
from pydantic import model_validator

from rerank_core import (
    DEFAULT_MODEL,
    InvalidArgumentError,
    InvalidTextError,
    MissingDependencyError,
    Scorer,
)
from rerank_core.engine.model_loading import BI_ENCODER, embed_model_name, loading_model
from rerank_core.errors import IndexFolderError, IndexNotFoundError, InvalidArgumentTypeError
from rerank_core.validation import check_positive_int, check_query, check_top_n

from .compressor import CrossEncoderReranker

try:
    from langchain_classic.retrievers import ContextualCompressionRetriever
except ModuleNotFoundError as exc:
    raise MissingDependencyError(exc.name or "langchain-classic", "faiss") from exc

if TYPE_CHECKING:
    from langchain_community.vectorstores import FAISS
    from langchain_core.cross_encoders import BaseCrossEncoder

DEFAULT_CANDIDATES = 20
"""First-stage candidates handed to the cross-encoder."""


class RerankRetriever(ContextualCompressionRetriever):
    """A ``ContextualCompressionRetriever`` whose compressor is a :class:`CrossEncoderReranker`.

    It retrieves candidates with ``base_retriever`` and reranks them with ``base_compressor``, as its
    parent does, and also takes the number of results, ``top_n``, in the constructor (where it sets the
    reranker's own ``top_n``, with its meaning: ``None`` keeps every scored document) and per call:
    ``retriever.invoke(query, top_n=5)`` (omitted or ``None``: the reranker's). Other ``invoke`` keywords
    go to the first stage (``k=50`` asks a vector-store retriever for 50 candidates).

    Example:
        .. code-block:: python

            retriever = RerankRetriever(
                base_retriever=vector_store.as_retriever(search_kwargs={"k": 20}),
                base_compressor=CrossEncoderReranker(model="cross-encoder/ms-marco-MiniLM-L6-v2"),
                top_n=3,
            )
            docs = retriever.invoke("What causes tides?")
    """

    base_compressor: CrossEncoderReranker
    """The reranker applied to the first stage's candidates; its ``top_n`` is the number of results."""

    @model_validator(mode="before")
    @classmethod
    def _top_n_sets_the_reranker(cls, data: Any) -> Any:
        """``RerankRetriever(..., top_n=5)`` builds the retriever around a copy of the reranker with that ``top_n``."""
        if not isinstance(data, dict) or "top_n" not in data:
            return data
        data = dict(data)
        top_n = check_top_n(data.pop("top_n"))
        reranker = data.get("base_compressor")
        if isinstance(reranker, CrossEncoderReranker):
            data["base_compressor"] = reranker.model_copy(update={"top_n": top_n})
        elif isinstance(reranker, dict):
            data["base_compressor"] = {**reranker, "top_n": top_n}
        return data

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        top_n: int | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        check_query(query)
        reranker = self._reranker(top_n)
        docs = self.base_retriever.invoke(query, config={"callbacks": run_manager.get_child()}, **kwargs)
        if not docs:
            return []
        return list(reranker.compress_documents(docs, query, callbacks=run_manager.get_child()))

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        top_n: int | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        check_query(query)
        reranker = self._reranker(top_n)
        docs = await self.base_retriever.ainvoke(query, config={"callbacks": run_manager.get_child()}, **kwargs)
        if not docs:
            return []
        return list(await reranker.acompress_documents(docs, query, callbacks=run_manager.get_child()))

    def _reranker(self, top_n: int | None) -> CrossEncoderReranker:
        """The reranker with the per-call ``top_n`` (``None``: as it is)."""
        wanted = check_top_n(top_n)
        if wanted is None or wanted == self.base_compressor.top_n:
            return self.base_compressor
        return self.base_compressor.model_copy(update={"top_n": wanted})


def build_rerank_retriever(
    source: Sequence[Document] | VectorStore | RetrieverLike,
    *,
    model: str | BaseCrossEncoder | Scorer = DEFAULT_MODEL,
    top_n: int | None = 3,
    k: int | None = None,
    embeddings: Embeddings | str | None = None,
    **reranker_options: Any,
) -> RerankRetriever:
    """A two-stage retriever: ``k`` first-stage candidates, reranked by a cross-encoder to ``top_n``.

    Args:
        source: Documents to embed into a new in-memory FAISS index, or an existing vector store, or
            any retriever (a ``Runnable`` from query to documents) used as the first stage as it is.
        model: The cross-encoder, as :class:`CrossEncoderReranker` takes it: an id or path, a
            ``BaseCrossEncoder`` or any ``rerank_core.Scorer`` (``CrossEncoderScorer``, ``RemoteScorer``).
        top_n: Documents to return (also settable per call: ``invoke(query, top_n=5)``).
        k: First-stage candidates (default 20), for documents or a vector store; a retriever you pass
            keeps its own setting.
        embeddings: For documents only: a LangChain ``Embeddings`` or a sentence-transformers model id
            or path (default ``rerank_core.DEFAULT_EMBED_MODEL``, normalised embeddings).
        **reranker_options: Other :class:`CrossEncoderReranker` fields (``min_score``, ``batch_size``,
            ``device``...).

    Returns:
        A :class:`RerankRetriever`. Save its FAISS index with :func:`save_rerank_retriever`.

    Raises:
        InvalidArgumentError: ``k`` or ``embeddings`` given where they do not apply, ``k`` not a positive
            integer, ``embeddings`` an empty string, or no documents.
        InvalidTextError: ``source`` is not documents, a vector store or a retriever, or holds something
            that is not a ``Document``.
        InvalidArgumentTypeError: ``embeddings`` is neither an ``Embeddings`` nor a model id or path.
        ModelNotFoundError: no bi-encoder under the ``embeddings`` id or path.

    Example:
        .. code-block:: python

            from langchain_core.documents import Document
            from langchain_rerank import build_rerank_retriever

            retriever = build_rerank_retriever(
                [Document(page_content="The moon's gravity raises tides."), ...], top_n=3
            )
            docs = retriever.invoke("What causes tides?")
    """
    reranker = CrossEncoderReranker(model=model, top_n=top_n, **reranker_options)
    return RerankRetriever(base_retriever=_first_stage(source, k, embeddings), base_compressor=reranker)


def save_rerank_retriever(
    retriever: RerankRetriever, folder_path: str | PathLike[str], index_name: str = "index"
) -> None:
    """Save the FAISS index behind ``retriever`` with ``FAISS.save_local`` (``index_name`` .faiss and .pkl).

    Raises:
        InvalidArgumentTypeError: ``retriever`` is not a :class:`RerankRetriever` over a FAISS vector
            store, ``folder_path`` is not a path, or ``index_name`` is not a string.
        InvalidArgumentError: ``index_name`` is empty.
        IndexFolderError: the folder cannot be created or written (for example a file stands there).
    """
    folder, _ = _index_files(folder_path, index_name)
    if not isinstance(retriever, RerankRetriever):
        raise InvalidArgumentTypeError("retriever", "a RerankRetriever", retriever)
    store = getattr(retriever.base_retriever, "vectorstore", None)
    if not isinstance(store, _faiss_class()):
        raise InvalidArgumentTypeError(
            "retriever.base_retriever",
            "a FAISS vector store's retriever (save_rerank_retriever saves a FAISS first stage)",
            retriever.base_retriever if store is None else store,
            "Save its index with that store's own API.",
        )
    try:
        store.save_local(str(folder), index_name)
    except OSError as exc:
        raise IndexFolderError(
            f"Cannot save the FAISS index in {str(folder)!r}: {exc}. Pass a folder path you can write to."
        ) from exc


def load_rerank_retriever(
    folder_path: str | PathLike[str],
    *,
    allow_dangerous_deserialization: bool = False,
    embeddings: Embeddings | str | None = None,
    index_name: str = "index",
    model: str | BaseCrossEncoder | Scorer = DEFAULT_MODEL,
    top_n: int | None = 3,
    k: int | None = None,
    **reranker_options: Any,
) -> RerankRetriever:
    """Load a FAISS index saved by :func:`save_rerank_retriever` (or ``FAISS.save_local``) and rerank over it.

    FAISS keeps its documents in a pickle file, and unpickling a file can run any code written into
    it. ``FAISS.load_local`` therefore refuses to load unless ``allow_dangerous_deserialization=True``;
    that choice is yours: set it only for folders you wrote yourself or otherwise trust, never for
    files downloaded from or writable by others. Left ``False``, loading is refused.

    Args:
        folder_path: The folder given to ``save_local``.
        allow_dangerous_deserialization: Passed to ``FAISS.load_local`` (see above).
        embeddings: The embeddings the index was built with (default as in :func:`build_rerank_retriever`).
        index_name: The file name stem given to ``save_local``.
        model: The cross-encoder, as in :func:`build_rerank_retriever`.
        top_n: Documents to return, as in :func:`build_rerank_retriever`.
        k: First-stage candidates, as in :func:`build_rerank_retriever`.
        **reranker_options: Other :class:`CrossEncoderReranker` fields, as in :func:`build_rerank_retriever`.

    Raises:
        IndexNotFoundError: the folder, or its ``index_name`` .faiss or .pkl file, does not exist.
        InvalidArgumentError: ``allow_dangerous_deserialization`` is ``False`` (FAISS refuses to
            unpickle), the .faiss or .pkl file is not what ``save_local`` writes, ``index_name`` or
            ``embeddings`` is an empty string, or ``k`` is not a positive integer.
        InvalidArgumentTypeError: ``folder_path`` is not a path, ``index_name`` not a string,
            ``allow_dangerous_deserialization`` not a bool, or ``embeddings`` neither an ``Embeddings``
            nor a model id or path.
        ModelNotFoundError: no bi-encoder under the ``embeddings`` id or path.
    """
    folder, files = _index_files(folder_path, index_name)
    if not isinstance(allow_dangerous_deserialization, bool):
        raise InvalidArgumentTypeError(
            "allow_dangerous_deserialization", "True or False", allow_dangerous_deserialization
        )
    missing = [path.name for path in files if not path.is_file()]
    if missing:
        raise IndexNotFoundError(
            f"{str(folder)!r} holds no saved FAISS index named {index_name!r} ({' and '.join(missing)} missing). "
            "Save one there with save_rerank_retriever, or pass the folder and index_name it was saved with."
        )
    reranker = CrossEncoderReranker(model=model, top_n=top_n, **reranker_options)
    embedder = _embeddings(embeddings)
    try:
        store = _faiss_class().load_local(
            str(folder), embedder, index_name, allow_dangerous_deserialization=allow_dangerous_deserialization
        )
    except RuntimeError as exc:  # faiss.read_index: the file is not a FAISS index
        raise InvalidArgumentError(f"{str(files[0])!r} is not a readable FAISS index: {exc}") from exc
    except (ValueError, TypeError, EOFError, pickle.UnpicklingError) as exc:
        if not allow_dangerous_deserialization:  # load_local's refusal, raised before it reads a file
            raise InvalidArgumentError(
                f"Refusing to load {str(files[1])!r}: allow_dangerous_deserialization is False, and unpickling "
                "a file can run any code written into it. Pass allow_dangerous_deserialization=True only for "
                "a folder you wrote yourself or otherwise trust."
            ) from exc
        raise InvalidArgumentError(
            f"{str(files[1])!r} is not a FAISS docstore saved by save_rerank_retriever: {exc}"
        ) from exc
    return RerankRetriever(base_retriever=_first_stage(store, k, None), base_compressor=reranker)


def _first_stage(
    source: Sequence[Document] | VectorStore | RetrieverLike,
    k: int | None,
    embeddings: Embeddings | str | None,
) -> RetrieverLike:
    """The first-stage retriever for ``source``."""
    if k is not None:
        check_positive_int("k", k)
    if isinstance(source, Runnable):
        if k is not None or embeddings is not None:
            raise InvalidArgumentError(
                "k and embeddings apply when documents or a vector store are given; set them on the "
                "retriever you pass instead."
            )
        return source
    candidates = {"k": k or DEFAULT_CANDIDATES}
    if isinstance(source, VectorStore):
        if embeddings is not None:
            raise InvalidArgumentError("embeddings apply to documents only; a vector store has its own.")
        return source.as_retriever(search_kwargs=candidates)
    documents = _documents(source)
    store = _faiss_class().from_documents(documents, _embeddings(embeddings))
    return store.as_retriever(search_kwargs=candidates)


def _index_files(folder_path: object, index_name: object) -> tuple[Path, tuple[Path, Path]]:
    """The folder and the .faiss and .pkl files of the index ``index_name`` in it; bad arguments are refused."""
    if not isinstance(folder_path, (str, PathLike)):
        raise InvalidArgumentTypeError("folder_path", "a folder path (str or os.PathLike)", folder_path)
    if not isinstance(index_name, str):
        raise InvalidArgumentTypeError("index_name", "a string (the file name stem)", index_name)
    if not index_name:
        raise InvalidArgumentError("index_name is empty; pass the file name stem of the index (default 'index').")
    folder = Path(folder_path)
    return folder, (folder / f"{index_name}.faiss", folder / f"{index_name}.pkl")


def _documents(source: object) -> list[Document]:
    """``source`` as a non-empty list of ``Document``; anything else is refused, naming the culprit."""
    if isinstance(source, (str, bytes, Document)) or not isinstance(source, Sequence):
        raise InvalidTextError(f"source must be documents, a vector store or a retriever, got {type(source).__name__}.")
    for i, doc in enumerate(source):
        if not isinstance(doc, Document):
            raise InvalidTextError(f"source[{i}] is a {type(doc).__name__}, not a Document.")
    if not source:
        raise InvalidArgumentError("source holds no documents to index.")
    return list(source)


def _embeddings(embeddings: Embeddings | str | None) -> Embeddings:
    """``embeddings`` as a LangChain ``Embeddings``; a model id or path loads ``HuggingFaceEmbeddings``."""
    if isinstance(embeddings, Embeddings):
        return embeddings
    model_name = embed_model_name(embeddings, "embeddings", "a LangChain Embeddings or a model id or path")
    try:
        from langchain_huggingface import HuggingFaceEmbeddings
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or "langchain-huggingface", "faiss") from exc
    with loading_model(model_name, BI_ENCODER):
        return HuggingFaceEmbeddings(model_name=model_name, encode_kwargs={"normalize_embeddings": True})


def _faiss_class() -> type[FAISS]:
    """``langchain_community``'s FAISS vector store class, imported on first use."""
    try:
        from langchain_community.vectorstores import FAISS
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or "langchain-community", "faiss") from exc
    return FAISS
