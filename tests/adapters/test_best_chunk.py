"""The best chunk of each returned document, for citing: off by default, ``metadata["best_chunk"]`` when on."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.documents import Document
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode
from pydantic import ValidationError

from langchain_rerank import CrossEncoderReranker
from llamaindex_rerank import CrossEncoderRerank
from rerank_core import CrossEncoderScorer, InvalidArgumentError, RemoteScorer
from rerank_core.types import BEST_CHUNK_KEY

QUERY = "how does the zebrafish heart regenerate after injury"
ANSWER = "Zebrafish regenerate their heart after injury, as cardiomyocytes proliferate near the wound."
FILLER = [
    "Bananas are rich in potassium and grow in the tropics.",
    "The stock market fell sharply on Monday in Tokyo and London.",
    "Rain is expected later this week across the north coast.",
    "Violins have four strings tuned in fifths.",
]
LONG = " ".join(FILLER * 3 + [ANSWER] + FILLER * 2)
"""A text far beyond a 64-token window, the answer in its middle."""
SHORT = "Bananas are yellow."
CHUNKED = {"max_length": 64, "long_documents": "max_chunk", "chunking": "sentence"}


@pytest.fixture(scope="module")
def chunked_scorer(ce_model_path) -> CrossEncoderScorer:
    return CrossEncoderScorer(ce_model_path, **CHUNKED)


def test_langchain_puts_the_best_chunk_in_metadata_when_asked(ce_model_path, chunked_scorer):
    documents = [Document(page_content=SHORT, metadata={"id": 1}), Document(page_content=LONG, metadata={"id": 2})]
    reranker = CrossEncoderReranker(model=ce_model_path, top_n=None, keep_best_chunk=True, **CHUNKED)
    results = reranker.compress_documents(documents, QUERY)
    expected = {
        hit.index: hit.best_chunk([SHORT, LONG][hit.index]) for hit in chunked_scorer.rank(QUERY, [SHORT, LONG])
    }
    assert [doc.metadata[BEST_CHUNK_KEY] for doc in results] == [expected[doc.metadata["id"] - 1] for doc in results]
    long_chunk = next(doc.metadata[BEST_CHUNK_KEY] for doc in results if doc.metadata["id"] == 2)
    assert LONG[long_chunk["start"] : long_chunk["end"]] == long_chunk["text"] and "Zebrafish" in long_chunk["text"]
    assert next(doc.metadata[BEST_CHUNK_KEY] for doc in results if doc.metadata["id"] == 1)["text"] == SHORT
    assert [doc.metadata for doc in documents] == [{"id": 1}, {"id": 2}]  # the inputs are untouched


async def test_langchain_async_gives_the_same_best_chunks(ce_model_path):
    documents = [Document(page_content=LONG), Document(page_content=SHORT)]
    reranker = CrossEncoderReranker(model=ce_model_path, top_n=None, keep_best_chunk=True, **CHUNKED)
    sync = reranker.compress_documents(documents, QUERY)
    assert [d.metadata for d in await reranker.acompress_documents(documents, QUERY)] == [d.metadata for d in sync]


def test_langchain_leaves_the_best_chunk_out_by_default(ce_model_path):
    (result,) = CrossEncoderReranker(model=ce_model_path, top_n=1, **CHUNKED).compress_documents(
        [Document(page_content=LONG)], QUERY
    )
    assert BEST_CHUNK_KEY not in result.metadata


def test_langchain_refuses_the_best_chunk_from_a_scorer_that_cannot_tell():
    with pytest.raises(ValidationError, match="keep_best_chunk needs a scorer that reports"):
        CrossEncoderReranker(model=RemoteScorer("http://127.0.0.1:9"), keep_best_chunk=True)


def _nodes() -> list[NodeWithScore]:
    return [
        NodeWithScore(node=TextNode(text=SHORT, id_="short", metadata={"source": "a"}), score=0.5),
        NodeWithScore(node=TextNode(text=LONG, id_="long", metadata={"source": "b"}), score=0.4),
    ]


def test_llamaindex_puts_the_best_chunk_in_metadata_when_asked(ce_model_path, chunked_scorer):
    nodes = _nodes()
    reranker = CrossEncoderRerank(
        model=ce_model_path, top_n=None, keep_best_chunk=True, metadata_mode=MetadataMode.NONE, **CHUNKED
    )
    results = reranker.postprocess_nodes(nodes, query_str=QUERY)
    expected = {
        hit.index: hit.best_chunk([SHORT, LONG][hit.index]) for hit in chunked_scorer.rank(QUERY, [SHORT, LONG])
    }
    by_id = {"short": 0, "long": 1}
    assert [r.node.metadata[BEST_CHUNK_KEY] for r in results] == [expected[by_id[r.node.node_id]] for r in results]
    long_node = next(r.node for r in results if r.node.node_id == "long")
    assert "Zebrafish" in long_node.metadata[BEST_CHUNK_KEY]["text"]
    assert BEST_CHUNK_KEY not in long_node.get_content(metadata_mode=MetadataMode.LLM)  # kept out of the prompt
    assert BEST_CHUNK_KEY in long_node.excluded_embed_metadata_keys
    assert [n.node.metadata for n in nodes] == [{"source": "a"}, {"source": "b"}]  # the inputs are untouched
    assert [n.node.excluded_llm_metadata_keys for n in nodes] == [[], []]
    asynced = asyncio.run(reranker.apostprocess_nodes(nodes, query_str=QUERY))
    assert [r.node.metadata for r in asynced] == [r.node.metadata for r in results]


def test_llamaindex_spans_index_the_text_the_reranker_read(ce_model_path):
    reranker = CrossEncoderRerank(model=ce_model_path, top_n=1, keep_best_chunk=True, **CHUNKED)
    (result,) = reranker.postprocess_nodes(_nodes()[1:], query_str=QUERY)
    chunk = result.node.metadata[BEST_CHUNK_KEY]
    read = _nodes()[1].node.get_content(metadata_mode=MetadataMode.EMBED)  # "source: b" then the text
    assert read[chunk["start"] : chunk["end"]] == chunk["text"] and chunk["start"] > 0


def test_llamaindex_leaves_the_best_chunk_out_by_default_and_refuses_it_from_a_served_model(ce_model_path):
    (result,) = CrossEncoderRerank(model=ce_model_path, top_n=1, **CHUNKED).postprocess_nodes(
        _nodes()[1:], query_str=QUERY
    )
    assert BEST_CHUNK_KEY not in result.node.metadata
    with pytest.raises(InvalidArgumentError, match="keep_best_chunk needs a scorer that reports"):
        CrossEncoderRerank(model=RemoteScorer("http://127.0.0.1:9"), keep_best_chunk=True)
