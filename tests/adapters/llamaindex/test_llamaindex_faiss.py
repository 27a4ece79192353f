"""The FAISS first stage helper (real FAISS, embeddings, cross-encoder; MockLLM: no LLM here)."""

from __future__ import annotations

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import Document, TextNode
from llama_index.vector_stores.faiss import FaissVectorStore

from llamaindex_rerank import (
    CrossEncoderRerank,
    build_faiss_index,
    build_rerank_query_engine,
    load_faiss_index,
)

SMALL = [
    ("zebra", "Zebrafish regenerate heart tissue after injury through cardiomyocyte proliferation."),
    ("aspirin", "Low-dose aspirin reduced the risk of a first myocardial infarction in a large trial."),
    ("sleep", "Regular exercise improves sleep quality in older adults."),
    ("vitd", "Vitamin D supplementation did not prevent fractures in community-dwelling adults."),
    ("bp", "Reducing dietary salt lowers blood pressure in people with hypertension."),
]
QUERY = "Does aspirin prevent heart attacks?"


@pytest.fixture(scope="module")
def small_nodes() -> list[TextNode]:
    return [TextNode(id_=i, text=t, metadata={"topic": i}) for i, t in SMALL]


def _ids(nodes) -> list[str]:
    return [n.node.node_id for n in nodes]


def _assert_same_ranking(got, expected) -> None:
    """Same node ids in the same order, scores equal up to float noise."""
    assert _ids(got) == _ids(expected)
    assert [float(n.score) for n in got] == pytest.approx([float(n.score) for n in expected], abs=1e-5)


def test_defaults_and_the_two_stages(scifact_pipeline, scifact_sub, faiss_candidates, reranked_candidates):
    assert isinstance(scifact_pipeline.index.vector_store, FaissVectorStore)
    assert scifact_pipeline.retriever.similarity_top_k == 20
    assert scifact_pipeline.reranker.top_n == 3
    assert scifact_pipeline.query_engine._node_postprocessors == [scifact_pipeline.reranker]
    for qid in list(scifact_sub.queries)[:2]:
        context = scifact_pipeline.retrieve(scifact_sub.queries[qid])
        _assert_same_ranking(context, reranked_candidates[qid][:3])


def test_query_engine_passes_the_reranked_context_to_the_llm(scifact_pipeline, scifact_sub, reranked_candidates):
    qid, question = next(iter(scifact_sub.queries.items()))
    context = reranked_candidates[qid][:3]
    response = scifact_pipeline.query_engine.query(question)
    _assert_same_ranking(response.source_nodes, context)
    # MockLLM answers with the prompt it was given: the reranked abstracts are in it, best first.
    positions = [str(response).find(n.node.get_content()[:200]) for n in context]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


async def test_async_pipeline_equals_sync(scifact_pipeline, scifact_sub, reranked_candidates):
    qid, question = list(scifact_sub.queries.items())[1]
    _assert_same_ranking(await scifact_pipeline.aretrieve(question), reranked_candidates[qid][:3])
    response = await scifact_pipeline.query_engine.aquery(question)
    _assert_same_ranking(response.source_nodes, reranked_candidates[qid][:3])


def test_persist_and_reload_the_session_index(
    tmp_path,
    scifact_index,
    li_embed_model,
    scifact_pipeline,
    scifact_sub,
    faiss_candidates,
    reranked_candidates,
):
    scifact_index.storage_context.persist(persist_dir=str(tmp_path))
    reloaded = load_faiss_index(tmp_path, embed_model=li_embed_model)
    assert isinstance(reloaded.vector_store, FaissVectorStore)
    assert reloaded.vector_store.client.ntotal == len(scifact_sub.corpus)
    again = build_rerank_query_engine(reloaded, model=scifact_pipeline.reranker.scorer, llm=MockLLM())
    queries = list(scifact_sub.queries.items())[:5]
    for qid, question in queries:
        _assert_same_ranking(again.retriever.retrieve(question), faiss_candidates[qid])
    qid, question = queries[-1]
    _assert_same_ranking(again.retrieve(question), reranked_candidates[qid][:3])


def test_build_with_persist_dir_and_documents(tmp_path, li_embed_model, ce_model_path, small_nodes):
    index = build_faiss_index(small_nodes, embed_model=li_embed_model, persist_dir=tmp_path / "nodes")
    assert index.vector_store.client.ntotal == len(SMALL)
    reloaded = load_faiss_index(tmp_path / "nodes", embed_model=li_embed_model)
    first = index.as_retriever(similarity_top_k=3).retrieve(QUERY)
    _assert_same_ranking(reloaded.as_retriever(similarity_top_k=3).retrieve(QUERY), first)
    assert first[0].node.node_id == "aspirin" and first[0].node.metadata == {"topic": "aspirin"}

    # Documents are chunked by the given transformations; chunks point back to their document.
    documents = [Document(id_=i, text=f"{t} " * 8) for i, t in SMALL]
    chunked = build_faiss_index(
        documents,
        embed_model=li_embed_model,
        transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0)],
    )
    assert chunked.vector_store.client.ntotal > len(documents)
    rag = build_rerank_query_engine(chunked, model=ce_model_path, top_n=2, llm=MockLLM())
    assert [n.node.ref_doc_id for n in rag.retrieve(QUERY)] == ["aspirin", "aspirin"]


def test_build_from_nodes_in_one_call(tmp_path, li_embed_model, ce_model_path, small_nodes):
    rag = build_rerank_query_engine(
        small_nodes,
        model=ce_model_path,
        embed_model=li_embed_model,
        similarity_top_k=4,
        top_n=2,
        keep_retrieval_score=True,
        llm=MockLLM(),
        persist_dir=tmp_path,
    )
    assert isinstance(rag.index, VectorStoreIndex) and isinstance(rag.reranker, CrossEncoderRerank)
    first_stage = rag.retriever.retrieve(QUERY)
    context = rag.retrieve(QUERY)
    assert len(first_stage) == 4 and len(context) == 2
    assert context[0].node.node_id == "aspirin"
    retrieval = {n.node.node_id: float(n.score) for n in first_stage}
    assert all(n.node.metadata["retrieval_score"] == pytest.approx(retrieval[n.node.node_id]) for n in context)
    assert (tmp_path / "docstore.json").is_file()
