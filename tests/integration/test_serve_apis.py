"""``crossrank serve`` in the APIs existing clients call (Cohere v2 and v1, Hugging Face TEI), behind API keys.

One app for the module (the real cross-encoder in fp32, two API keys), started as ``crossrank serve`` starts it.
The clients are the real packages from PyPI, unchanged: the ``cohere`` SDK, langchain-cohere's ``CohereRerank``
in a ``ContextualCompressionRetriever``, llama-index's ``CohereRerank`` in a query engine and its TEI rerank
postprocessor, each against the in-process scorer's ranking (scores within 1e-5).
"""

from __future__ import annotations

import json

import cohere
import httpx
import numpy as np
import pytest
from langchain_core.documents import Document
from llama_index.core.schema import NodeWithScore, TextNode
from prometheus_client.parser import text_string_to_metric_families

from crossrank_harness.ports import free_loopback_port
from langchain_rerank import CrossEncoderReranker
from llamaindex_rerank import CrossEncoderRerank
from rerank_core import CrossEncoderScorer
from rerank_core.serving.wire import ServeLimits

KEYS = ["first-key-1234", "second-key-5678"]
AUTH = {"authorization": f"Bearer {KEYS[0]}"}
MAX_DOCUMENTS = 40
MAX_BODY_BYTES = 200_000
PROTECTED = [("POST", "/rerank"), ("POST", "/v2/rerank"), ("POST", "/v1/rerank")]
PROTECTED += [("GET", "/metrics"), ("GET", "/openapi.json"), ("GET", "/docs")]


@pytest.fixture(scope="module")
def url(ray_local, ce_model_path):
    """The app with two API keys on a loopback port, behind the proxy guard; stopped after the module."""
    from ray import serve

    from rerank_core.serving.app import build_app, serve_start_options

    port = free_loopback_port()
    limits = ServeLimits(max_documents=MAX_DOCUMENTS, max_body_bytes=MAX_BODY_BYTES)
    serve.start(**serve_start_options("127.0.0.1", port, limits))
    app = build_app(ce_model_path, limits=limits, max_merged_pairs=512, num_cpus=1, precision="fp32", api_keys=KEYS)
    serve.run(app, route_prefix="/")
    yield f"http://127.0.0.1:{port}"
    serve.shutdown()


@pytest.fixture(scope="module")
def local(ce_model_path) -> CrossEncoderScorer:
    return CrossEncoderScorer(ce_model_path, precision="fp32")


@pytest.fixture(scope="module")
def request_texts(scifact_first50, bm25_top30) -> tuple[str, list[str]]:
    """A real SciFact query and its first 10 BM25 candidates."""
    qid, docs = next(iter(bm25_top30.items()))
    return scifact_first50.queries[qid], [scifact_first50.doc_text(d) for d in docs[:10]]


def post(url: str, path: str, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json", **AUTH, **(headers or {})}
    return httpx.post(url + path, content=content, headers=headers, timeout=120)


def assert_ranking(indices: list[int], scores: list[float], expected) -> None:
    """The same documents in the same order as the local ranking, scores within 1e-5."""
    assert indices == [hit.index for hit in expected]
    assert scores == pytest.approx([hit.score for hit in expected], abs=1e-5)


def test_the_cohere_sdk_v2_ranks_as_the_local_scorer(url, local, request_texts):
    query, texts = request_texts
    client = cohere.ClientV2(base_url=url, api_key=KEYS[0])
    answer = client.rerank(model="rerank-v3.5", query=query, documents=texts, top_n=5)
    results = answer.results
    assert_ranking([r.index for r in results], [r.relevance_score for r in results], local.rank(query, texts, top_n=5))
    assert answer.meta.api_version.version == "2" and answer.id
    everything = client.rerank(model="any-name", query=query, documents=texts).results
    assert len(everything) == len(texts)
    cut = client.rerank(model="rerank-v3.5", query=query, documents=texts, max_tokens_per_doc=16).results
    expected = local.rank(query, local.first_tokens(texts, 16))
    assert_ranking([r.index for r in cut], [r.relevance_score for r in cut], expected)
    assert [r.index for r in cut] != [r.index for r in everything]  # 16 tokens is not the whole abstract


def test_the_cohere_sdk_v1_takes_objects_and_returns_them(url, local, request_texts):
    query, texts = request_texts
    client = cohere.Client(base_url=url, api_key=KEYS[1])
    documents = [{"text": text, "id": f"doc-{i}"} for i, text in enumerate(texts)]
    answer = client.rerank(query=query, documents=documents, top_n=3, return_documents=True)
    results = answer.results
    assert_ranking([r.index for r in results], [r.relevance_score for r in results], local.rank(query, texts, top_n=3))
    assert [r.document.id for r in results] == [f"doc-{r.index}" for r in results]
    assert [r.document.text for r in results] == [texts[r.index] for r in results]
    titled = [{"title": f"Abstract {i}", "body": text} for i, text in enumerate(texts)]
    by_fields = client.rerank(query=query, documents=titled, rank_fields=["title", "body"]).results
    lines = [f"title: Abstract {i}\nbody: {text}" for i, text in enumerate(texts)]
    assert_ranking([r.index for r in by_fields], [r.relevance_score for r in by_fields], local.rank(query, lines))


def test_langchain_cohere_rerank_in_a_compression_retriever(url, local, request_texts, embed_model_path):
    from langchain_classic.retrievers import ContextualCompressionRetriever
    from langchain_cohere import CohereRerank
    from langchain_core.vectorstores import InMemoryVectorStore
    from langchain_huggingface import HuggingFaceEmbeddings

    query, texts = request_texts
    embeddings = HuggingFaceEmbeddings(model_name=embed_model_path, model_kwargs={"device": "cpu"})
    store = InMemoryVectorStore(embeddings)
    store.add_documents([Document(page_content=text, id=f"d{i}") for i, text in enumerate(texts)])
    base = store.as_retriever(search_kwargs={"k": len(texts)})
    compressor = CohereRerank(base_url=url, model="rerank-v3.5", cohere_api_key=KEYS[0], top_n=4)
    retriever = ContextualCompressionRetriever(base_compressor=compressor, base_retriever=base)
    got = retriever.invoke(query)
    expected = CrossEncoderReranker(model=local, top_n=4).compress_documents(base.invoke(query), query)
    assert [d.page_content for d in got] == [d.page_content for d in expected]  # CohereRerank drops ids
    scores = [d.metadata["relevance_score"] for d in got]
    assert scores == pytest.approx([d.metadata["relevance_score"] for d in expected], abs=1e-5)


def test_llamaindex_cohere_rerank_in_a_query_engine(url, local, request_texts, embed_model_path):
    from llama_index.core import VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.core.query_engine import RetrieverQueryEngine
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.postprocessor.cohere_rerank import CohereRerank

    query, texts = request_texts
    nodes = [TextNode(text=text, id_=f"n{i}") for i, text in enumerate(texts)]
    index = VectorStoreIndex(nodes, embed_model=HuggingFaceEmbedding(model_name=embed_model_path, device="cpu"))
    rerank = CohereRerank(top_n=4, model="rerank-v3.5", api_key=KEYS[1], base_url=url)
    retriever = index.as_retriever(similarity_top_k=len(texts))
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(), node_postprocessors=[rerank])
    got = engine.query(query).source_nodes
    retrieved = retriever.retrieve(query)
    expected = CrossEncoderRerank(model=local, top_n=4).postprocess_nodes(retrieved, query_str=query)
    assert [n.node.node_id for n in got] == [n.node.node_id for n in expected]
    assert [n.score for n in got] == pytest.approx([n.score for n in expected], abs=1e-5)


def test_llamaindex_tei_rerank_postprocessor(url, local, request_texts):
    from llama_index.postprocessor.tei_rerank import TextEmbeddingInference

    query, texts = request_texts
    nodes = [NodeWithScore(node=TextNode(text=text, id_=f"n{i}"), score=0.5) for i, text in enumerate(texts)]
    tei = TextEmbeddingInference(base_url=url, top_n=4, auth_token=f"Bearer {KEYS[0]}")
    got = tei.postprocess_nodes([NodeWithScore(node=n.node, score=n.score) for n in nodes], query_str=query)
    expected = CrossEncoderRerank(model=local, top_n=4).postprocess_nodes(nodes, query_str=query)
    assert [n.node.node_id for n in got] == [n.node.node_id for n in expected]
    assert [n.score for n in got] == pytest.approx([n.score for n in expected], abs=1e-5)


def test_tei_raw_scores_and_return_text(url, ce_model_path, request_texts):
    query, texts = request_texts
    raw = CrossEncoderScorer(ce_model_path, precision="fp32", activation="none").rank(query, texts)
    answer = post(url, "/rerank", {"query": query, "texts": texts, "raw_scores": True, "return_text": True})
    assert answer.status_code == 200, answer.text
    results = answer.json()
    assert_ranking([r["index"] for r in results], [r["score"] for r in results], raw)
    assert [r["text"] for r in results] == [texts[r["index"]] for r in results]
    assert all(set(r) == {"index", "score"} for r in post(url, "/rerank", {"query": query, "texts": texts}).json())


def test_tei_truncate_false_scores_texts_that_fit_and_refuses_one_that_does_not_with_413(url, local, request_texts):
    query, texts = request_texts
    short = [text[:200] for text in texts]  # a SciFact abstract is longer than the model's 256-token window
    answer = post(url, "/rerank", {"query": query, "texts": short, "truncate": False})
    assert answer.status_code == 200, answer.text
    assert_ranking([r["index"] for r in answer.json()], [r["score"] for r in answer.json()], local.rank(query, short))
    too_long = local.overflowing(query, texts)
    assert too_long > 0
    refused = post(url, "/rerank", {"query": query, "texts": texts, "truncate": False})
    assert refused.status_code == 413, refused.text
    error = refused.json()
    assert (error["error_type"], error["kind"]) == ("Validation", "InvalidTextError")
    assert f"{too_long} of {len(texts)} texts" in error["error"] and "256-token window" in error["error"]
    assert post(url, "/rerank", {"query": query, "texts": texts, "truncate": True}).status_code == 200


BAD_REQUESTS = {
    "/rerank": {
        "not JSON": b"{",
        "no texts": {"query": "q"},
        "a text not a string": {"query": "q", "texts": ["a", 3]},
        "raw_scores a string": {"query": "q", "texts": ["a"], "raw_scores": "yes"},
        "left truncation": {"query": "q", "texts": ["a"], "truncation_direction": "Left"},
        "truncate a string": {"query": "q", "texts": ["a"], "truncate": "no"},
        "truncate false, a text too long": {"query": "q", "texts": ["a", "word " * 300], "truncate": False},
        "blank query": {"query": " ", "texts": ["a"]},
        "too many texts": {"query": "q", "texts": ["a"] * (MAX_DOCUMENTS + 1)},
        "too long a body": {"query": "q", "texts": ["a" * MAX_BODY_BYTES]},
    },
    "/v2/rerank": {
        "not JSON": b"[",
        "no documents": {"model": "m", "query": "q"},
        "a document object": {"model": "m", "query": "q", "documents": [{"text": "a"}]},
        "negative top_n": {"model": "m", "query": "q", "documents": ["a"], "top_n": -1},
        "zero max_tokens_per_doc": {"model": "m", "query": "q", "documents": ["a"], "max_tokens_per_doc": 0},
        "top_n a string": {"model": "m", "query": "q", "documents": ["a"], "top_n": "3"},
        "blank query": {"model": "m", "query": "", "documents": ["a"]},
        "too many documents": {"model": "m", "query": "q", "documents": ["a"] * (MAX_DOCUMENTS + 1)},
        "too long a body": {"model": "m", "query": "q", "documents": ["a" * MAX_BODY_BYTES]},
    },
    "/v1/rerank": {
        "an object without text": {"query": "q", "documents": [{"title": "a"}]},
        "a rank field missing": {"query": "q", "documents": [{"text": "a"}], "rank_fields": ["title"]},
        "a rank field not a string": {"query": "q", "documents": [{"text": 1}]},
        "max_chunks_per_doc": {"query": "q", "documents": ["a"], "max_chunks_per_doc": 3},
        "a duplicate key": b'{"query": "q", "query": "r", "documents": ["a"]}',
    },
}


@pytest.mark.parametrize("path", list(BAD_REQUESTS))
def test_bad_requests_get_4xx_in_the_route_s_shape_and_the_server_keeps_answering(url, path, request_texts):
    for name, body in BAD_REQUESTS[path].items():
        response = post(url, path, body)
        assert response.status_code in (413, 422), (name, response.status_code, response.text)
        assert response.headers["content-type"] == "application/json", name
        error = response.json()
        if path == "/rerank":
            assert set(error) == {"error", "error_type", "kind"} and error["error_type"] == "Validation", (name, error)
        else:
            assert set(error) == {"id", "message"} and error["message"], (name, error)
    query, texts = request_texts
    documents = {"/rerank": {"texts": texts}}.get(path, {"documents": texts})
    assert post(url, path, {"query": query, "model": "m", **documents}).status_code == 200


def test_every_protected_route_needs_a_key_and_health_does_not(url):
    wrong = {"authorization": "Bearer not-a-key"}
    for method, path in PROTECTED:
        body = b"{}" if method == "POST" else None
        for headers in ({}, wrong, {"authorization": KEYS[0]}, {"authorization": f"Basic {KEYS[0]}"}):
            plain = {"content-type": "application/json", **headers} if body else headers
            response = httpx.request(method, url + path, content=body, headers=plain, timeout=60)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            error = response.json()
            expected = {"id", "message"} if path.startswith("/v") else {"error", "error_type", "kind"}
            assert set(error) == expected, (path, error)
        for key in KEYS:
            response = httpx.request(method, url + path, content=body, headers={"authorization": f"Bearer {key}"})
            assert response.status_code != 401, (method, path)
    assert httpx.get(f"{url}/health").status_code == 200
    with pytest.raises(cohere.errors.UnauthorizedError):
        cohere.ClientV2(base_url=url, api_key="not-a-key").rerank(model="m", query="q", documents=["a"])


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{url}/metrics", headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_a_metrics_scrape_counts_the_requests_pairs_and_batches(url, request_texts):
    query, texts = request_texts
    before = _samples(url)
    for _ in range(3):
        assert post(url, "/v2/rerank", {"model": "m", "query": query, "documents": texts}).status_code == 200
    for _ in range(2):
        assert post(url, "/rerank", {"query": query, "texts": texts[:4]}).status_code == 200
    assert post(url, "/rerank", {"query": " ", "texts": texts}).status_code == 422
    after = _samples(url)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("crossrank_requests_total", route="/v2/rerank", status="200") == 3
    assert grew("crossrank_requests_total", route="/rerank", status="200") == 2
    assert grew("crossrank_requests_total", route="/rerank", status="422") == 1
    assert grew("crossrank_request_duration_seconds_count", route="/v2/rerank") == 3
    assert grew("crossrank_pairs_scored_total") == 3 * len(texts) + 2 * 4
    assert grew("crossrank_batch_pairs_sum") == 3 * len(texts) + 2 * 4  # each pair in exactly one shared batch
    assert 1 <= grew("crossrank_batch_pairs_count") <= 5


def test_openapi_describes_every_route_with_its_models(url):
    document = httpx.get(f"{url}/openapi.json", headers=AUTH).json()
    schemas = document["components"]["schemas"]
    for path, request_fields, answer, error in (
        ("/rerank", {"query", "texts", "raw_scores", "return_text", "top_n"}, "TeiRerankResponse", "TeiError"),
        ("/v2/rerank", {"model", "query", "documents", "top_n", "max_tokens_per_doc"}, "CohereRerankResponse", None),
        ("/v1/rerank", {"documents", "rank_fields", "return_documents"}, "CohereRerankResponse", "CohereError"),
    ):
        post_ = document["paths"][path]["post"]
        body = post_["requestBody"]["content"]["application/json"]["schema"]
        assert request_fields <= set(body["properties"]), path
        assert post_["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{answer}"
        }
        shape = error or "CohereError"
        for status in ("401", "413", "422", "503"):
            assert post_["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith(shape)
    assert set(schemas["TeiError"]["properties"]) == {"error", "error_type", "kind"}
    assert set(schemas["CohereError"]["properties"]) == {"id", "message"}
    assert {"/health", "/metrics"} <= set(document["paths"])
    page = httpx.get(f"{url}/docs", headers=AUTH)
    assert page.status_code == 200 and "swagger" in page.text.lower()


def test_an_instruction_for_a_model_without_one_is_a_422(url, request_texts):
    query, texts = request_texts
    response = post(url, "/rerank", {"query": query, "texts": texts[:2], "instruction": "Find the evidence."})
    assert response.status_code == 422 and response.json()["kind"] == "InvalidArgumentError", response.text
    assert post(url, "/rerank", {"query": query, "texts": texts[:2]}).status_code == 200
    from rerank_core import InvalidArgumentError, RemoteScorer

    remote = RemoteScorer(url, api_key=KEYS[0], instruction="Find the evidence.", timeout=120)
    with pytest.raises(InvalidArgumentError, match="instruction"):
        remote.rank(query, texts[:2])


def test_no_documents_is_an_empty_ranking_in_every_api(url):
    assert post(url, "/rerank", {"query": "q", "texts": []}).json() == []
    assert post(url, "/v2/rerank", {"model": "m", "query": "q", "documents": []}).json()["results"] == []
    assert post(url, "/v1/rerank", {"query": "q", "documents": []}).json()["results"] == []


@pytest.mark.parametrize("api", ["crossrank", "tei", "cohere"])
def test_remote_scorer_ranks_through_each_schema_as_the_local_scorer(url, local, request_texts, api):
    from rerank_core import RemoteScorer

    query, texts = request_texts
    model = "rerank-v3.5" if api == "cohere" else None
    remote = RemoteScorer(url, api=api, api_key=KEYS[1], model=model, timeout=120)
    threshold = float(np.median(local.score(query, texts)))
    for rules in ({}, {"top_n": 3}, {"min_score": threshold, "rank_window_size": 8}):
        ranked = remote.rank(query, texts, **rules)
        expected = local.rank(query, texts, **rules)
        assert_ranking([hit.index for hit in ranked], [hit.score for hit in ranked], expected)
