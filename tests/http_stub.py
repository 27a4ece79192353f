"""A raw HTTP/1.1 server on a loopback port, in a thread of its own, for the client tests: it records each request
and answers as its ``reply`` says, well-formed or not (slowly, wrongly, never)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from rerank_core.ranking import select


@dataclass(frozen=True)
class Received:
    """One request as the server read it (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Reply = Callable[[Received, asyncio.StreamWriter], Awaitable[None]]
"""Writes the answer to a request; the connection is closed when it returns."""


class StubServer:
    """Serves one request per connection on ``127.0.0.1``; ``reply`` may be replaced at any time.

    With ``read_request=False`` nothing is read from the connections, so a client's upload stalls.
    """

    def __init__(self, reply: Reply | None = None, *, read_request: bool = True) -> None:
        self.reply: Reply = reply or ranking()
        self.read_request = read_request
        self.received: list[Received] = []
        self._loop = asyncio.new_event_loop()
        self._handlers: set[asyncio.Task] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="http-stub", daemon=True)
        self._thread.start()
        listening = asyncio.start_server(self._handle, "127.0.0.1", 0)
        self._server = asyncio.run_coroutine_threadsafe(listening, self._loop).result(timeout=60)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def stop(self) -> None:
        """Close the listening socket and every connection, then end the thread."""
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=60)
        self._loop.close()

    async def _shutdown(self) -> None:
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            if not self.read_request:
                await asyncio.Event().wait()  # until the server stops
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in filter(None, lines):
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            received = Received(method, path, headers, body)
            self.received.append(received)
            await self.reply(received, writer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()


def http_answer(status: int, body: bytes, *, content_type: str = "application/json", headers: str = "") -> bytes:
    """A whole HTTP/1.1 answer with a ``content-length``."""
    head = f"HTTP/1.1 {status} Stub\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n{headers}"
    return f"{head}connection: close\r\n\r\n".encode("latin-1") + body


def answer(status: int, body: bytes | object, **options: str) -> Reply:
    """Always the same answer; a body that is not bytes is sent as JSON."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()

    async def reply(_: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(http_answer(status, data, **options))

    return reply


def raw(data: bytes) -> Reply:
    """These bytes, whatever they are, then the connection is closed."""

    async def reply(_: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(data)

    return reply


def drip(data: bytes, *, every_s: float = 1.0, at_once: int = 0) -> Reply:
    """The first ``at_once`` bytes of ``data`` at once, then one byte every ``every_s`` seconds."""

    async def reply(_: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(data[:at_once])
        for i in range(at_once, len(data)):
            await writer.drain()
            await asyncio.sleep(every_s)
            writer.write(data[i : i + 1])

    return reply


def silent() -> Reply:
    """Reads the request and never answers."""

    async def reply(_: Received, writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    return reply


def ranked_pairs(ranked) -> list[tuple[int, float]]:
    """A ranking as ``(index, score)`` pairs, to compare."""
    return [(hit.index, hit.score) for hit in ranked]


def text_score(text: str) -> float:
    """The stub's relevance score: the text's length (so longer texts rank first)."""
    return float(len(text))


def ranking(model: str = "stub-model") -> Reply:
    """Correct answers, scored by :func:`text_score` and ranked by the core's rules, in the API the path and body ask.

    - ``/health``: crossrank's ``{status, model, precision}``.
    - ``/v2/rerank`` and ``/v1/rerank``: Cohere's ``{id, results: [{index, relevance_score}], meta}``, best first,
      cut to ``top_n``.
    - ``/rerank`` (with ``texts``): TEI's list of ``{index, score}``, best first: every text, or as crossrank's
      ``top_n`` and ``min_score`` say when the request holds them.

    A body the stub cannot read gets TEI's 422 ``{error, error_type, kind}``.
    """

    async def reply(request: Received, writer: asyncio.StreamWriter) -> None:
        path = request.path.rstrip("/")
        if path.endswith("/health"):
            writer.write(http_answer(200, json.dumps({"status": "ok", "model": model, "precision": "fp32"}).encode()))
            return
        try:
            body = json.loads(request.body)
            cohere = path.endswith(("/v2/rerank", "/v1/rerank"))
            texts = body["documents" if cohere else "texts"]
            scores = np.array([text_score(text) for text in texts])
        except (ValueError, KeyError, TypeError) as exc:
            problem = {"error": f"the stub cannot read this body ({exc!r})", "error_type": "Validation"}
            writer.write(http_answer(422, json.dumps({**problem, "kind": "InvalidRequest"}).encode()))
            return
        if cohere:
            ranked = select(scores, top_n=body.get("top_n"))
            results = [{"index": hit.index, "relevance_score": hit.score} for hit in ranked]
            version = "2" if path.endswith("/v2/rerank") else "1"
            answer_body = {"id": "stub-id", "results": results, "meta": {"api_version": {"version": version}}}
        else:
            ranked = select(scores, top_n=body.get("top_n"), min_score=body.get("min_score"))
            answer_body = [{"index": hit.index, "score": hit.score} for hit in ranked]
        writer.write(http_answer(200, json.dumps(answer_body).encode()))

    return reply
