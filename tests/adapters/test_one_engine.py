"""One engine, two thin adapters: the same query ranks identically through LangChain and LlamaIndex, and both
rank through ``Scorer.rank`` with one ``RankSpec``, so a served model ranks once, on its server."""

from __future__ import annotations

import asyncio
import json

import pytest
from http_stub import Received, Reply, StubServer
from langchain_core.documents import Document
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from langchain_rerank import CrossEncoderReranker
from llamaindex_rerank import CrossEncoderRerank
from rerank_core import RemoteScorer, get_scorer


def test_both_adapters_rank_identically_on_one_shared_model(scifact, ce_model_path):
    qid = next(iter(scifact.qrels))
    query = scifact.queries[qid]
    doc_ids = list(scifact.qrels[qid]) + [d for d in list(scifact.corpus)[:15] if d not in scifact.qrels[qid]]
    texts = [scifact.doc_text(d) for d in doc_ids]

    compressor = CrossEncoderReranker(model=ce_model_path, top_n=10)
    documents = [Document(page_content=t, metadata={"doc_id": d}) for d, t in zip(doc_ids, texts)]
    via_langchain = compressor.compress_documents(documents, query)

    postprocessor = CrossEncoderRerank(model=ce_model_path, top_n=10, metadata_mode="none")
    nodes = [NodeWithScore(node=TextNode(text=t, id_=d), score=None) for d, t in zip(doc_ids, texts)]
    via_llamaindex = postprocessor.postprocess_nodes(nodes, QueryBundle(query))

    assert [d.metadata["doc_id"] for d in via_langchain] == [n.node.node_id for n in via_llamaindex]
    assert [d.metadata["relevance_score"] for d in via_langchain] == [n.score for n in via_llamaindex]
    scorer = get_scorer(ce_model_path)
    assert scorer.loaded
    core = scorer.rank(query, texts, top_n=10)
    assert [doc_ids[h.index] for h in core] == [n.node.node_id for n in via_llamaindex]


def _counting(reply: Reply, answers: list[list[dict]]) -> Reply:
    """``reply``, also recording the results each ``/rerank`` answer carries (the scores on the wire)."""

    async def counted(request: Received, writer: asyncio.StreamWriter) -> None:
        written: list[bytes] = []
        write = writer.write
        writer.write = written.append  # type: ignore[method-assign]
        await reply(request, writer)
        writer.write = write  # type: ignore[method-assign]
        for data in written:
            write(data)
        if request.path.endswith("/rerank"):
            answers.append(json.loads(b"".join(written).split(b"\r\n\r\n", 1)[1]))

    return counted


@pytest.mark.parametrize("adapter", ["langchain", "llamaindex"])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_remote_scorer_behind_either_adapter_sends_the_rules_and_ranks_once(adapter, mode):
    answers: list[list[dict]] = []
    stub = StubServer()
    stub.reply = _counting(stub.reply, answers)
    texts = ["a" * n for n in (3, 9, 1, 7, 5, 8)]
    try:
        scorer = RemoteScorer(stub.url)
        if adapter == "langchain":
            compressor = CrossEncoderReranker(model=scorer, top_n=2, min_score=4.0, rank_window_size=5)
            documents = [Document(page_content=t) for t in texts]
            run = compressor.acompress_documents if mode == "async" else compressor.compress_documents
            out = run(documents, "q")
            returned = [d.page_content for d in (await out if mode == "async" else out)]
        else:
            postprocessor = CrossEncoderRerank(model=scorer, top_n=2, min_score=4.0, rank_window_size=5)
            nodes = [NodeWithScore(node=TextNode(text=t), score=None) for t in texts]
            run = postprocessor.apostprocess_nodes if mode == "async" else postprocessor.postprocess_nodes
            out = run(nodes, query_str="q")
            returned = [n.node.get_content() for n in (await out if mode == "async" else out)]
    finally:
        stub.stop()
    [request] = [r for r in stub.received if r.path.endswith("/rerank")]
    sent = json.loads(request.body)
    assert (sent["top_n"], sent["min_score"], sent["texts"]) == (2, 4.0, texts[:5])
    assert [len(results) for results in answers] == [2]  # the server ranked and cut; only two scores came back
    assert returned == ["a" * 9, "a" * 7]
