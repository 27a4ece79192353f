"""The best chunk of each returned document, for citing: off by default, ``metadata["best_chunk"]`` when on."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from pydantic import ValidationError

from langchain_rerank import CrossEncoderReranker
from rerank_core import CrossEncoderScorer, RemoteScorer
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
