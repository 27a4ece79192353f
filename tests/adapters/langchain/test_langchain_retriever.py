"""The two-stage retriever: LangChain's standard retriever suite, FAISS helpers, callbacks, LCEL chains."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import ParrotFakeChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_tests.integration_tests import RetrieversIntegrationTests

from langchain_rerank import (
    CrossEncoderReranker,
    RerankRetriever,
    build_rerank_retriever,
    load_rerank_retriever,
    save_rerank_retriever,
)
from rerank_core import InvalidArgumentError, InvalidTextError


def dump(docs) -> list[dict]:
    return [doc.model_dump() for doc in docs]


class TestRerankRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's own retriever contract, with ``top_n`` as the number of results."""

    @pytest.fixture(autouse=True)
    def _models(self, small_faiss, ce_model_path, query) -> None:
        type(self)._params = {
            "base_retriever": small_faiss.as_retriever(search_kwargs={"k": 8}),
            "base_compressor": CrossEncoderReranker(model=ce_model_path),
        }
        type(self)._query = query

    @property
    def retriever_constructor(self) -> type[RerankRetriever]:
        return RerankRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return dict(self._params)

    @property
    def retriever_query_example(self) -> str:
        return self._query

    @property
    def num_results_arg_name(self) -> str:
        return "top_n"


class EventLog(BaseCallbackHandler):
    """Records retriever runs and their parents, to check that callbacks reach nested runs."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, Any, Any]] = []
        self.ends: list[Any] = []

    def on_retriever_start(self, serialized, query, *, run_id, parent_run_id=None, **kwargs) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name") or (serialized or {}).get("id", ["?"])[-1]
        self.starts.append((name, run_id, parent_run_id))

    def on_retriever_end(self, documents, *, run_id, **kwargs) -> None:
        self.ends.append(run_id)


@pytest.fixture
def retriever(small_faiss, ce_model_path) -> RerankRetriever:
    return build_rerank_retriever(small_faiss, model=ce_model_path, k=8, top_n=3)


def test_matches_a_plain_contextual_compression_retriever(retriever, query):
    plain = ContextualCompressionRetriever(
        base_compressor=retriever.base_compressor, base_retriever=retriever.base_retriever
    )
    result = retriever.invoke(query)
    assert isinstance(retriever, ContextualCompressionRetriever)
    assert len(result) == 3
    assert dump(result) == dump(plain.invoke(query))


def test_top_n_and_k_per_call(small_faiss, ce_model_path, query):
    retriever = build_rerank_retriever(small_faiss, model=ce_model_path, k=6, top_n=None)
    assert len(retriever.invoke(query)) == 6
    assert len(retriever.invoke(query, k=4)) == 4
    assert len(retriever.invoke(query, top_n=2)) == 2
    assert len(RerankRetriever(**{**dict(retriever), "top_n": 5}).invoke(query)) == 5
    with pytest.raises(InvalidArgumentError):
        retriever.invoke(query, top_n=-1)


def test_does_not_touch_the_stored_documents(retriever, small_faiss, query):
    stored = copy.deepcopy(small_faiss.docstore._dict)
    retriever.invoke(query)
    retriever.invoke(query)
    assert {k: v.model_dump() for k, v in small_faiss.docstore._dict.items()} == {
        k: v.model_dump() for k, v in stored.items()
    }


async def test_ainvoke_equals_invoke(retriever, query):
    assert dump(await retriever.ainvoke(query, top_n=4)) == dump(retriever.invoke(query, top_n=4))


def test_builds_faiss_from_documents_with_ids_and_metadata(small_documents, lc_embeddings, ce_model_path, query):
    retriever = build_rerank_retriever(small_documents, model=ce_model_path, embeddings=lc_embeddings, top_n=3)
    result = retriever.invoke(query)
    by_id = {doc.id: doc for doc in small_documents}
    assert len(result) == 3
    for doc in result:
        assert doc.page_content == by_id[doc.id].page_content
        assert {k: v for k, v in doc.metadata.items() if k != "relevance_score"} == by_id[doc.id].metadata
    assert retriever.base_retriever.search_kwargs == {"k": 20}


def test_wraps_any_retriever_as_it_is(small_faiss, ce_model_path, query):
    first_stage = RunnableLambda(lambda q: small_faiss.similarity_search(q, k=5))
    retriever = build_rerank_retriever(first_stage, model=ce_model_path, top_n=None)
    assert sorted(doc.id for doc in retriever.invoke(query)) == sorted(doc.id for doc in first_stage.invoke(query))
    with pytest.raises(InvalidArgumentError, match="k and embeddings"):
        build_rerank_retriever(first_stage, k=5)


def test_no_candidates_gives_no_documents(ce_model_path, query):
    retriever = build_rerank_retriever(RunnableLambda(lambda q: []), model=ce_model_path)
    assert retriever.invoke(query) == []


def test_save_and_load_round_trip(retriever, lc_embeddings, ce_model_path, query, tmp_path):
    save_rerank_retriever(retriever, tmp_path / "index")
    loaded = load_rerank_retriever(
        tmp_path / "index",
        allow_dangerous_deserialization=True,
        embeddings=lc_embeddings,
        model=ce_model_path,
        k=8,
        top_n=3,
    )
    assert dump(loaded.invoke(query)) == dump(retriever.invoke(query))


@pytest.mark.parametrize(
    ("source", "options", "error"),
    [
        ([], {}, InvalidArgumentError),
        (["a text"], {}, InvalidTextError),
        ("a text", {}, InvalidTextError),
        ([Document(page_content="a")], {"k": 0}, InvalidArgumentError),
        ([Document(page_content="a")], {"top_n": -2}, ValueError),
        ([Document(page_content="a")], {"unknown_option": 1}, ValueError),
    ],
)
def test_bad_sources_and_options_fail_before_any_embedding(source, options, error):
    with pytest.raises(error):
        build_rerank_retriever(source, model="/nonexistent/crossrank-model", embeddings="/nonexistent/embed", **options)


def test_embeddings_do_not_apply_to_a_vector_store(small_faiss, lc_embeddings):
    with pytest.raises(InvalidArgumentError, match="embeddings"):
        build_rerank_retriever(small_faiss, embeddings=lc_embeddings)


def test_callbacks_reach_the_first_stage(retriever, query):
    log = EventLog()
    retriever.invoke(query, config={"callbacks": [log]})
    (outer_name, outer_id, outer_parent), (inner_name, inner_id, inner_parent) = log.starts
    assert outer_name == "RerankRetriever" and outer_parent is None
    assert inner_name == "VectorStoreRetriever" and inner_parent == outer_id
    assert sorted(map(str, log.ends)) == sorted(map(str, (outer_id, inner_id)))


def format_docs(docs: list[Document]) -> str:
    return "\n\n".join(f"[{doc.id}] {doc.page_content}" for doc in docs)


async def test_lcel_chain_passes_the_reranked_context(retriever, query):
    prompt = ChatPromptTemplate.from_messages(
        [("human", "Answer from the context only.\n\nContext:\n{context}\n\nQuestion: {question}")]
    )
    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | prompt
        | ParrotFakeChatModel()
        | StrOutputParser()
    )
    log = EventLog()

    answer = chain.invoke(query, config={"callbacks": [log]})

    context = format_docs(retriever.invoke(query))
    assert answer == prompt.invoke({"context": context, "question": query}).to_messages()[-1].content
    assert f"[{retriever.invoke(query)[0].id}]" in answer
    assert [name for name, _, _ in log.starts] == ["RerankRetriever", "VectorStoreRetriever"]
    assert await chain.ainvoke(query) == answer
