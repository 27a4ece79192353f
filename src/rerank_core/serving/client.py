"""``RemoteScorer``: the scorer interface over HTTP, for a reranker served by ``crossrank serve``.

Every call is one exchange bounded as a whole by ``timeout`` and every answer is validated before it is used.
Calls run on asyncio: async ones on the caller's event loop, sync ones on a private loop on a daemon thread
shared by all the scorers of the process, so both kinds share one code path and one deadline.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import os
import re
import threading
import weakref
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, NoReturn, TypeVar, Unpack

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from rerank_core.base import Scorer
from rerank_core.engine.unicode_text import valid_unicode
from rerank_core.errors import (
    InvalidArgumentError,
    MissingDependencyError,
    RemoteScorerError,
    RemoteTimeoutError,
    ServiceUnavailableError,
)
from rerank_core.ranking import RankRules, RankSpec, rank_spec
from rerank_core.serving.wire import INPUT_ERRORS, ErrorBody, RankedDocument, RerankRequest, RerankResponse
from rerank_core.types import Ranked

try:
    import httpx
except ImportError as exc:  # pragma: no cover - httpx comes with the remote and ray extras
    raise MissingDependencyError("httpx", "remote", "RemoteScorer calls a served reranker over HTTP.") from exc

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""The largest answer body read; a longer one raises :class:`RemoteScorerError` (a ranking of 1,000 is ~50 kB)."""
_BACKOFF_S = 0.5  # retries wait 0 s, 0.5 s, 1 s, 2 s... (as httpx's own retries), at most _MAX_BACKOFF_S
_MAX_BACKOFF_S = 8.0
_GRACE_S = 5.0  # a sync call waits this long past its timeout for the loop's answer before giving up on it
_DETAIL_CHARS = 500  # of a server's error detail, in messages
_INPUT_STATUSES = (400, 413, 415, 422)  # answers about the request itself; 408, 429 and 503 are mapped apart
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?")  # visible ASCII, no edge blanks
_HOST = re.compile(r"[A-Za-z0-9._~:-]+")  # a name (IDNs come as punycode), an IPv4 or an IPv6 address
_DEFAULT_HEADERS = {"content-type": "application/json", "accept": "application/json", "accept-encoding": "identity"}


class RemoteScorer(Scorer):
    """Scores through a reranker served by ``crossrank serve``, with the interface of the local scorer.

    Both adapters take it as ``model``: ``CrossEncoderReranker(model=RemoteScorer(url))`` and
    ``CrossEncoderRerank(model=RemoteScorer(url))``. Arguments are checked here first, so bad input raises
    the same typed errors as in-process scoring without a round trip; lone surrogates in the query or texts
    are sent as U+FFFD, as the local scorer reads them. Ranking (window, ``min_score``, ``top_n``) runs on
    the server, and its answer is checked against the request before it is returned. Every call raises the
    errors below, the constructor only ``InvalidArgumentError``.

    Args:
        url: The server's base URL, for example ``http://127.0.0.1:8000`` (a path prefix is kept; no query).
        timeout: Seconds for a whole call, sync or async: connecting, retries and their backoff, sending the
            request and reading the answer.
        retries: Extra connection attempts when connecting fails, after 0 s, 0.5 s, 1 s, 2 s... (at most 8 s),
            all within ``timeout``: a retry whose wait would pass it is not made. A request that reached the
            server is never sent twice.
        headers: Sent with every request (for example an ``Authorization`` header for a gateway); names are
            HTTP tokens and values visible ASCII.

    Raises:
        ServiceUnavailableError: the server cannot be reached after the retries, the connection breaks, or it
            answers 503 or 429.
        RemoteTimeoutError: the call did not end within ``timeout``, or the server answers 408.
        InvalidQueryError, InvalidTextError, InvalidArgumentError: the input is refused, here or by the server
            (400, 413, 415, 422).
        RemoteScorerError: any other failure, a malformed answer included (``status`` holds the HTTP status).
        InvalidArgumentError: from the constructor, for a bad option (the message names it).
    """

    def __init__(
        self, url: str, *, timeout: float = 30.0, retries: int = 3, headers: Mapping[str, str] | None = None
    ) -> None:
        self.model_name_or_path, self._where = _check_url(url)
        self.timeout = _check_timeout(timeout)
        self.retries = _check_retries(retries)
        self.headers = _check_headers(headers)
        self._lock = threading.Lock()
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"RemoteScorer({self._where!r}, timeout={self.timeout}, retries={self.retries})"

    def health(self) -> dict[str, Any]:
        """The server's ``/health`` answer (status, model, precision...), checked to hold a status and a model."""
        return self._sync(self._health())

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One score per text, in input order, as the served model scores them."""
        return _in_input_order(self.rank(query, texts), len(texts))

    async def ascore(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """:meth:`score` for asyncio."""
        return _in_input_order(await self.arank(query, texts), len(texts))

    def rank(
        self, query: str, texts: Sequence[str], spec: RankSpec | None = None, **rules: Unpack[RankRules]
    ) -> list[Ranked]:
        """Rank on the server, by ``spec`` or the same rules as keywords: ``Ranked(index, score)``, best first."""
        request = _request(query, texts, rank_spec(spec, **rules))
        return [] if request is None else self._sync(self._rerank(request))

    async def arank(
        self, query: str, texts: Sequence[str], spec: RankSpec | None = None, **rules: Unpack[RankRules]
    ) -> list[Ranked]:
        """:meth:`rank` for asyncio."""
        request = _request(query, texts, rank_spec(spec, **rules))
        return [] if request is None else await self._rerank(request)

    def close(self) -> None:
        """Close the connections of synchronous calls."""
        loop = _SYNC_LOOP.current()
        with self._lock:
            client = None if loop is None else self._clients.pop(loop, None)
        if loop is not None and client is not None:
            concurrent.futures.wait([asyncio.run_coroutine_threadsafe(client.aclose(), loop)], timeout=_GRACE_S)

    async def aclose(self) -> None:
        """Close the connections of async calls made on the running event loop."""
        with self._lock:
            client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def _health(self) -> dict[str, Any]:
        return _validated(await self._call("GET", "/health"), _Health, "/health").model_dump()

    async def _rerank(self, request: RerankRequest) -> list[Ranked]:
        answer = await self._call("POST", "/rerank", request.model_dump_json().encode())
        return _ranked(answer, request)

    def _sync(self, call: Coroutine[Any, Any, T]) -> T:
        """Run ``call`` on the loop of sync calls and wait for it; on Ctrl-C (or a stuck loop) it is cancelled."""
        future = asyncio.run_coroutine_threadsafe(call, _SYNC_LOOP.get())
        try:
            concurrent.futures.wait([future], timeout=min(self.timeout + _GRACE_S, threading.TIMEOUT_MAX))
        finally:
            future.cancel()  # a no-op once the call is done
        if future.cancelled():
            raise self._timed_out()
        return future.result()

    async def _call(self, method: str, path: str, body: bytes | None = None) -> _Answer:
        """One exchange within ``timeout`` in all, retries included: the answer's status and body."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            async with asyncio.timeout_at(deadline):
                return await self._attempts(method, self.model_name_or_path + path, body, deadline)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise self._timed_out() from exc
        except httpx.NetworkError as exc:  # a read or write failed (a failed connect is retried, then raised above)
            raise ServiceUnavailableError(f"The connection to the reranker at {self._where} broke ({exc!r}).") from exc
        except httpx.ProtocolError as exc:
            raise RemoteScorerError(f"The reranker at {self._where} did not answer in HTTP ({exc!r}).") from exc
        except httpx.HTTPError as exc:
            raise RemoteScorerError(f"Calling the reranker at {self._where} failed ({exc!r}).") from exc

    async def _attempts(self, method: str, url: str, body: bytes | None, deadline: float) -> _Answer:
        """The exchange, retried while connecting fails and the backoff ends before ``deadline``."""
        client = self._client()
        loop = asyncio.get_running_loop()
        for retry in range(self.retries + 1):
            try:
                return await _exchange(client, method, url, body)
            except httpx.ConnectError as exc:  # nothing was sent: safe to try again
                delay = _backoff(retry)
                if retry == self.retries or loop.time() + delay >= deadline:
                    cut = "" if retry == self.retries else f" (the next would pass timeout={self.timeout} s)"
                    raise ServiceUnavailableError(
                        f"Cannot reach the reranker at {self._where} after {retry} retries{cut} ({exc!r}). "
                        "Is `crossrank serve` running there?"
                    ) from exc
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns or raises

    def _client(self) -> httpx.AsyncClient:
        """The client of the running event loop (an ``AsyncClient`` serves one loop only)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._clients.get(loop)
            if client is None:
                headers = {**_DEFAULT_HEADERS, **self.headers}
                client = httpx.AsyncClient(timeout=self.timeout, headers=headers, follow_redirects=False)
                self._clients[loop] = client
        return client

    def _timed_out(self) -> RemoteTimeoutError:
        return RemoteTimeoutError(f"The reranker at {self._where} did not answer within timeout={self.timeout} s.")


@dataclass(frozen=True, slots=True)
class _Answer:
    """A server's answer, read in full."""

    status: int
    body: bytes


class _Health(BaseModel):
    """What a ``/health`` answer must hold; other fields are passed on."""

    model_config = ConfigDict(extra="allow", strict=True)

    status: str
    model: str


class _SyncLoop:
    """The event loop of sync calls: started on first use, on a daemon thread; a forked child starts its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="crossrank-remote", daemon=True).start()
            return self._loop

    def current(self) -> asyncio.AbstractEventLoop | None:
        with self._lock:
            return self._loop

    def forget(self) -> None:
        """After a fork: the loop's thread did not come along (nor, perhaps, a free lock)."""
        self._lock = threading.Lock()
        self._loop = None


_SYNC_LOOP = _SyncLoop()
os.register_at_fork(after_in_child=_SYNC_LOOP.forget)


async def _exchange(client: httpx.AsyncClient, method: str, url: str, body: bytes | None) -> _Answer:
    """Send one request and read its answer, no more than :data:`MAX_ANSWER_BYTES` of it."""
    async with client.stream(method, url, content=body) as response:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            raise _too_long(response.status_code)
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise _too_long(response.status_code)
            chunks.append(chunk)
    return _Answer(response.status_code, b"".join(chunks))


def _backoff(retry: int) -> float:
    """The wait before retry ``retry + 1``: 0 s, 0.5 s, 1 s, 2 s... at most ``_MAX_BACKOFF_S``."""
    return 0.0 if retry == 0 else min(_BACKOFF_S * 2.0 ** min(retry - 1, 16), _MAX_BACKOFF_S)


def _too_long(status: int) -> RemoteScorerError:
    return RemoteScorerError(f"The reranker's answer is longer than {MAX_ANSWER_BYTES} bytes; it was not read.", status)


def _request(query: str, texts: Sequence[str], spec: RankSpec) -> RerankRequest | None:
    """The request body: the window's texts and the other rules; ``None`` when nothing is to be scored."""
    candidates = spec.candidates(query, texts)
    if not candidates:
        return None
    return RerankRequest(
        query=valid_unicode(query),
        documents=[valid_unicode(text) for text in candidates],
        min_score=spec.min_score,
        top_n=spec.top_n,
    )


def _validated(answer: _Answer, model: type[M], path: str) -> M:
    """The body of a 2xx answer as ``model`` (strictly: no strings for numbers); a typed error otherwise."""
    if not 200 <= answer.status < 300:
        _raise_for(answer)
    try:
        return model.model_validate_json(answer.body, strict=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors(include_url=False)[:3]
        )
        raise RemoteScorerError(f"The reranker's answer to {path} is malformed: {problems}.", answer.status) from exc


def _ranked(answer: _Answer, request: RerankRequest) -> list[Ranked]:
    """The ranking in a ``/rerank`` answer, checked against the request and the ranking rules."""
    results = _validated(answer, RerankResponse, "/rerank").results
    count = len(request.documents)

    def malformed(why: str) -> RemoteScorerError:
        return RemoteScorerError(f"The reranker's answer to /rerank is malformed: {why}.", answer.status)

    seen: set[int] = set()
    for hit in results:
        if not 0 <= hit.index < count:
            raise malformed(f"index {hit.index} is outside the {count} documents sent")
        if hit.index in seen:
            raise malformed(f"index {hit.index} appears twice")
        if not math.isfinite(hit.score):
            raise malformed(f"document {hit.index} has the score {hit.score}")
        seen.add(hit.index)
    ranked = request.select(_scores_of(results, count), count)
    if [hit.index for hit in ranked] != [hit.index for hit in results]:
        raise malformed(
            "its ranking does not follow its scores, or leaves out documents it should return "
            f"(top_n={request.top_n}, min_score={request.min_score}, {count} documents)"
        )
    return ranked


def _scores_of(results: list[RankedDocument], count: int) -> np.ndarray:
    """The returned scores at their indices; documents the server left out score below every threshold."""
    scores = np.full(count, -np.inf)
    for hit in results:
        scores[hit.index] = hit.score
    return scores


def _in_input_order(ranked: list[Ranked], count: int) -> np.ndarray:
    scores = np.empty(count, dtype=np.float32)
    scores[[hit.index for hit in ranked]] = [hit.score for hit in ranked]
    return scores


def _raise_for(answer: _Answer) -> NoReturn:
    """The typed error of a non-2xx answer, from its ``{"error", "detail"}`` body or, failing that, its text."""
    status = answer.status
    try:
        error = ErrorBody.model_validate_json(answer.body)
        kind, detail = error.error, _one_line(error.detail)
    except ValidationError:
        kind, detail = "", _one_line(answer.body[: 4 * _DETAIL_CHARS].decode("utf-8", "replace"))
    if status == 408:
        raise RemoteTimeoutError(f"The reranker stopped waiting for the request (408): {detail}", status)
    if status in (429, 503):
        raise ServiceUnavailableError(f"The reranker is overloaded or starting ({status}): {detail}", status)
    if status in _INPUT_STATUSES:
        if kind in INPUT_ERRORS:
            raise INPUT_ERRORS[kind](detail)
        raise InvalidArgumentError(f"The reranker refused the request ({status}): {detail}")
    if 400 <= status < 500:
        raise RemoteScorerError(f"The reranker refused the request ({status}); check url and headers: {detail}", status)
    if status < 400:
        raise RemoteScorerError(f"The reranker answered {status}, not a success (redirects are not followed).", status)
    raise RemoteScorerError(f"The reranker failed ({status}): {detail}", status)


def _one_line(text: str) -> str:
    """A server's text as it may go into a message: one line, escaped, at most ``_DETAIL_CHARS`` long."""
    text = " ".join(text[: 4 * _DETAIL_CHARS].split())
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)[:_DETAIL_CHARS]


def _check_url(url: object) -> tuple[str, str]:
    """The base URL without its trailing slash, and the same without credentials (for messages)."""
    example = "for example 'http://127.0.0.1:8000'"
    if not isinstance(url, str):
        raise InvalidArgumentError(f"url must be a string, {example}; got {type(url).__name__}.")
    if not url.isprintable() or any(char.isspace() for char in url):
        raise InvalidArgumentError(f"url must not hold spaces or control characters, got {url!r}.")
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except httpx.InvalidURL as exc:
        raise InvalidArgumentError(f"url {url!r} is not a valid URL ({exc}).") from exc
    if parsed.scheme not in ("http", "https") or not url.lower().startswith(("http://", "https://")):
        raise InvalidArgumentError(f"url must be an http:// or https:// URL, {example}; got {url!r}.")
    if not _HOST.fullmatch(parsed.raw_host.decode("ascii", "replace")):
        raise InvalidArgumentError(f"url {url!r} has no valid host.")
    if port is not None and not 0 < port < 65536:
        raise InvalidArgumentError(f"url {url!r} has a port outside 1-65535.")
    if parsed.query or parsed.fragment or "?" in url or "#" in url:
        raise InvalidArgumentError(f"url must be the server's base URL, without a query or fragment; got {url!r}.")
    where = str(parsed.copy_with(username=None, password=None)) if parsed.userinfo else url
    return url.rstrip("/"), where.rstrip("/")


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, Real) or not 0 < float(timeout) < math.inf:
        raise InvalidArgumentError(f"timeout must be a positive, finite number of seconds, got {timeout!r}.")
    return float(timeout)


def _check_retries(retries: object) -> int:
    if isinstance(retries, bool) or not isinstance(retries, Integral) or retries < 0:
        raise InvalidArgumentError(f"retries must be an integer >= 0, got {retries!r}.")
    return int(retries)


def _check_headers(headers: object) -> dict[str, str]:
    """A copy of ``headers``; values are never shown in messages (they often hold credentials)."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidArgumentError(f"headers must be a mapping of str to str, got {type(headers).__name__}.")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise InvalidArgumentError(f"headers: {name!r} is not a valid HTTP header name.")
        if not isinstance(value, str):
            raise InvalidArgumentError(f"headers[{name!r}] must be a str, got {type(value).__name__}.")
        if not _HEADER_VALUE.fullmatch(value):
            raise InvalidArgumentError(
                f"headers[{name!r}] must be visible ASCII without line breaks or leading or trailing blanks "
                "(the value is not shown)."
            )
        checked[name] = value
    return checked
