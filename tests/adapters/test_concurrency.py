"""Load: threads mixing both adapters on one shared model, and hundreds of concurrent async requests."""

from __future__ import annotations

import asyncio
import threading
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
    assert adapters[0].scorer is adapters[1].scorer is get_scorer(tiny_model_dir, precision="fp32")
    expected = {k: _call(adapters, k) for k in range(2 * len(REQUESTS))}
    calls = list(range(8 * 500))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda k: _call(adapters, k), calls))
    mismatches = [k for k, got in zip(calls, results) if got != expected[k % (2 * len(REQUESTS))]]
    assert not mismatches, f"{len(mismatches)} of {len(calls)} threaded calls differ from sequential ones"


async def _acall(adapters, k: int) -> tuple[list[str], list[float]]:
    """:func:`_call` through ``acompress_documents`` / ``apostprocess_nodes``."""
    query, texts = REQUESTS[k % len(REQUESTS)]
    langchain, llamaindex = adapters
    if k % 2 == 0:
        docs = [Document(page_content=t, id=str(j)) for j, t in enumerate(texts)]
        out = await langchain.acompress_documents(docs, query)
        return [d.id for d in out], [d.metadata["relevance_score"] for d in out]
    nodes = [NodeWithScore(node=TextNode(text=t, id_=str(j))) for j, t in enumerate(texts)]
    out = await llamaindex.apostprocess_nodes(nodes, query_str=query)
    return [n.node.node_id for n in out], [n.score for n in out]


async def test_the_event_loop_runs_while_a_forward_of_200_concurrent_requests_is_held(adapters):
    """Tokenizing and the model run in worker threads: with a forward pass held in progress, the loop still runs.

    The real backend's ``forward`` is wrapped with a gate the test holds shut. Once a forward has entered
    the gate, the model is provably busy and no request can finish; the loop must still run heartbeats and
    an unrelated coroutine. Opening the gate lets the real model score all 200 requests, which must give
    the sequential results. The 60 s waits only turn a hang into a failure; nothing here is timed.
    """
    langchain, llamaindex = adapters
    scorer = llamaindex.scorer
    assert langchain.scorer is scorer
    expected = [_call(adapters, k) for k in range(200)]  # sequential, before the gate; loads the model
    backend, encoder = scorer._loaded_model()
    loop_thread = threading.get_ident()
    entered, gate = threading.Event(), threading.Event()
    forward_threads: set[int] = set()
    encode_threads: set[int] = set()
    real_forward, real_encode = backend.forward, encoder.encode

    def gated_forward(batch):
        forward_threads.add(threading.get_ident())
        entered.set()
        if not gate.wait(60):
            gate.set()  # one 60 s wait is enough to fail
            raise RuntimeError("the gate stayed shut for 60 s: did forward block the event loop that opens it?")
        return real_forward(batch)

    def recorded_encode(*args, **kwargs):
        encode_threads.add(threading.get_ident())
        return real_encode(*args, **kwargs)

    async def unrelated() -> str:
        await asyncio.sleep(0.001)
        return "done"

    backend.forward, encoder.encode = gated_forward, recorded_encode
    tasks = [asyncio.create_task(_acall(adapters, k)) for k in range(200)]
    try:
        assert await asyncio.to_thread(entered.wait, 60), "no forward pass started within 60 s"
        beats = 0
        for _ in range(20):
            await asyncio.sleep(0)
            await asyncio.sleep(0.001)
            beats += 1
        assert await asyncio.create_task(unrelated()) == "done"
        assert beats == 20
        assert not gate.is_set(), "the gate timed out: forward held the event loop"
        assert not any(task.done() for task in tasks), "a request finished while the model was held"
    finally:
        gate.set()
        try:
            results = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            del backend.forward, encoder.encode  # the class's own methods again (the scorer is shared)
    assert backend.forward == real_forward and encoder.encode == real_encode
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, f"{len(errors)} of 200 requests failed, the first with {errors[0]!r}"
    assert forward_threads and loop_thread not in forward_threads
    assert encode_threads and loop_thread not in encode_threads
    for (ids, scores), (expected_ids, expected_scores) in zip(results, expected, strict=True):
        assert ids == expected_ids  # shared batches: scores equal up to float rounding
        assert scores == pytest.approx(expected_scores, abs=1e-5)
