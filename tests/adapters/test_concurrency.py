"""Load: threads mixing both adapters on one shared model, and hundreds of concurrent async requests."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from langchain_core.documents import Document
from llama_index.core.schema import NodeWithScore, TextNode

from langchain_rerank import CrossEncoderReranker
from llamaindex_rerank import CrossEncoderRerank
from rerank_core import get_scorer

WORDS = "zebrafish heart cells cancer risk protein gene model study result patients trial".split()
REQUESTS = [
    (f"{WORDS[i % 12]} {WORDS[(i * 5) % 12]}", [" ".join(WORDS[(i + j) % 12 :]) + f" {j}" for j in range(6)])
    for i in range(20)
]


@pytest.fixture(scope="module")
def adapters(tiny_model_dir):
    options = {"precision": "fp32", "metadata_mode": "none"}
    return (
        CrossEncoderReranker(model=tiny_model_dir, top_n=4, precision="fp32"),
        CrossEncoderRerank(model=tiny_model_dir, top_n=4, **options),
    )


def _call(adapters, k: int) -> tuple[list[str], list[float]]:
    """Request ``k % 20`` through LangChain (even k) or LlamaIndex (odd k): (ids, scores) best first."""
    query, texts = REQUESTS[k % len(REQUESTS)]
    langchain, llamaindex = adapters
    if k % 2 == 0:
        docs = [Document(page_content=t, id=str(j)) for j, t in enumerate(texts)]
        out = langchain.compress_documents(docs, query)
        return [d.id for d in out], [d.metadata["relevance_score"] for d in out]
    nodes = [NodeWithScore(node=TextNode(text=t, id_=str(j))) for j, t in enumerate(texts)]
    out = llamaindex.postprocess_nodes(nodes, query_str=query)
    return [n.node.node_id for n in out], [n.score for n in out]


def test_eight_threads_of_500_calls_match_sequential_calls(adapters, tiny_model_dir):
    assert adapters[0]._scorer() is adapters[1].scorer is get_scorer(tiny_model_dir, precision="fp32")
    expected = {k: _call(adapters, k) for k in range(2 * len(REQUESTS))}
    calls = list(range(8 * 500))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda k: _call(adapters, k), calls))
    mismatches = [k for k, got in zip(calls, results) if got != expected[k % (2 * len(REQUESTS))]]
    assert not mismatches, f"{len(mismatches)} of {len(calls)} threaded calls differ from sequential ones"


async def test_200_concurrent_requests_keep_the_event_loop_responsive(adapters):
    langchain, llamaindex = adapters
    expected = [_call(adapters, k) for k in range(200)]
    lags: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(time.perf_counter() - started - 0.005)

    async def call(k: int) -> tuple[list[str], list[float]]:
        query, texts = REQUESTS[k % len(REQUESTS)]
        if k % 2 == 0:
            docs = [Document(page_content=t, id=str(j)) for j, t in enumerate(texts)]
            out = await langchain.acompress_documents(docs, query)
            return [d.id for d in out], [d.metadata["relevance_score"] for d in out]
        nodes = [NodeWithScore(node=TextNode(text=t, id_=str(j))) for j, t in enumerate(texts)]
        out = await llamaindex.apostprocess_nodes(nodes, query_str=query)
        return [n.node.node_id for n in out], [n.score for n in out]

    beat = asyncio.create_task(heartbeat())
    results = await asyncio.gather(*(call(k) for k in range(200)))
    done.set()
    await beat
    print(f"\n200 concurrent requests: largest event-loop lag {1000 * max(lags):.1f} ms over {len(lags)} beats")
    assert max(lags) < 0.050
    for (ids, scores), (expected_ids, expected_scores) in zip(results, expected):
        assert ids == expected_ids  # shared batches: scores equal up to float rounding
        assert scores == pytest.approx(expected_scores, abs=1e-5)
