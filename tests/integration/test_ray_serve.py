"""A served reranker on Ray Serve with the real model: concurrency, bad requests, the client and both adapters."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import numpy as np
import pytest
from langchain_core.documents import Document
from llama_index.core.schema import NodeWithScore, TextNode

from crossrank_harness.ports import free_loopback_port
from langchain_rerank import CrossEncoderReranker
from llamaindex_rerank import CrossEncoderRerank
from rerank_core import (
    CrossEncoderScorer,
    InvalidArgumentError,
    InvalidQueryError,
    RemoteScorer,
    RemoteTimeoutError,
    ServiceUnavailableError,
)
from rerank_core.serving.wire import ServeLimits

MAX_DOCUMENTS = 40
MAX_BODY_BYTES = 200_000


@pytest.fixture(scope="module")
def url(ray_local, ce_model_path):
    """One scoring replica on a loopback port serving fp32 relevance scores (default sigmoid), behind the proxy
    guard as ``crossrank serve`` runs it; stopped after the module."""
    from ray import serve

    from rerank_core.serving.app import build_app, serve_start_options

    port = free_loopback_port()
    limits = ServeLimits(max_documents=MAX_DOCUMENTS, max_body_bytes=MAX_BODY_BYTES)
    serve.start(**serve_start_options("127.0.0.1", port, limits))
    app = build_app(ce_model_path, limits=limits, max_merged_pairs=512, num_cpus=1, precision="fp32")
    serve.run(app, route_prefix="/")
    yield f"http://127.0.0.1:{port}"
    serve.shutdown()


@pytest.fixture(scope="module")
def requests_50(scifact_first50, bm25_top30) -> list[tuple[str, list[str]]]:
    """50 real requests: each SciFact query with its first 10 BM25 candidates."""
    data = scifact_first50
    return [(data.queries[q], [data.doc_text(d) for d in docs[:10]]) for q, docs in bm25_top30.items()]


@pytest.fixture(scope="module")
def local_scores(requests_50, bm25_top30, fp32_logits) -> list[np.ndarray]:
    """The in-process fp32 scores of the same pairs (sigmoid of the logits, as the scorer reports them)."""
    return [1 / (1 + np.exp(-fp32_logits[q][:10].astype(np.float64))) for q in bm25_top30]


def assert_same_ranking(ranked, local: np.ndarray) -> None:
    """Same documents, scores within 1e-5 of the local ones, best first (near-ties may only swap within 2e-5)."""
    assert sorted(hit.index for hit in ranked) == list(range(len(local)))
    served = np.array([hit.score for hit in ranked])
    assert np.abs(served - local[[hit.index for hit in ranked]]).max() < 1e-5
    assert np.all(np.diff(served) <= 0)


def test_health_names_the_model_and_precision(url, ce_model_path):
    health = RemoteScorer(url).health()
    assert (health["status"], health["model"], health["precision"]) == ("ok", ce_model_path, "fp32")


async def test_50_concurrent_requests_equal_the_local_scorer_in_shared_batches(url, requests_50, local_scores):
    scorer = RemoteScorer(url, timeout=300)  # 500 pairs on one CPU: the last answer comes after about 40 s
    before = scorer.health()
    results = await asyncio.gather(*(scorer.arank(query, texts) for query, texts in requests_50))
    await scorer.aclose()
    after = scorer.health()
    for ranked, local in zip(results, local_scores):
        assert_same_ranking(ranked, local)
    assert after["requests_scored"] - before["requests_scored"] == 50
    assert after["batches_run"] - before["batches_run"] < 50  # concurrent requests were merged


def test_sync_calls_rank_and_score_like_the_local_scorer(url, requests_50, local_scores):
    scorer = RemoteScorer(url)
    (query, texts), local = requests_50[0], local_scores[0]
    np.testing.assert_allclose(scorer.score(query, texts), local, atol=1e-5)
    threshold = float(np.median(local))
    ranked = scorer.rank(query, texts, top_n=3, min_score=threshold, rank_window_size=8)
    expected = [i for i in np.argsort(-local[:8], kind="stable") if local[i] >= threshold][:3]
    assert [hit.index for hit in ranked] == expected
    assert scorer.rank(query, texts, top_n=0) == [] and scorer.rank(query, []) == []


BAD_BODIES = {
    "not JSON": b"{",
    "not an object": b"[]",
    "no texts": b'{"query": "q"}',
    "no query": b'{"texts": ["a"]}',
    "query not a string": b'{"query": 1, "texts": ["a"]}',
    "text not a string": b'{"query": "q", "texts": ["a", null]}',
    "texts not a list": b'{"query": "q", "texts": "a"}',
    "raw_scores null": b'{"query": "q", "texts": ["a"], "raw_scores": null}',
    "top_n a string": b'{"query": "q", "texts": ["a"], "top_n": "3"}',
    "negative top_n": b'{"query": "q", "texts": ["a"], "top_n": -1}',
    "NaN min_score": b'{"query": "q", "texts": ["a"], "min_score": NaN}',
    "zero window": b'{"query": "q", "texts": ["a"], "rank_window_size": 0}',
    "truncate false, too long a text": b'{"query": "q", "texts": ["a", "' + b"word " * 300 + b'"], "truncate": false}',
    "blank query": b'{"query": "  ", "texts": ["a"]}',
    "too many texts": json.dumps({"query": "q", "texts": ["a"] * (MAX_DOCUMENTS + 1)}).encode(),
    "too long a body": json.dumps({"query": "q", "texts": ["a" * MAX_BODY_BYTES]}).encode(),
}


def test_bad_requests_get_4xx_naming_the_problem_and_the_server_keeps_answering(url, requests_50, local_scores):
    for name, body in BAD_BODIES.items():
        response = httpx.post(f"{url}/rerank", content=body, headers={"content-type": "application/json"})
        assert response.status_code in (413, 422), (name, response.status_code, response.text)
        error = response.json()
        assert error["error"] and error["error_type"] == "Validation" and error["kind"], name
    assert httpx.get(f"{url}/rerank").status_code == 405
    assert RemoteScorer(url).health()["status"] == "ok"
    (query, texts), local = requests_50[1], local_scores[1]
    assert_same_ranking(RemoteScorer(url).rank(query, texts), local)


def test_the_client_raises_the_library_errors(url):
    with pytest.raises(InvalidQueryError):
        RemoteScorer("http://127.0.0.1:9").rank(" ", ["a"])  # checked before any connection
    with pytest.raises(InvalidArgumentError, match="limit of 40"):
        RemoteScorer(url).rank("q", ["a"] * (MAX_DOCUMENTS + 1))
    with pytest.raises(InvalidArgumentError, match="url"):
        RemoteScorer("127.0.0.1:8000")


def test_an_unreachable_server_is_retried_with_backoff_then_unavailable(loopback_port):
    port = loopback_port  # nothing listens there
    started = time.perf_counter()
    with pytest.raises(ServiceUnavailableError, match="after 2 retries"):
        RemoteScorer(f"http://127.0.0.1:{port}", retries=2).score("q", ["a"])
    assert time.perf_counter() - started >= 0.45  # backoff of 0 s then 0.5 s between the three attempts


async def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(RemoteTimeoutError):
            RemoteScorer(url, timeout=0.3).score("q", ["a"])
        with pytest.raises(RemoteTimeoutError):
            await RemoteScorer(url, timeout=0.3).ascore("q", ["a"])


@pytest.fixture(scope="module")
def local_scorer(ce_model_path) -> CrossEncoderScorer:
    return CrossEncoderScorer(ce_model_path, precision="fp32")


async def test_langchain_reranks_through_the_served_model(url, requests_50, local_scorer):
    query, texts = requests_50[2]
    documents = [Document(page_content=t, metadata={"n": i}, id=f"d{i}") for i, t in enumerate(texts)]
    remote = CrossEncoderReranker(model=RemoteScorer(url), top_n=4)
    local = CrossEncoderReranker(model=local_scorer, top_n=4)
    expected = local.compress_documents(documents, query)
    for got in (remote.compress_documents(documents, query), await remote.acompress_documents(documents, query)):
        assert [d.id for d in got] == [d.id for d in expected]
        assert [d.metadata["n"] for d in got] == [d.metadata["n"] for d in expected]
        scores = [d.metadata["relevance_score"] for d in got]
        assert scores == pytest.approx([d.metadata["relevance_score"] for d in expected], abs=1e-5)


async def test_llamaindex_reranks_through_the_served_model(url, requests_50, local_scorer):
    query, texts = requests_50[3]
    nodes = [NodeWithScore(node=TextNode(text=t, id_=f"n{i}"), score=0.5) for i, t in enumerate(texts)]
    remote = CrossEncoderRerank(model=RemoteScorer(url), top_n=4)
    assert remote.model == url
    expected = CrossEncoderRerank(model=local_scorer, top_n=4).postprocess_nodes(nodes, query_str=query)
    for got in (
        remote.postprocess_nodes(nodes, query_str=query),
        await remote.apostprocess_nodes(nodes, query_str=query),
    ):
        assert [n.node.node_id for n in got] == [n.node.node_id for n in expected]
        assert [n.score for n in got] == pytest.approx([n.score for n in expected], abs=1e-5)
