"""One behaviour for empty input, through the core and both adapters, sync and async.

A blank query is refused even with no texts (``InvalidQueryError``); a good query with no texts gives ``[]``
without loading the model. Every route gets a fresh ``CrossEncoderScorer`` (not the registry's), so
``scorer.loaded`` tells whether that call loaded it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from langchain_rerank import CrossEncoderReranker
from llamaindex_rerank import CrossEncoderRerank
from rerank_core import CrossEncoderScorer, InvalidQueryError

QUERY = "What causes the tides?"
BLANK_QUERIES = ["", "   \n\t"]


async def core(scorer: CrossEncoderScorer, query: str) -> list:
    return scorer.rank(query, [])


async def core_async(scorer: CrossEncoderScorer, query: str) -> list:
    return await scorer.arank(query, [])


async def langchain(scorer: CrossEncoderScorer, query: str) -> list:
    return list(CrossEncoderReranker(model=scorer).compress_documents([], query))


async def langchain_async(scorer: CrossEncoderScorer, query: str) -> list:
    return list(await CrossEncoderReranker(model=scorer).acompress_documents([], query))


async def llamaindex(scorer: CrossEncoderScorer, query: str) -> list:
    return CrossEncoderRerank(model=scorer).postprocess_nodes([], query_str=query)


async def llamaindex_async(scorer: CrossEncoderScorer, query: str) -> list:
    return await CrossEncoderRerank(model=scorer).apostprocess_nodes([], query_str=query)


ROUTES: list[Callable[[CrossEncoderScorer, str], Awaitable[list]]] = [
    core,
    core_async,
    langchain,
    langchain_async,
    llamaindex,
    llamaindex_async,
]


@pytest.fixture
def scorer(ce_model_path) -> CrossEncoderScorer:
    """The real cross-encoder, not loaded and not shared through the registry."""
    return CrossEncoderScorer(ce_model_path)


@pytest.mark.parametrize("query", BLANK_QUERIES, ids=["empty", "whitespace"])
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.__name__)
async def test_a_blank_query_is_refused_even_with_no_texts(route, query, scorer):
    with pytest.raises(InvalidQueryError, match="empty"):
        await route(scorer, query)
    assert not scorer.loaded


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.__name__)
async def test_a_good_query_with_no_texts_gives_nothing_without_loading(route, scorer):
    assert await route(scorer, QUERY) == []
    assert not scorer.loaded
