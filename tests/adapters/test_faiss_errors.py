"""Bad input to either adapter's FAISS helpers raises a RerankError that is also the matching builtin.

Everything is real: FAISS, LangChain's and LlamaIndex's own stores and indexes, and the cross-encoder's
path (never loaded here). Where the embedding model does not matter, a tiny local embedding (counts of
eight letters) stands in for the bi-encoder, so nothing here loads a model.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import faiss
import numpy as np
import pytest
from langchain_core.documents import Document as LangChainDocument
from langchain_core.embeddings import Embeddings
from langchain_core.runnables import RunnableLambda
from langchain_core.vectorstores import InMemoryVectorStore
from llama_index.core import SummaryIndex, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.schema import Document, QueryBundle, TextNode

from langchain_rerank import RerankRetriever, build_rerank_retriever, load_rerank_retriever, save_rerank_retriever
from llamaindex_rerank import build_faiss_index, build_rerank_query_engine, load_faiss_index, resolve_embed_model
from rerank_core import InvalidArgumentError, InvalidQueryError, InvalidTextError, RerankError
from rerank_core.errors import IndexFolderError, IndexNotFoundError, InvalidArgumentTypeError

TEXTS = ["The Moon's gravity raises the tides.", "Bananas are rich in potassium."]
LETTERS = "aeiourst"
"""One dimension per letter: the tiny embedding's vectors have ``len(LETTERS)`` dimensions."""


def _vector(text: str) -> list[float]:
    return [1.0 + text.count(letter) for letter in LETTERS]


class LetterEmbeddings(Embeddings):
    """A tiny local LangChain embedding, for tests where the model does not matter."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [_vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return _vector(text)


class LetterEmbedding(BaseEmbedding):
    """The same tiny embedding for LlamaIndex."""

    def _get_query_embedding(self, query: str) -> list[float]:
        return _vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return _vector(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return _vector(query)


def assert_error(info: pytest.ExceptionInfo[RerankError], builtin: type[Exception], *culprits: str) -> None:
    """The error is a ``RerankError`` and a ``builtin``, and its message names every culprit."""
    assert isinstance(info.value, RerankError) and isinstance(info.value, builtin)
    message = str(info.value)
    assert all(culprit in message for culprit in culprits), message


@pytest.fixture
def lc_retriever(ce_model_path) -> RerankRetriever:
    documents = [LangChainDocument(page_content=text) for text in TEXTS]
    return build_rerank_retriever(documents, model=ce_model_path, embeddings=LetterEmbeddings(), k=2)


@pytest.fixture
def lc_saved(lc_retriever, tmp_path) -> str:
    """A folder holding a FAISS index saved by save_rerank_retriever."""
    save_rerank_retriever(lc_retriever, tmp_path / "saved")
    return str(tmp_path / "saved")


@pytest.fixture
def li_nodes() -> list[TextNode]:
    return [TextNode(id_=str(i), text=text) for i, text in enumerate(TEXTS)]


@pytest.fixture
def li_index(li_nodes) -> VectorStoreIndex:
    return build_faiss_index(li_nodes, embed_model=LetterEmbedding())


# LangChain: save_rerank_retriever


def test_save_refuses_a_first_stage_that_is_not_faiss(ce_model_path, tmp_path):
    retriever = build_rerank_retriever(RunnableLambda(lambda q: []), model=ce_model_path)
    with pytest.raises(InvalidArgumentTypeError) as info:
        save_rerank_retriever(retriever, tmp_path)
    assert_error(info, TypeError, "retriever.base_retriever", "FAISS", "RunnableLambda")


def test_save_names_the_vector_store_that_is_not_faiss(ce_model_path, tmp_path):
    store = InMemoryVectorStore.from_texts(TEXTS, LetterEmbeddings())
    with pytest.raises(InvalidArgumentTypeError) as info:
        save_rerank_retriever(build_rerank_retriever(store, model=ce_model_path), tmp_path)
    assert_error(info, TypeError, "FAISS", "InMemoryVectorStore")


def test_save_refuses_what_is_not_a_rerank_retriever(lc_retriever, tmp_path):
    with pytest.raises(InvalidArgumentTypeError) as info:
        save_rerank_retriever(lc_retriever.base_retriever.vectorstore, tmp_path)
    assert_error(info, TypeError, "retriever must be a RerankRetriever", "FAISS")


def test_save_into_a_file_is_a_folder_error(lc_retriever, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    with pytest.raises(IndexFolderError) as info:
        save_rerank_retriever(lc_retriever, a_file)
    assert_error(info, OSError, str(a_file), "folder path you can write to")
    assert isinstance(info.value.__cause__, FileExistsError)


@pytest.mark.parametrize(
    ("folder_path", "index_name", "error", "builtin", "culprits"),
    [
        (None, "index", InvalidArgumentTypeError, TypeError, ["folder_path", "NoneType"]),
        ("folder", 3, InvalidArgumentTypeError, TypeError, ["index_name", "int"]),
        ("folder", "", InvalidArgumentError, ValueError, ["index_name is empty"]),
    ],
)
def test_save_and_load_refuse_bad_paths(lc_retriever, folder_path, index_name, error, builtin, culprits):
    with pytest.raises(error) as info:
        save_rerank_retriever(lc_retriever, folder_path, index_name)
    assert_error(info, builtin, *culprits)
    with pytest.raises(error) as info:
        load_rerank_retriever(folder_path, index_name=index_name, embeddings=LetterEmbeddings())
    assert_error(info, builtin, *culprits)


# LangChain: load_rerank_retriever


@pytest.mark.parametrize("allow", [False, True])
def test_load_from_a_missing_folder_is_not_found(tmp_path, allow):
    missing = tmp_path / "no-such-index"
    with pytest.raises(IndexNotFoundError) as info:
        load_rerank_retriever(missing, allow_dangerous_deserialization=allow, embeddings=LetterEmbeddings())
    assert_error(info, FileNotFoundError, str(missing), "index.faiss", "index.pkl", "save_rerank_retriever")
    assert isinstance(info.value, IndexFolderError)


def test_load_under_another_index_name_is_not_found(lc_saved):
    with pytest.raises(IndexNotFoundError) as info:
        load_rerank_retriever(lc_saved, index_name="other", embeddings=LetterEmbeddings())
    assert_error(info, FileNotFoundError, "'other'", "other.faiss")


def test_load_refuses_to_unpickle_unless_allowed(lc_saved):
    with pytest.raises(InvalidArgumentError) as info:
        load_rerank_retriever(lc_saved, embeddings=LetterEmbeddings())
    assert_error(info, ValueError, "allow_dangerous_deserialization", "index.pkl", "trust")
    assert type(info.value.__cause__) is ValueError  # FAISS's own refusal, kept as the cause


def test_load_takes_only_a_bool_as_the_unpickling_choice(lc_saved):
    with pytest.raises(InvalidArgumentTypeError) as info:
        load_rerank_retriever(lc_saved, allow_dangerous_deserialization="no", embeddings=LetterEmbeddings())
    assert_error(info, TypeError, "allow_dangerous_deserialization", "str")


def test_load_of_a_file_that_is_not_faiss_names_it(tmp_path):
    (tmp_path / "index.faiss").write_text("not a FAISS index")
    (tmp_path / "index.pkl").write_bytes(b"")
    with pytest.raises(InvalidArgumentError) as info:
        load_rerank_retriever(tmp_path, allow_dangerous_deserialization=True, embeddings=LetterEmbeddings())
    assert_error(info, ValueError, str(tmp_path / "index.faiss"), "not a readable FAISS index")
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize("pickled", [b"", b"not a pickle", pickle.dumps(3)])
def test_load_of_a_docstore_that_is_not_faiss_names_it(lc_saved, pickled):
    pkl = Path(lc_saved) / "index.pkl"
    pkl.write_bytes(pickled)
    with pytest.raises(InvalidArgumentError) as info:
        load_rerank_retriever(lc_saved, allow_dangerous_deserialization=True, embeddings=LetterEmbeddings())
    assert_error(info, ValueError, str(pkl), "not a FAISS docstore")
    assert info.value.__cause__ is not None


# LangChain: embeddings and queries


@pytest.mark.parametrize(
    ("embeddings", "error", "builtin", "culprits"),
    [
        (3, InvalidArgumentTypeError, TypeError, ["embeddings", "int"]),
        ("  ", InvalidArgumentError, ValueError, ["embeddings is an empty string"]),
    ],
)
def test_bad_embeddings_are_refused(lc_saved, embeddings, error, builtin, culprits):
    with pytest.raises(error) as info:
        build_rerank_retriever([LangChainDocument(page_content=TEXTS[0])], embeddings=embeddings)
    assert_error(info, builtin, *culprits)
    with pytest.raises(error) as info:
        load_rerank_retriever(lc_saved, allow_dangerous_deserialization=True, embeddings=embeddings)
    assert_error(info, builtin, *culprits)


@pytest.mark.parametrize("query", [3, None, "", "   "])
async def test_a_bad_query_is_refused_before_the_first_stage_runs(ce_model_path, query):
    asked: list[object] = []
    retriever = build_rerank_retriever(RunnableLambda(lambda q: asked.append(q) or []), model=ce_model_path)
    with pytest.raises(InvalidQueryError) as info:
        retriever.invoke(query)
    assert_error(info, ValueError, "query")
    with pytest.raises(InvalidQueryError):
        await retriever.ainvoke(query)
    assert asked == []


# LlamaIndex: build_faiss_index and resolve_embed_model


@pytest.mark.parametrize(
    ("nodes", "culprits"),
    [
        ("some text", ["nodes must be a list", "str"]),
        ([TextNode(text="a"), "text"], ["nodes[1] is a str", "TextNode(text=...)"]),
        ([TextNode(text="a"), Document(text="b")], ["nodes[1] is a Document", "nodes[0] is a TextNode"]),
        ([Document(text="a"), Document(text="b"), TextNode(text="c")], ["nodes[2] is a TextNode"]),
    ],
)
def test_build_refuses_what_is_not_one_kind_of_node(nodes, culprits):
    with pytest.raises(InvalidTextError) as info:
        build_faiss_index(nodes, embed_model=LetterEmbedding())
    assert_error(info, TypeError, *culprits)


@pytest.mark.parametrize(
    ("embed_model", "error", "builtin", "culprits"),
    [
        (3, InvalidArgumentTypeError, TypeError, ["embed_model", "int"]),
        (LetterEmbeddings(), InvalidArgumentTypeError, TypeError, ["embed_model", "LetterEmbeddings"]),
        ("", InvalidArgumentError, ValueError, ["embed_model is an empty string"]),
    ],
)
def test_bad_embed_models_are_refused(li_nodes, tmp_path, embed_model, error, builtin, culprits):
    with pytest.raises(error) as info:
        resolve_embed_model(embed_model)
    assert_error(info, builtin, *culprits)
    with pytest.raises(error) as info:
        build_faiss_index(li_nodes, embed_model=embed_model)
    assert_error(info, builtin, *culprits)
    build_faiss_index(li_nodes, embed_model=LetterEmbedding(), persist_dir=tmp_path)
    with pytest.raises(error) as info:
        load_faiss_index(tmp_path, embed_model=embed_model)
    assert_error(info, builtin, *culprits)


def _filled_index() -> faiss.Index:
    index = faiss.IndexFlatIP(len(LETTERS))
    index.add(np.ones((2, len(LETTERS)), dtype="float32"))
    return index


@pytest.mark.parametrize(
    ("faiss_index", "error", "builtin", "culprits"),
    [
        (3, InvalidArgumentTypeError, TypeError, ["faiss_index must be a faiss.Index", "int"]),
        (
            faiss.IndexFlatIP(4),
            InvalidArgumentError,
            ValueError,
            ["4-dimensional", f"faiss.IndexFlatIP({len(LETTERS)})"],
        ),
        (_filled_index(), InvalidArgumentError, ValueError, ["already holds 2 vectors", "empty index"]),
        (
            faiss.IndexIVFFlat(faiss.IndexFlatIP(len(LETTERS)), len(LETTERS), 2),
            InvalidArgumentError,
            ValueError,
            ["not trained"],
        ),
    ],
)
def test_a_faiss_index_that_cannot_take_the_nodes_is_refused(li_nodes, faiss_index, error, builtin, culprits):
    with pytest.raises(error) as info:
        build_faiss_index(li_nodes, embed_model=LetterEmbedding(), faiss_index=faiss_index)
    assert_error(info, builtin, *culprits)


def test_build_takes_an_empty_faiss_index_of_the_right_dimension(li_nodes):
    index = build_faiss_index(li_nodes, embed_model=LetterEmbedding(), faiss_index=faiss.IndexFlatL2(len(LETTERS)))
    assert index.vector_store.client.ntotal == len(li_nodes)


def test_persisting_into_a_file_is_a_folder_error(li_nodes, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    with pytest.raises(IndexFolderError) as info:
        build_faiss_index(li_nodes, embed_model=LetterEmbedding(), persist_dir=a_file)
    assert_error(info, OSError, str(a_file), "folder path you can write to")
    assert isinstance(info.value.__cause__, OSError)


def test_persist_dir_must_be_a_path(li_nodes):
    with pytest.raises(InvalidArgumentTypeError) as info:
        build_faiss_index(li_nodes, embed_model=LetterEmbedding(), persist_dir=3)
    assert_error(info, TypeError, "persist_dir", "int")
    with pytest.raises(InvalidArgumentTypeError) as info:
        load_faiss_index(None, embed_model=LetterEmbedding())
    assert_error(info, TypeError, "persist_dir", "NoneType")


# LlamaIndex: load_faiss_index


def test_load_from_a_missing_folder_names_the_missing_files(tmp_path):
    missing = tmp_path / "no-such-index"
    with pytest.raises(IndexNotFoundError) as info:
        load_faiss_index(missing, embed_model=LetterEmbedding())
    assert_error(info, FileNotFoundError, str(missing), "docstore.json", "default__vector_store.json")
    assert isinstance(info.value, IndexFolderError)


@pytest.mark.parametrize("kind", [VectorStoreIndex, SummaryIndex])
def test_load_of_an_index_not_saved_over_faiss_names_the_file(li_nodes, tmp_path, kind):
    kind(li_nodes, embed_model=LetterEmbedding()).storage_context.persist(persist_dir=str(tmp_path))
    with pytest.raises(InvalidArgumentError) as info:
        load_faiss_index(tmp_path, embed_model=LetterEmbedding())
    assert_error(info, ValueError, "default__vector_store.json", "not a FAISS index", "build_faiss_index")
    assert isinstance(info.value.__cause__, RuntimeError)


# LlamaIndex: build_rerank_query_engine and RerankPipeline


def test_engine_refuses_options_that_do_not_apply(li_nodes, li_index, tmp_path):
    with pytest.raises(InvalidArgumentError) as info:
        build_rerank_query_engine(li_nodes, similarity_top_k=0, embed_model=LetterEmbedding(), llm=MockLLM())
    assert_error(info, ValueError, "similarity_top_k")
    for options in ({"embed_model": LetterEmbedding()}, {"persist_dir": tmp_path}):
        with pytest.raises(InvalidArgumentError) as info:
            build_rerank_query_engine(li_index, llm=MockLLM(), **options)
        assert_error(info, ValueError, next(iter(options)), "index.storage_context.persist")


def test_engine_takes_only_a_llamaindex_llm(li_nodes):
    with pytest.raises(InvalidArgumentTypeError) as info:
        build_rerank_query_engine(li_nodes, embed_model=LetterEmbedding(), llm="gpt-4o")
    assert_error(info, TypeError, "llm", "str")


@pytest.mark.parametrize("query", [3, None, "", "  \n"])
async def test_pipeline_refuses_a_bad_query(li_index, ce_model_path, query):
    rag = build_rerank_query_engine(li_index, model=ce_model_path, llm=MockLLM())
    with pytest.raises(InvalidQueryError) as info:
        rag.retrieve(query)
    assert_error(info, ValueError, "query")
    with pytest.raises(InvalidQueryError):
        await rag.aretrieve(query)


def test_pipeline_takes_a_query_bundle(li_index, ce_model_path):
    rag = build_rerank_query_engine(li_index, model=ce_model_path, top_n=1, llm=MockLLM())
    assert len(rag.retrieve(QueryBundle(query_str="What raises the tides?"))) == 1
