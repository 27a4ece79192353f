"""One engine, two thin adapters: the same query ranks identically through LangChain and LlamaIndex."""

from __future__ import annotations

from langchain_core.documents import Document
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from langchain_rerank import CrossEncoderReranker
from llamaindex_rerank import CrossEncoderRerank
from rerank_core import get_scorer


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
