"""``RemoteScorer`` against real loopback servers (no Ray): deadlines, malformed answers, error statuses, options.

These speak crossrank's API (``api="crossrank"``, the default); ``test_remote_apis.py`` calls TEI's and Cohere's.

The servers (:mod:`http_stub`) are raw asyncio servers in a thread, so they can answer slowly, wrongly or never.
Time bounds are generous: a deadline of 1 s must fire well before a drip of a minute ends, on a loaded machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time

import numpy as np
import pytest
from http_stub import StubServer, answer, drip, http_answer, ranked_pairs, raw, silent

from crossrank_harness.ports import free_loopback_port
from rerank_core import (
    InvalidArgumentError,
    InvalidQueryError,
    InvalidTextError,
    RemoteScorer,
    RemoteScorerError,
    RemoteTimeoutError,
    ServiceUnavailableError,
)
from rerank_core.serving import client as remote_module

TEXTS = ["a", "bb", "ccc"]  # the stub scores a text by its length: ranked 2, 1, 0
GOOD = [{"index": 2, "score": 3.0}, {"index": 1, "score": 2.0}, {"index": 0, "score": 1.0}]
SLOW = 120  # seconds a drip would last
MARGIN = 10  # seconds past a 1 s timeout that still pass: a loaded machine, never a drip's end


# --- a well-behaved server -----------------------------------------------------------------------------------------


async def test_rank_score_and_health_sync_and_async(stub):
    scorer = RemoteScorer(stub.url, timeout=30)
    expected = [(2, 3.0), (1, 2.0), (0, 1.0)]
    assert ranked_pairs(scorer.rank("q", TEXTS)) == expected
    assert ranked_pairs(await scorer.arank("q", TEXTS)) == expected
    np.testing.assert_array_equal(scorer.score("q", TEXTS), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(await scorer.ascore("q", TEXTS), [1.0, 2.0, 3.0])
    assert ranked_pairs(scorer.rank("q", TEXTS, top_n=np.int64(1))) == [(2, 3.0)]  # numpy ints and floats are sent
    assert ranked_pairs(scorer.rank("q", TEXTS, min_score=np.float32(1.5))) == [(2, 3.0), (1, 2.0)]
    assert ranked_pairs(scorer.rank("q", TEXTS, rank_window_size=2)) == [(1, 2.0), (0, 1.0)]
    assert json.loads(stub.received[-1].body)["texts"] == ["a", "bb"]  # the window is cut before sending
    health = scorer.health()
    assert (health["status"], health["model"], health["precision"]) == ("ok", "stub-model", "fp32")
    scorer.close()
    await scorer.aclose()
    assert ranked_pairs(scorer.rank("q", TEXTS)) == expected  # closing only drops the connections
    assert ranked_pairs(await scorer.arank("q", TEXTS)) == expected


async def test_nothing_to_score_and_bad_input_never_reach_the_server(stub):
    scorer = RemoteScorer(stub.url)
    assert scorer.rank("q", []) == [] and scorer.rank("q", TEXTS, top_n=0) == [] and await scorer.arank("q", []) == []
    with pytest.raises(InvalidQueryError):
        scorer.rank(" ", TEXTS)
    with pytest.raises(InvalidTextError):
        await scorer.arank("q", ["a", None])
    with pytest.raises(InvalidArgumentError, match="top_n"):
        scorer.rank("q", TEXTS, top_n=-1)
    assert stub.received == []


async def test_lone_surrogates_are_sent_as_the_local_scorer_reads_them(stub):
    scorer = RemoteScorer(stub.url)
    query, texts = "que\udcffry", ["a\ud800b", "fine", "\udfff", "caf\u00e9 \U0001f600"]
    ranked = scorer.rank(query, texts)
    await scorer.arank(query, texts)
    assert len(stub.received) == 2
    for received in stub.received:
        sent = json.loads(received.body.decode("utf-8"))  # valid UTF-8 on the wire
        assert [sent["query"], *sent["texts"]] == [remote_module.valid_unicode(t) for t in [query, *texts]]
        assert sent["texts"][1::2] == ["fine", "caf\u00e9 \U0001f600"]  # valid text is sent as it is
        for sent_text, before, after in ((sent["query"], "que", "ry"), (sent["texts"][0], "a", "b")):
            assert sent_text.startswith(before) and sent_text.endswith(after)
            assert set(sent_text[len(before) : -len(after)]) == {"\ufffd"}  # each surrogate read as U+FFFD
        assert set(sent["texts"][2]) == {"\ufffd"}
    assert sorted(hit.index for hit in ranked) == [0, 1, 2, 3]


async def test_headers_are_sent_and_extra_answer_fields_are_accepted(stub):
    scorer = RemoteScorer(stub.url, headers={"Authorization": "Bearer t0ken", "X-Tenant": "a b"})
    stub.reply = answer(200, [{**hit, "text": "...", "usage": {"n": 3}} for hit in GOOD])
    assert [hit.index for hit in scorer.rank("q", TEXTS)] == [2, 1, 0]
    headers = stub.received[-1].headers
    assert (headers["authorization"], headers["x-tenant"], headers["content-type"]) == (
        "Bearer t0ken",
        "a b",
        "application/json",
    )


async def test_sync_calls_from_threads_and_event_loops_at_once(stub):
    scorer = RemoteScorer(stub.url, timeout=60)
    failures: list[BaseException] = []

    def calls() -> None:
        try:
            for _ in range(5):
                assert [hit.index for hit in scorer.rank("q", TEXTS)] == [2, 1, 0]
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=calls) for _ in range(6)]
    for thread in threads:
        thread.start()
    results = await asyncio.gather(*(scorer.arank("q", TEXTS) for _ in range(10)))
    np.testing.assert_array_equal(scorer.score("q", TEXTS), [1.0, 2.0, 3.0])  # a sync call inside a running loop
    for thread in threads:
        thread.join(timeout=120)
    assert not failures and all([hit.index for hit in ranked] == [2, 1, 0] for ranked in results)
    assert len(stub.received) == 6 * 5 + 10 + 1


def test_sync_calls_work_in_a_forked_child(stub):
    scorer = RemoteScorer(stub.url, timeout=20)
    scorer.score("q", TEXTS)  # the parent's loop of sync calls runs
    pid = os.fork()
    if pid == 0:  # the child: its own loop, the parent's scorer
        code = 1
        try:
            code = 0 if scorer.score("q", TEXTS).tolist() == [1.0, 2.0, 3.0] else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# --- timeouts bound the whole call ---------------------------------------------------------------------------------

DRIPPED_ANSWER = http_answer(200, json.dumps([{**GOOD[0], "pad": "x" * 5 * SLOW}, *GOOD[1:]]).encode())
DRIPPED_HEAD = DRIPPED_ANSWER.index(b"\r\n\r\n") + 4


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(drip(DRIPPED_ANSWER), id="a byte a second from the status line"),
        pytest.param(drip(DRIPPED_ANSWER, at_once=DRIPPED_HEAD), id="a byte a second of the body"),
        pytest.param(drip(DRIPPED_ANSWER, every_s=0.2), id="a byte every 0.2 s, faster than any read timeout"),
        pytest.param(drip(DRIPPED_ANSWER, every_s=0.2, at_once=DRIPPED_HEAD), id="the body, a byte every 0.2 s"),
        pytest.param(silent(), id="never answers"),
    ],
)
async def test_a_slow_answer_times_out_within_the_timeout(stub, reply):
    stub.reply = reply
    scorer = RemoteScorer(stub.url, timeout=1)
    for call in (lambda: scorer.rank("q", TEXTS), scorer.health):
        started = time.monotonic()
        with pytest.raises(RemoteTimeoutError, match="within timeout=1.0 s"):
            call()
        assert time.monotonic() - started < 1 + MARGIN
    started = time.monotonic()
    with pytest.raises(RemoteTimeoutError):
        await scorer.ascore("q", TEXTS)
    assert time.monotonic() - started < 1 + MARGIN


async def test_an_upload_the_server_does_not_read_times_out():
    server = StubServer(read_request=False)
    try:
        scorer = RemoteScorer(server.url, timeout=1)
        big = ["x" * (32 * 1024 * 1024)]  # more than the loopback's socket buffers hold
        started = time.monotonic()
        with pytest.raises(RemoteTimeoutError):
            scorer.rank("q", big)
        assert time.monotonic() - started < 1 + MARGIN
        started = time.monotonic()
        with pytest.raises(RemoteTimeoutError):
            await scorer.arank("q", big)
        assert time.monotonic() - started < 1 + MARGIN
    finally:
        server.stop()


# --- connection failures and retries -------------------------------------------------------------------------------


async def test_an_unreachable_server_is_retried_with_backoff_then_unavailable():
    url = f"http://127.0.0.1:{free_loopback_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError, match="after 2 retries"):
        RemoteScorer(url, retries=2).score("q", TEXTS)
    assert time.monotonic() - started >= 0.45  # waits of 0 s then 0.5 s between the three attempts
    with pytest.raises(ServiceUnavailableError, match="after 0 retries"):
        await RemoteScorer(url, retries=0).ascore("q", TEXTS)


async def test_retries_stop_before_their_backoff_would_pass_the_timeout():
    url = f"http://127.0.0.1:{free_loopback_port()}"
    scorer = RemoteScorer(url, timeout=2, retries=50)  # waits of 0, 0.5, 1, then 2 s would pass 2 s
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError, match=r"after [123] retries \(the next would pass timeout=2.0 s\)"):
        scorer.score("q", TEXTS)
    assert time.monotonic() - started < 2 + MARGIN
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError, match="the next would pass timeout=2.0 s"):
        await scorer.ascore("q", TEXTS)
    assert time.monotonic() - started < 2 + MARGIN


async def test_a_request_that_reached_the_server_is_never_sent_twice(stub):
    stub.reply = raw(b"")  # reads the request, closes without answering
    with pytest.raises(RemoteScorerError) as caught:
        RemoteScorer(stub.url, retries=5).rank("q", TEXTS)
    assert len(stub.received) == 1
    assert not isinstance(caught.value, RemoteTimeoutError)


def test_credentials_in_the_url_stay_out_of_messages():
    scorer = RemoteScorer(f"http://user:s3cret@127.0.0.1:{free_loopback_port()}", retries=0)
    with pytest.raises(ServiceUnavailableError) as caught:
        scorer.score("q", TEXTS)
    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(scorer)
    assert "127.0.0.1" in str(caught.value)


# --- malformed answers ---------------------------------------------------------------------------------------------


def body(results: object = None, pad: str = "") -> bytes:
    """A ``/rerank`` answer: TEI's list of results (``pad`` goes into the first)."""
    results = GOOD if results is None else results
    if pad and isinstance(results, list):
        results = [{**results[0], "pad": pad}, *results[1:]]
    return json.dumps(results).encode()


def hits(*pairs: tuple[object, object]) -> list[dict[str, object]]:
    return [{"index": index, "score": score} for index, score in pairs]


MALFORMED: dict[str, tuple[bytes, dict[str, object]]] = {
    "empty": (b"", {}),
    "HTML": (b"<html>oops</html>", {}),
    "cut short": (b'[{"index": 2, "score": ', {}),
    "trailing text": (body() + b" and more", {}),
    "not UTF-8": (b"\xff\xfe[]", {}),
    "an object": (b"{}", {}),
    "null": (b"null", {}),
    "deeply nested": (b"[" * 100_000, {}),
    "crossrank's old shape": (json.dumps({"model": "m", "results": GOOD}).encode(), {}),
    "Cohere's shape": (json.dumps({"results": [{"index": 2, "relevance_score": 3.0}]}).encode(), {"top_n": 1}),
    "results in an object": (json.dumps({"0": GOOD[0]}).encode(), {}),
    "a string": (body("2,1,0"), {}),
    "a result not an object": (body([2, 1, 0]), {}),
    "no score": (body([{"index": 2}, {"index": 1}, {"index": 0}]), {}),
    "no index": (body([{"score": 3.0}, {"score": 2.0}, {"score": 1.0}]), {}),
    "index a string": (body(hits(("2", 3.0), (1, 2.0), (0, 1.0))), {}),
    "index a float": (body(hits((2.0, 3.0), (1, 2.0), (0, 1.0))), {}),
    "index a bool": (body(hits((True, 3.0), (2, 2.0), (0, 1.0))), {}),
    "index null": (body(hits((None, 3.0), (1, 2.0), (0, 1.0))), {}),
    "score a string": (body(hits((2, "3.0"), (1, 2.0), (0, 1.0))), {}),
    "score a bool": (body(hits((2, True), (1, 2.0), (0, 1.0))), {}),
    "score null": (body(hits((2, None), (1, 2.0), (0, 1.0))), {}),
    "score a list": (body(hits((2, [3.0]), (1, 2.0), (0, 1.0))), {}),
    "text not a string": (body([{**GOOD[0], "text": 3}, *GOOD[1:]]), {}),
    "NaN score": (b'[{"index": 2, "score": NaN}]', {"top_n": 1}),
    "infinite score": (b'[{"index": 2, "score": Infinity}]', {"top_n": 1}),
    "-infinite score": (body(hits((2, 3.0), (1, 2.0))).replace(b"2.0}", b"-Infinity}"), {"top_n": 2}),
    "overflowing score": (b'[{"index": 2, "score": 1e999}]', {"top_n": 1}),
    "negative index": (body(hits((2, 3.0), (1, 2.0), (-1, 1.0))), {}),
    "index past the end": (body(hits((3, 3.0), (1, 2.0), (0, 1.0))), {}),
    "huge index": (body(hits((2**70, 3.0), (1, 2.0), (0, 1.0))), {}),
    "repeated index": (body(hits((2, 3.0), (1, 2.0), (1, 2.0))), {}),
    "more results than texts": (body([*GOOD, {"index": 0, "score": 1.0}]), {}),
    "a text left out": (body(GOOD[:2]), {}),
    "no results at all": (body([]), {}),
    "worst first": (body(GOOD[::-1]), {}),
    "order against the scores": (body(hits((2, 1.0), (1, 2.0), (0, 3.0))), {}),
    "a tie out of input order": (body(hits((2, 1.0), (1, 1.0), (0, 1.0))), {}),
    "more than top_n": (body(GOOD[:2]), {"top_n": 1}),
    "fewer than top_n": (body(GOOD[:1]), {"top_n": 2}),
    "a score below min_score": (body(GOOD[:2]), {"min_score": 2.5}),
    "the best left out": (body(GOOD[1:]), {"min_score": 1.5}),
}


@pytest.mark.parametrize(("answer_body", "options"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_answer_raises_remote_scorer_error_with_the_status(stub, answer_body, options):
    stub.reply = answer(200, answer_body)
    scorer = RemoteScorer(stub.url)
    with pytest.raises(RemoteScorerError, match="malformed") as caught:
        scorer.rank("q", TEXTS, **options)
    assert type(caught.value) is RemoteScorerError and caught.value.status == 200
    with pytest.raises(RemoteScorerError, match="malformed") as caught:
        await scorer.arank("q", TEXTS, **options)
    assert type(caught.value) is RemoteScorerError and caught.value.status == 200
    assert str(caught.value).isprintable() and len(str(caught.value)) < 1000


@pytest.mark.parametrize(
    "answer_body",
    [b"", b"[]", b'{"status": "ok"}', b'{"status": 1, "model": "m"}', b'{"status": "ok", "model": null}'],
)
def test_a_malformed_health_answer_raises_remote_scorer_error(stub, answer_body):
    stub.reply = answer(200, answer_body)
    with pytest.raises(RemoteScorerError, match="malformed") as caught:
        RemoteScorer(stub.url).health()
    assert type(caught.value) is RemoteScorerError and caught.value.status == 200


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(raw(b"hello\r\n\r\n"), id="not HTTP"),
        pytest.param(raw(b"HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n" + body()), id="body cut short"),
        pytest.param(raw(b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n" + body()), id="bad content-length"),
        pytest.param(raw(b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\n\r\nnot gzip"), id="bad encoding"),
        pytest.param(raw(b"HTTP/1.1 200 OK\r\n" + b"x-pad: " + b"x" * 200_000 + b"\r\n\r\n"), id="endless headers"),
    ],
)
async def test_an_answer_that_is_not_valid_http_raises_remote_scorer_error(stub, reply):
    stub.reply = reply
    scorer = RemoteScorer(stub.url, retries=3)
    with pytest.raises(RemoteScorerError) as caught:
        scorer.rank("q", TEXTS)
    assert not isinstance(caught.value, RemoteTimeoutError)
    with pytest.raises(RemoteScorerError):
        await scorer.arank("q", TEXTS)
    assert len(stub.received) == 2  # never sent again


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "streamed"])
async def test_an_answer_past_the_size_limit_is_not_read(stub, monkeypatch, declared):
    monkeypatch.setattr(remote_module, "MAX_ANSWER_BYTES", 1000)
    long_body = body(pad="x" * 5000)
    if declared:
        stub.reply = answer(200, long_body)
    else:  # no content-length: read until the connection closes
        stub.reply = raw(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n" + long_body)
    with pytest.raises(RemoteScorerError, match="longer than 1000 bytes") as caught:
        await RemoteScorer(stub.url).arank("q", TEXTS)
    assert caught.value.status == 200


# --- error answers -------------------------------------------------------------------------------------------------


def error(kind: str, detail: str, error_type: str = "Validation") -> bytes:
    """crossrank's error body: TEI's ``{error, error_type}`` and the ``kind`` a client raises again."""
    return json.dumps({"error": detail, "error_type": error_type, "kind": kind}).encode()


ERROR_ANSWERS = {
    "408 too slow a body": (408, error("RequestTimeout", "the body came too slowly"), RemoteTimeoutError, "too slowly"),
    "413 too many documents": (413, error("InvalidArgumentError", "limit of 40"), InvalidArgumentError, "limit of 40"),
    "413 too long a body": (413, error("InvalidRequest", "larger than"), InvalidArgumentError, "413.*larger than"),
    "415 not JSON": (415, error("InvalidRequest", "send JSON"), InvalidArgumentError, "415.*send JSON"),
    "422 bad query": (422, error("InvalidQueryError", "The query is empty"), InvalidQueryError, "query is empty"),
    "422 bad text": (422, error("InvalidTextError", "texts[1] is a"), InvalidTextError, "texts"),
    "422 bad body": (422, error("InvalidRequest", "texts.1: ..."), InvalidArgumentError, "422.*texts"),
    "422 unknown kind": (422, error("SystemExit", "x"), InvalidArgumentError, "422"),
    "422 plain text": (422, b"unprocessable", InvalidArgumentError, "422.*unprocessable"),
    "400 empty": (400, b"", InvalidArgumentError, "400"),
    "429 rate limited": (429, b"slow down", ServiceUnavailableError, "429.*slow down"),
    "503 JSON": (503, error("ServiceUnavailable", "starting", "Unhealthy"), ServiceUnavailableError, "503.*starting"),
    "503 HTML": (503, b"<html><h1>Service Unavailable</h1></html>", ServiceUnavailableError, "503.*Unavailable"),
    "500 JSON": (500, error("InternalError", "boom", "Backend"), RemoteScorerError, "500.*boom"),
    "500 plain text": (500, b"Internal Server Error", RemoteScorerError, "500.*Internal Server Error"),
    "502 empty": (502, b"", RemoteScorerError, "502"),
    "401 from a gateway": (401, b"no token", RemoteScorerError, "401.*API key.*headers.*no token"),
    "404 wrong path": (404, error("NotFound", "no route"), RemoteScorerError, "404.*url"),
    "301 redirect": (301, b"", RemoteScorerError, "301.*redirects"),
    "huge detail": (500, error("InternalError", "y" * 100_000, "Backend"), RemoteScorerError, "500"),
    "detail with line breaks and escapes": (
        500,
        error("X", "a\n\r\x1b[31mfake log", "Backend"),
        RemoteScorerError,
        "500",
    ),
    "huge text": (500, b"z" * 100_000, RemoteScorerError, "500"),
}
STATUS_ERRORS = (RemoteTimeoutError, ServiceUnavailableError, RemoteScorerError)


@pytest.mark.parametrize(("status", "error_body", "kind", "match"), ERROR_ANSWERS.values(), ids=ERROR_ANSWERS.keys())
async def test_error_answers_raise_typed_errors(stub, status, error_body, kind, match):
    stub.reply = answer(status, error_body, content_type="text/html" if error_body[:1] == b"<" else "application/json")
    scorer = RemoteScorer(stub.url, retries=2)
    with pytest.raises(kind, match=match) as sync_caught:
        scorer.rank("q", TEXTS)
    with pytest.raises(kind, match=match) as async_caught:
        await scorer.arank("q", TEXTS)
    for caught in (sync_caught, async_caught):
        assert type(caught.value) is kind
        assert len(str(caught.value)) < 1000 and str(caught.value).isprintable()  # one line, nothing to a terminal
        if kind in STATUS_ERRORS:
            assert caught.value.status == status
    assert len(stub.received) == 2


# --- options -------------------------------------------------------------------------------------------------------

BAD_OPTIONS = {
    "url None": ({"url": None}, "url"),
    "url bytes": ({"url": b"http://127.0.0.1:8000"}, "url"),
    "url without scheme": ({"url": "127.0.0.1:8000"}, "url"),
    "url of a name without scheme": ({"url": "localhost:8000"}, "url"),
    "url ftp": ({"url": "ftp://127.0.0.1"}, "url"),
    "url empty": ({"url": ""}, "url"),
    "url without host": ({"url": "http://"}, "url"),
    "url with a space": ({"url": "http://exa mple.com"}, "url"),
    "url with a newline": ({"url": "http://h\n/"}, "url"),
    "url with a bad port": ({"url": "http://127.0.0.1:99999"}, "url"),
    "url not a port": ({"url": "http://127.0.0.1:x"}, "url"),
    "url with an unclosed bracket": ({"url": "http://[::1"}, "url"),
    "url with a query": ({"url": "http://127.0.0.1:8000/?k=1"}, "url"),
    "url with a fragment": ({"url": "http://127.0.0.1:8000/#top"}, "url"),
    "timeout zero": ({"timeout": 0}, "timeout"),
    "timeout negative": ({"timeout": -1.0}, "timeout"),
    "timeout NaN": ({"timeout": float("nan")}, "timeout"),
    "timeout infinite": ({"timeout": float("inf")}, "timeout"),
    "timeout a bool": ({"timeout": True}, "timeout"),
    "timeout a string": ({"timeout": "3"}, "timeout"),
    "timeout None": ({"timeout": None}, "timeout"),
    "retries negative": ({"retries": -1}, "retries"),
    "retries a float": ({"retries": 1.5}, "retries"),
    "retries a bool": ({"retries": True}, "retries"),
    "retries a string": ({"retries": "2"}, "retries"),
    "retries None": ({"retries": None}, "retries"),
    "headers a list": ({"headers": [("a", "b")]}, "headers"),
    "headers a string": ({"headers": "a: b"}, "headers"),
    "header value an int": ({"headers": {"x-n": 1}}, "headers"),
    "header value bytes": ({"headers": {"x-n": b"v"}}, "headers"),
    "header name an int": ({"headers": {1: "v"}}, "headers"),
    "header name empty": ({"headers": {"": "v"}}, "headers"),
    "header name with a space": ({"headers": {"x n": "v"}}, "headers"),
    "header name not ASCII": ({"headers": {"x-é": "v"}}, "headers"),
    "header value not ASCII": ({"headers": {"x-n": "caf\u00e9"}}, "headers"),
    "header value not latin-1": ({"headers": {"x-n": "\u20ac"}}, "headers"),
    "header value with CRLF": ({"headers": {"x-n": "a\r\nx-evil: 1"}}, "headers"),
    "header value with NUL": ({"headers": {"x-n": "a\x00"}}, "headers"),
    "header value with an edge blank": ({"headers": {"x-n": " v"}}, "headers"),
    "api unknown": ({"api": "openai"}, "api.*'crossrank', 'cohere', 'tei'"),
    "api in upper case": ({"api": "TEI"}, "api"),
    "api None": ({"api": None}, "api"),
    "api bytes": ({"api": b"tei"}, "api"),
    "api a list": ({"api": ["tei"]}, "api"),
    "model with api crossrank": ({"model": "rerank-v3.5"}, "model.*api='cohere'"),
    "model with api tei": ({"api": "tei", "model": "rerank-v3.5"}, "model.*api='cohere'"),
    "model empty": ({"api": "cohere", "model": ""}, "model"),
    "model an int": ({"api": "cohere", "model": 3}, "model"),
    "model with a newline": ({"api": "cohere", "model": "m\n"}, "model"),
    "api_key empty": ({"api_key": ""}, "api_key"),
    "api_key an int": ({"api_key": 123}, "api_key"),
    "api_key bytes": ({"api_key": b"k"}, "api_key"),
    "api_key with a blank": ({"api_key": "Bearer k"}, "api_key"),
    "api_key with CRLF": ({"api_key": "k\r\nx-evil: 1"}, "api_key"),
    "api_key not ASCII": ({"api_key": "k\u00e9y"}, "api_key"),
    "api_key and an Authorization header": ({"api_key": "k", "headers": {"authorization": "Bearer j"}}, "api_key"),
}


@pytest.mark.parametrize(("options", "name"), BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_bad_options_raise_invalid_argument_naming_them(options, name):
    kwargs = {"url": "http://127.0.0.1:8000", **options}
    with pytest.raises(InvalidArgumentError, match=name):
        RemoteScorer(kwargs.pop("url"), **kwargs)


def test_header_values_and_api_keys_stay_out_of_messages():
    with pytest.raises(InvalidArgumentError) as caught:
        RemoteScorer("http://127.0.0.1:8000", headers={"Authorization": "Bearer s3cr\u00e9t"})
    assert "Authorization" in str(caught.value) and "s3cr" not in str(caught.value)
    for bad_key in ("s3cr\u00e9t", "s3cr t", "s3cr\n"):
        with pytest.raises(InvalidArgumentError) as caught:
            RemoteScorer("http://127.0.0.1:8000", api_key=bad_key)
        assert "api_key" in str(caught.value) and "s3cr" not in str(caught.value)
    with pytest.raises(InvalidArgumentError) as caught:
        RemoteScorer("http://127.0.0.1:8000", api_key="s3cr3t", headers={"AUTHORIZATION": "Bearer s3cr4t"})
    assert "s3cr" not in str(caught.value)


@pytest.mark.parametrize(
    "options",
    [
        {"url": "https://example.com/rerank-prefix/", "timeout": 1, "retries": 0},
        {"url": "http://[::1]:8000", "timeout": np.float32(2.5), "retries": np.int64(2)},
        {"url": "HTTP://bücher.example:80", "timeout": 1e300, "headers": {}},
        {"url": "http://localhost", "headers": {"X-Empty": "", "Authorization": "Bearer a.b-c_d~e+f/g="}},
        {"url": "https://api.cohere.com", "api": "cohere", "model": "rerank-v3.5", "api_key": "k-1.a_b~c+d/e="},
        {"url": "http://127.0.0.1:8080", "api": "tei", "api_key": "hf_x", "headers": {"X-Tenant": "a"}},
        {"url": "http://127.0.0.1:8000", "api": "cohere"},
    ],
)
def test_good_options_are_kept(options):
    scorer = RemoteScorer(**options)
    assert not scorer.model_name_or_path.endswith("/")
    assert isinstance(scorer.timeout, float) and type(scorer.retries) is int
    assert scorer.headers == dict(options.get("headers", {}))  # an api_key is not among them
    assert (scorer.api, scorer.model) == (options.get("api", "crossrank"), options.get("model"))
    assert f"api={scorer.api!r}" in repr(scorer)


async def test_a_huge_timeout_still_works(stub):
    scorer = RemoteScorer(stub.url, timeout=1e300)
    assert [hit.index for hit in scorer.rank("q", TEXTS)] == [2, 1, 0]
    assert [hit.index for hit in await scorer.arank("q", TEXTS)] == [2, 1, 0]
