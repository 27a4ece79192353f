"""A served reranker under hostile clients: budgets, slow and streamed bodies, stalled headers, dead replicas.

One Ray Serve app for the module (the tiny random model; scores do not matter here), started as
``crossrank serve`` starts it: ``serve_start_options`` puts the proxy guard in Ray's HTTP proxy. Clients are
real: httpx, and raw sockets where a client must misbehave. Every bound on time is generous and one-sided
(the failure modes it guards against hang until a stall ends), never a tight wall-clock bound.

Scoring replicas wait ``merge_wait_ms`` (60 s here) for a batch to fill unless a request fills it alone
(``PAIRS`` pairs, the ``max_merged_pairs``): normal requests here send ``PAIRS`` documents and are scored at
once, and a one-document request stays in flight until the test ends it, which makes "a request in flight
when its replica dies" deterministic.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from crossrank_harness.ports import free_loopback_port
from rerank_core import InvalidArgumentError, RemoteScorer
from rerank_core.serving.wire import ServeLimits

PAIRS = 40
LIMITS = ServeLimits(
    max_documents=60,
    max_pairs=PAIRS,
    max_total_chars=1_000_000,
    max_body_bytes=2 * 1024 * 1024,
    body_timeout_s=20.0,
    header_timeout_s=3.0,
    max_header_bytes=16 * 1024,
    max_inflight_bytes=8 * 1024 * 1024,
)
JSON = {"content-type": "application/json"}
DOCUMENTS = [f"Document {i} is about cells dividing by mitosis." for i in range(PAIRS)]


@dataclass(frozen=True)
class Server:
    url: str
    port: int


@pytest.fixture(scope="module")
def server(ray_local, tiny_model_dir):
    """The guarded app on a loopback port; stopped after the module."""
    from ray import serve

    from rerank_core.serving.app import build_app, serve_start_options

    port = free_loopback_port()
    serve.start(**serve_start_options("127.0.0.1", port, LIMITS))
    app = build_app(
        tiny_model_dir, limits=LIMITS, max_merged_pairs=PAIRS, merge_wait_ms=60_000, num_cpus=1, precision="fp32"
    )
    serve.run(app, route_prefix="/")
    yield Server(f"http://127.0.0.1:{port}", port)
    serve.shutdown()


def stats(server: Server) -> dict:
    response = httpx.get(f"{server.url}/health", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, error: str | None = None) -> dict:
    """The answer is ``status`` with TEI's ``{"error", "error_type"}`` JSON body and crossrank's ``kind``."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json", response.headers
    body = response.json()
    assert set(body) == {"error", "error_type", "kind"} and body["error"], body
    if error is not None:
        assert body["kind"] == error, body
    return body


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def read_response(sock: socket.socket, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One HTTP answer from a raw socket: status, headers (lower-case names) and body."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection without an answer ({data!r})"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def closed_by_server(sock: socket.socket, timeout: float = 30) -> bool:
    """Whether the server closes the connection (end of stream or reset) within ``timeout``."""
    sock.settimeout(timeout)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def assert_raw_error(answer: tuple[int, dict[str, str], bytes], status: int) -> dict:
    code, headers, body = answer
    assert code == status, answer
    assert headers["content-type"] == "application/json" and headers.get("connection") == "close", headers
    error = json.loads(body)
    assert set(error) == {"error", "error_type", "kind"}, error
    return error


def test_every_error_is_json_in_one_shape(server):
    url = server.url
    assert_error(httpx.get(f"{url}/no-such-page"), 404, "NotFound")
    for method in ("GET", "PUT", "DELETE", "OPTIONS"):
        response = httpx.request(method, f"{url}/rerank")
        assert_error(response, 405, "MethodNotAllowed")
        assert response.headers["allow"] == "POST"
    body = json.dumps({"query": "q", "texts": ["a"]}).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = httpx.post(f"{url}/rerank", content=body, headers={"content-type": content_type})
        assert "application/json" in assert_error(response, 415, "UnsupportedMediaType")["error"]
        assert response.headers["connection"] == "close"
    assert_error(httpx.post(f"{url}/rerank", content=body), 415)  # no content-type at all
    assert_error(httpx.post(f"{url}/rerank", content=b"{", headers=JSON), 422, "InvalidRequest")
    assert_error(httpx.post(f"{url}/rerank", content=b"\xff{}", headers=JSON), 422, "InvalidRequest")
    nested = b"[" * 100_000 + b"]" * 100_000
    assert_error(httpx.post(f"{url}/rerank", content=nested, headers=JSON), 422, "InvalidRequest")
    assert_error(httpx.post(f"{url}/rerank", json={"query": " ", "texts": ["a"]}), 422, "InvalidQueryError")
    assert stats(server)["status"] == "ok"


def test_duplicate_keys_are_refused(server):
    for body in (
        b'{"query": "q", "query": "other", "texts": ["a"]}',
        b'{"query": "q", "texts": ["a"], "texts": ["b"]}',
        b'{"query": "q", "texts": ["a"], "top_n": 1, "top_n": 2}',
    ):
        response = httpx.post(f"{server.url}/rerank", content=body, headers=JSON)
        assert "more than once" in assert_error(response, 422, "InvalidRequest")["error"]


def test_lone_surrogate_escapes_are_scored_as_the_local_scorer_reads_them(server, tiny_model_dir):
    from rerank_core import CrossEncoderScorer

    documents = ["moon \udfff sea", *DOCUMENTS[1:]]
    body = json.dumps({"query": "tides \ud800", "texts": documents})  # json.dumps writes \\ud800 escapes
    assert "\\ud800" in body
    response = httpx.post(f"{server.url}/rerank", content=body, headers=JSON, timeout=60)
    assert response.status_code == 200, response.text
    served = {hit["index"]: hit["score"] for hit in response.json()}
    read = ["moon \ufffd sea", *DOCUMENTS[1:]]
    local = CrossEncoderScorer(tiny_model_dir, precision="fp32").score("tides \ufffd", read)
    assert served == pytest.approx(dict(enumerate(map(float, local))), abs=1e-5)


def test_openapi_shows_the_request_body_and_the_error_shape(server):
    document = httpx.get(f"{server.url}/openapi.json").json()
    post = document["paths"]["/rerank"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert post["requestBody"]["required"] is True
    assert {"query", "texts", "raw_scores", "return_text", "truncate"} <= set(schema["properties"])
    assert {"top_n", "min_score", "rank_window_size", "instruction"} <= set(schema["properties"])
    assert set(schema["required"]) == {"query", "texts"}
    for status in ("408", "413", "415", "422", "503"):
        assert post["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/TeiError"
        }
    assert set(document["components"]["schemas"]["TeiError"]["properties"]) == {"error", "error_type", "kind"}


def test_the_request_budget_refuses_a_1mb_query_before_scoring(server):
    before = stats(server)["requests_scored"]
    body = {"query": "x" * 1_000_000, "texts": [f"short document {i}" for i in range(20)]}
    response = httpx.post(f"{server.url}/rerank", json=body, timeout=60)
    detail = assert_error(response, 413, "InvalidArgumentError")["error"]
    assert "max_total_chars" in detail and "limit of 1000000" in detail
    too_many_pairs = httpx.post(f"{server.url}/rerank", json={"query": "q", "texts": ["d"] * (PAIRS + 1)})
    assert "max_pairs" in assert_error(too_many_pairs, 413, "InvalidArgumentError")["error"]
    with pytest.raises(InvalidArgumentError, match="max_total_chars"):
        RemoteScorer(server.url).rank("y" * 1_000_000, ["a", "b"])
    assert stats(server)["requests_scored"] == before  # nothing reached the model
    # The pairs are the documents inside the rank window: 41 documents with a window of 40 are scored.
    windowed = {"query": "q", "texts": [*DOCUMENTS, "one more"], "rank_window_size": PAIRS}
    answer = httpx.post(f"{server.url}/rerank", json=windowed, timeout=60)
    assert answer.status_code == 200 and len(answer.json()) == PAIRS
    assert stats(server)["requests_scored"] == before + 1


def test_70_stalled_bodies_do_not_block_a_request_and_each_gets_408_after_the_deadline(server):
    stalled, sent_at = [], {}
    head = b"POST /rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
    for _ in range(70):
        sock = connect(server)
        sock.sendall(head)
        sent_at[sock] = time.monotonic()
        stalled.append(sock)
    stop = threading.Event()

    def trickle() -> None:  # one byte a second on each: alive, never done
        while not stop.wait(1.0):
            for sock in stalled:
                try:
                    sock.send(b" ")
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        answer = httpx.post(f"{server.url}/rerank", json={"query": "cell division", "texts": DOCUMENTS}, timeout=30)
        assert answer.status_code == 200 and len(answer.json()) == PAIRS, answer.text
        readable, _, _ = select.select(stalled, [], [], 0)
        assert not readable, "the request was answered only after stalled clients were dropped"
        answered_at = {}
        pending = set(stalled)
        deadline = time.monotonic() + LIMITS.body_timeout_s + 60
        while pending and time.monotonic() < deadline:
            readable, _, _ = select.select(list(pending), [], [], 1.0)
            for sock in readable:
                answered_at[sock] = time.monotonic()
                pending.discard(sock)
        assert not pending, f"{len(pending)} stalled clients were never dropped"
        for sock in stalled:
            assert answered_at[sock] - sent_at[sock] >= LIMITS.body_timeout_s - 0.5
            error = assert_raw_error(read_response(sock), 408)
            assert error["kind"] == "RequestTimeout" and "body_timeout_s" in error["error"]
            assert closed_by_server(sock)
    finally:
        stop.set()
        trickler.join()
        for sock in stalled:
            sock.close()
    assert stats(server)["status"] == "ok"


def test_stalled_or_oversized_headers_are_refused(server):
    partial = connect(server)
    partial.sendall(b"POST /rerank HTTP/1.1\r\nHost: x\r\nContent-Type: appl")  # and nothing more
    silent = connect(server)  # sends nothing at all
    started = time.monotonic()
    error = assert_raw_error(read_response(partial, timeout=LIMITS.header_timeout_s + 30), 408)
    assert time.monotonic() - started >= LIMITS.header_timeout_s - 0.5
    assert "header_timeout_s" in error["error"] and closed_by_server(partial)
    assert_raw_error(read_response(silent, timeout=30), 408)
    assert closed_by_server(silent)
    with connect(server) as large:
        large.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (LIMITS.max_header_bytes + 1))
        error = assert_raw_error(read_response(large), 431)
        assert "max_header_bytes" in error["error"] and closed_by_server(large)
    for sock in (partial, silent):
        sock.close()
    assert stats(server)["status"] == "ok"  # and well-behaved clients are served


def test_a_streamed_body_past_the_limit_gets_413_before_it_is_all_sent(server):
    chunk = b"a" * 65536
    with connect(server) as sock:
        sock.sendall(
            b"POST /rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        while sent <= LIMITS.max_body_bytes:  # one chunk past the limit, of the 4x the limit this client has
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        error = assert_raw_error(read_response(sock), 413)
        assert "max_body_bytes" in error["error"]
        assert closed_by_server(sock)  # it reads nothing more of that request
    with connect(server) as sock:  # a declared length past the limit: refused before any of the body is sent
        sock.sendall(
            b"POST /rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n"
        )
        assert "max_body_bytes" in assert_raw_error(read_response(sock), 413)["error"]
        assert closed_by_server(sock)


def _send_body(server: Server, declared: int, size: int) -> socket.socket:
    """A POST declaring ``declared`` bytes, of which ``size`` are sent in 64 KiB pieces (fewer if answered)."""
    sock = connect(server)
    sock.sendall(b"POST /rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
    sock.sendall(b"Content-Length: %d\r\n\r\n" % declared)
    for start in range(0, size, 65536):
        if select.select([sock], [], [], 0)[0]:
            break  # answered (refused): stop sending
        sock.sendall(b" " * min(65536, size - start))
    return sock


def test_the_bodies_held_at_once_are_bounded(server):
    part = LIMITS.max_body_bytes - 65536
    fit = LIMITS.max_inflight_bytes // part
    held = [_send_body(server, LIMITS.max_body_bytes, part) for _ in range(fit + 1)]  # each stalls near its end
    try:
        deadline = time.monotonic() + 30
        while not (refused := select.select(held, [], [], 0.5)[0]):
            assert time.monotonic() < deadline, "bodies past max_inflight_bytes, all together, were not refused"
        assert len(held) - len(refused) <= fit
        for sock in refused:
            answer = read_response(sock)
            assert "max_inflight_bytes" in assert_raw_error(answer, 503)["error"]
            assert answer[1]["retry-after"] == "1"
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 30
    while True:  # what they held is released with their connections
        with _send_body(server, 1024 * 1024, 1024 * 1024) as sock:
            if (answer := read_response(sock))[0] != 503:
                break
        assert time.monotonic() < deadline, "the bodies of closed connections are still counted"
        time.sleep(0.2)
    assert answer[0] == 422  # a body of spaces is not JSON


def _replica(deployment: str):
    import ray

    names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if f"#{deployment}#" in a["name"]]
    assert len(names) == 1, names
    return ray.get_actor(names[0], namespace="serve")


def _in_flight(server: Server, count: int, pool: ThreadPoolExecutor) -> list:
    """``count`` one-document requests, each waiting in the scoring replica's batch."""
    body = {"query": "q", "texts": ["one document"]}
    calls = [pool.submit(httpx.post, f"{server.url}/rerank", json=body, timeout=120) for _ in range(count)]
    deadline = time.monotonic() + 60
    while stats(server)["requests_in_flight"] < count:
        assert time.monotonic() < deadline, "the requests never reached the scoring replica"
        time.sleep(0.2)
    return calls


def test_requests_lost_to_a_dead_replica_get_a_json_503(server, ray_local):
    with ThreadPoolExecutor(8) as pool:
        calls = _in_flight(server, 3, pool)
        ray_local.kill(_replica("RerankScorer"))
        for call in calls:  # answered by the ingress
            response = call.result()
            assert "safe to send it again" in assert_error(response, 503, "ServiceUnavailable")["error"]
            assert response.headers["retry-after"] == "1"
        deadline = time.monotonic() + 180
        while True:  # a new scoring replica
            try:
                if httpx.get(f"{server.url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TimeoutException:
                pass
            assert time.monotonic() < deadline, "no new scoring replica after 180 s"
            time.sleep(1)
        calls = _in_flight(server, 2, pool)
        ray_local.kill(_replica("RerankIngress"))
        for call in calls:  # answered by the proxy guard, where uvicorn would send a plain-text 500
            assert "safe to send it again" in assert_error(call.result(), 503, "ServiceUnavailable")["error"]
        ray_local.kill(_replica("RerankScorer"))  # its batch still waits: stopping it gracefully would take 20 s
