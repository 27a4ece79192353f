"""``RemoteScorer``: the scorer interface over HTTP, for a reranker served by ``crossrank serve``, by Hugging Face
text-embeddings-inference (TEI) or behind Cohere's rerank API.

It speaks one of the APIs of :mod:`rerank_core.serving.wire` (``api``): ``crossrank`` (``POST /rerank``, the server
ranks by the rules sent), ``tei`` (``POST /rerank`` with the query and texts only; ranked here) or ``cohere``
(``POST /v2/rerank``; the server cuts to ``top_n``, ``min_score`` is applied here). Every call is one exchange
bounded as a whole by ``timeout`` and every answer is validated against the request before it is used.
Calls run on asyncio: async ones on the caller's event loop, sync ones on a private loop on a daemon thread
shared by all the scorers of the process, so both kinds share one code path and one deadline.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import math
import os
import re
import threading
import weakref
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, NoReturn, TypeVar, Unpack, cast

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
from rerank_core.serving.wire import (
    APIS,
    COHERE_PATHS,
    INPUT_ERRORS,
    TEI_PATH,
    Api,
    CohereRerankRequest,
    TeiRerankRequest,
    TeiRerankResponse,
)
from rerank_core.types import Ranked
from rerank_core.validation import check_instruction

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
_API_KEY = re.compile(r"[\x21-\x7e]+")  # visible ASCII, no blanks: one token
_HOST = re.compile(r"[A-Za-z0-9._~:-]+")  # a name (IDNs come as punycode), an IPv4 or an IPv6 address
_DEFAULT_HEADERS = {"content-type": "application/json", "accept": "application/json", "accept-encoding": "identity"}
_COHERE_PATH = next(path for path, version in COHERE_PATHS.items() if version == "2")
_HIDDEN = "<api_key>"  # what an api_key a server echoes back reads as in messages


class RemoteScorer(Scorer):
    """Scores through a served reranker (``crossrank serve``, TEI or Cohere's API), with the local scorer's interface.

    Both adapters take it as ``model``: ``CrossEncoderReranker(model=RemoteScorer(url))`` and
    ``CrossEncoderRerank(model=RemoteScorer(url))``. Arguments are checked here first, so bad input raises
    the same typed errors as in-process scoring without a round trip; lone surrogates in the query or texts
    are sent as U+FFFD, as the local scorer reads them. ``rank_window_size`` is applied here, so only the
    window's texts are sent; ``min_score`` and ``top_n`` apply where ``api`` says, with the same results as
    the local scorer either way. Every answer is checked against the request before it is returned. Every
    call raises the errors below, the constructor only ``InvalidArgumentError``.

    The APIs (:data:`rerank_core.serving.wire.APIS`):

    - ``"crossrank"`` (``crossrank serve``): ``POST /rerank`` with the query, the texts, ``min_score`` and
      ``top_n``; the server ranks, and its ranking must follow its scores and the rules exactly.
    - ``"tei"`` (Hugging Face text-embeddings-inference, or ``crossrank serve``): ``POST /rerank`` with the
      query and texts only; the answer must score every text sent, and the ranking is made here.
    - ``"cohere"`` (Cohere's API, or ``crossrank serve``): ``POST /v2/rerank`` with the query, the texts as
      ``documents``, ``top_n`` and ``model``; the answer must be sorted best first and hold ``top_n`` results
      (all when ``top_n`` is ``None``, fewer when there are fewer texts); ``min_score`` is applied here.

    Args:
        url: The server's base URL, for example ``http://127.0.0.1:8000`` or ``https://api.cohere.com`` (a path
            prefix is kept; no query).
        api: How to call it: ``"crossrank"`` (default), ``"tei"`` or ``"cohere"``, as above.
        api_key: Sent as ``Authorization: Bearer <api_key>`` with every request (visible ASCII, no blanks, the
            key alone); never shown in messages or ``repr``. Not with an ``Authorization`` entry in ``headers``.
        model: The model name Cohere's API scores with (``api="cohere"`` only; Cohere requires one, and
            ``crossrank serve`` ignores it). ``model_name_or_path`` stays the URL.
        instruction: For a served prompt model (Qwen3-Reranker, mxbai-rerank-v2): the instruction sent with
            every request, in place of the server's (a call's ``instruction`` replaces it in turn);
            ``api="crossrank"`` only, since neither TEI nor Cohere's API has the field, and a server whose
            model takes no instruction refuses it (``InvalidArgumentError``).
        timeout: Seconds for a whole call, sync or async: connecting, retries and their backoff, sending the
            request and reading the answer.
        retries: Extra connection attempts when connecting fails, after 0 s, 0.5 s, 1 s, 2 s... (at most 8 s),
            all within ``timeout``: a retry whose wait would pass it is not made. A request that reached the
            server is never sent twice.
        headers: Sent with every request (for example what a gateway wants); names are HTTP tokens and values
            visible ASCII; values are never shown in messages.

    Raises:
        ServiceUnavailableError: the server cannot be reached after the retries, the connection breaks, or it
            answers 503 or 429.
        RemoteTimeoutError: the call did not end within ``timeout``, or the server answers 408.
        InvalidQueryError, InvalidTextError, InvalidArgumentError: the input is refused, here or by the server
            (400, 413, 415, 422; crossrank's error ``kind`` names the class, other servers' refusals are
            ``InvalidArgumentError`` with their message).
        RemoteScorerError: any other failure, a malformed answer included (``status`` holds the HTTP status);
            401 and 403 say the API key is missing or was refused.
        InvalidArgumentError: from the constructor, for a bad option (the message names it).
    """

    def __init__(
        self,
        url: str,
        *,
        api: Api = "crossrank",
        api_key: str | None = None,
        model: str | None = None,
        instruction: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.model_name_or_path, self._where = _check_url(url)
        self.api = _check_api(api)
        self.model = _check_model(model, self.api)
        self.instruction = _check_instruction(instruction, self.api)
        self.timeout = _check_timeout(timeout)
        self.retries = _check_retries(retries)
        self.headers = _check_headers(headers)
        self._api_key = _check_api_key(api_key, self.headers)
        self._lock = threading.Lock()
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        model = "" if self.model is None else f", model={self.model!r}"
        return f"RemoteScorer({self._where!r}, api={self.api!r}{model}, timeout={self.timeout}, retries={self.retries})"

    def health(self) -> dict[str, Any]:
        """The server's ``GET /health`` answer, checked.

        With ``api="crossrank"``: its fields (status, model, precision...), checked to hold a status and a model.
        With ``"tei"`` or ``"cohere"``: ``{"status": "ok"}`` when ``/health`` answers 2xx (TEI's has an empty
        body; Cohere's API has no health route of its own, so this checks a server that has one, such as
        ``crossrank serve``).
        """
        return self._sync(self._health())

    def score(self, query: str, texts: Sequence[str], *, instruction: str | None = None) -> np.ndarray:
        """One score per text, in input order, as the served model scores them (``instruction`` as in :meth:`rank`)."""
        return _in_input_order(self.rank(query, texts, instruction=instruction), len(texts))

    async def ascore(self, query: str, texts: Sequence[str], *, instruction: str | None = None) -> np.ndarray:
        """:meth:`score` for asyncio."""
        return _in_input_order(await self.arank(query, texts, instruction=instruction), len(texts))

    def rank(
        self,
        query: str,
        texts: Sequence[str],
        spec: RankSpec | None = None,
        *,
        instruction: str | None = None,
        **rules: Unpack[RankRules],
    ) -> list[Ranked]:
        """Rank by ``spec`` or the same rules as keywords, on the server as ``api`` says: ``Ranked(index, score)``,
        best first. ``instruction`` replaces the scorer's for this call (``api="crossrank"`` only)."""
        request = self._request(query, texts, rank_spec(spec, **rules), instruction)
        return [] if request is None else self._sync(self._rerank(request))

    async def arank(
        self,
        query: str,
        texts: Sequence[str],
        spec: RankSpec | None = None,
        *,
        instruction: str | None = None,
        **rules: Unpack[RankRules],
    ) -> list[Ranked]:
        """:meth:`rank` for asyncio."""
        request = self._request(query, texts, rank_spec(spec, **rules), instruction)
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
        answer = await self._call("GET", "/health")
        if self.api != "crossrank":
            if not 200 <= answer.status < 300:
                _raise_for(answer, self._secrets())
            return {"status": "ok"}
        return _validated(answer, _Health, "/health", self._secrets()).model_dump()

    def _request(self, query: str, texts: Sequence[str], spec: RankSpec, instruction: str | None) -> _Request | None:
        """The request of ``api`` for the window's texts; ``None`` when nothing is to be scored."""
        instruction = _check_instruction(instruction, self.api) or self.instruction
        candidates = spec.candidates(query, texts)
        if not candidates:
            return None
        query, documents = valid_unicode(query), [valid_unicode(text) for text in candidates]
        path, body = TEI_PATH, b""
        if self.api == "cohere":  # the model, the documents and top_n; min_score is applied to the answer
            cohere = CohereRerankRequest(model=self.model, query=query, documents=documents, top_n=spec.top_n)
            path, body = _COHERE_PATH, cohere.model_dump_json(exclude_none=True).encode()
        elif self.api == "tei":  # what TEI reads: the query and the texts; the ranking is made from the answer
            body = TeiRerankRequest(query=query, texts=documents).model_dump_json(include={"query", "texts"}).encode()
        else:  # crossrank's rules too (only those set), for the server to rank by
            rules = TeiRerankRequest(
                query=query, texts=documents, min_score=spec.min_score, top_n=spec.top_n, instruction=instruction
            )
            body = rules.model_dump_json(exclude_defaults=True).encode()
        return _Request(self.api, path, body, spec, len(documents))

    async def _rerank(self, request: _Request) -> list[Ranked]:
        answer = await self._call("POST", request.path, request.body)
        return _ranked(answer, request, self._secrets())

    def _secrets(self) -> tuple[str, ...]:
        """What must not appear in a message, should a server echo it back."""
        return () if self._api_key is None else (self._api_key,)

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
                if self._api_key is not None:
                    headers["authorization"] = f"Bearer {self._api_key}"
                client = httpx.AsyncClient(timeout=self.timeout, headers=headers, follow_redirects=False)
                self._clients[loop] = client
        return client

    def _timed_out(self) -> RemoteTimeoutError:
        return RemoteTimeoutError(f"The reranker at {self._where} did not answer within timeout={self.timeout} s.")


@dataclass(frozen=True, slots=True)
class _Request:
    """One rerank request as sent, and what its answer is checked against."""

    api: Api
    path: str
    body: bytes
    spec: RankSpec
    """The rules of the call (the window is already applied: ``count`` texts were sent)."""
    count: int


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


class _CohereHit(BaseModel):
    """What is read of one result of Cohere's answer (``document`` and any other field are passed over)."""

    index: int
    relevance_score: float


class _CohereAnswer(BaseModel):
    """What is read of Cohere's answer: its results (``id``, ``meta`` and more are not needed, nor checked)."""

    results: list[_CohereHit]


class _TeiErrorBody(BaseModel):
    """TEI's ``{error, error_type}``, with crossrank's ``kind`` when the server is ``crossrank serve``."""

    error: str
    error_type: str | None = None
    kind: str | None = None


class _CohereErrorBody(BaseModel):
    """Cohere's ``{message}`` (with an ``id`` on crossrank's Cohere routes)."""

    message: str


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


def _validated(answer: _Answer, model: type[M], path: str, secrets: tuple[str, ...]) -> M:
    """The body of a 2xx answer as ``model`` (strictly: no strings for numbers); a typed error otherwise."""
    if not 200 <= answer.status < 300:
        _raise_for(answer, secrets)
    try:
        return model.model_validate_json(answer.body, strict=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors(include_url=False)[:3]
        )
        raise RemoteScorerError(f"The reranker's answer to {path} is malformed: {problems}.", answer.status) from exc


def _ranked(answer: _Answer, request: _Request, secrets: tuple[str, ...]) -> list[Ranked]:
    """The ranking in a rerank answer, checked against the request and ranked (or its ranking checked) by its rules."""
    spec, count = request.spec, request.count

    def malformed(why: str) -> RemoteScorerError:
        return RemoteScorerError(f"The reranker's answer to {request.path} is malformed: {why}.", answer.status)

    hits: list[tuple[int, float]]
    if request.api == "cohere":
        cohere = _validated(answer, _CohereAnswer, request.path, secrets).results
        hits = [(hit.index, hit.relevance_score) for hit in cohere]
    else:
        hits = [(hit.index, hit.score) for hit in _validated(answer, TeiRerankResponse, request.path, secrets).root]
    seen: set[int] = set()
    for index, score in hits:
        if not 0 <= index < count:
            raise malformed(f"index {index} is outside the {count} texts sent")
        if index in seen:
            raise malformed(f"index {index} appears twice")
        if not math.isfinite(score):
            raise malformed(f"text {index} has the score {score}")
        seen.add(index)
    scores = _scores_of(hits, count)
    if request.api == "tei":  # TEI scores every text; the ranking is made here
        if len(hits) != count:
            raise malformed(f"it scores {len(hits)} of the {count} texts sent, not every one")
        return spec.select(scores, count)
    if request.api == "cohere":  # Cohere sorts and cuts to top_n; min_score is applied here
        expected = count if spec.top_n is None else min(spec.top_n, count)
        if any(later[1] > earlier[1] for earlier, later in itertools.pairwise(hits)):
            raise malformed("its results are not sorted by relevance_score, best first")
        if len(hits) != expected:
            more = "more" if len(hits) > expected else "fewer"
            raise malformed(f"it holds {len(hits)} results, {more} than the {expected} asked (top_n={spec.top_n})")
        return spec.select(scores, count)
    ranked = spec.select(scores, count)
    if [hit.index for hit in ranked] != [index for index, _ in hits]:
        raise malformed(
            "its ranking does not follow its scores, or leaves out texts it should return "
            f"(top_n={spec.top_n}, min_score={spec.min_score}, {count} texts)"
        )
    return ranked


def _scores_of(hits: list[tuple[int, float]], count: int) -> np.ndarray:
    """The returned scores at their indices; texts the server left out score below every threshold."""
    scores = np.full(count, -np.inf)
    for index, score in hits:
        scores[index] = score
    return scores


def _in_input_order(ranked: list[Ranked], count: int) -> np.ndarray:
    scores = np.empty(count, dtype=np.float32)
    scores[[hit.index for hit in ranked]] = [hit.score for hit in ranked]
    return scores


def _raise_for(answer: _Answer, secrets: tuple[str, ...] = ()) -> NoReturn:
    """The typed error of a non-2xx answer, from its body: TEI's ``{error, error_type, kind?}`` (crossrank's
    ``kind`` names an input error's class), Cohere's ``{message}``, or, failing both, its text."""
    status = answer.status
    window = 4 * _DETAIL_CHARS + 4 * sum(map(len, secrets))  # a secret that starts in what is shown is replaced whole
    kind, message = "", answer.body[:window].decode("utf-8", "replace")
    try:
        tei = _TeiErrorBody.model_validate_json(answer.body)
        kind, message = tei.kind or "", tei.error
    except ValidationError:
        try:
            message = _CohereErrorBody.model_validate_json(answer.body).message
        except ValidationError:
            pass
    for secret in secrets:
        message = message.replace(secret, _HIDDEN)
    detail = _one_line(message)
    if status == 408:
        raise RemoteTimeoutError(f"The reranker stopped waiting for the request (408): {detail}", status)
    if status in (429, 503):
        raise ServiceUnavailableError(f"The reranker is overloaded or starting ({status}): {detail}", status)
    if status in _INPUT_STATUSES:
        if kind in INPUT_ERRORS:
            raise INPUT_ERRORS[kind](detail)
        raise InvalidArgumentError(f"The reranker refused the request ({status}): {detail}")
    if status in (401, 403):
        raise RemoteScorerError(
            f"The reranker refused the request ({status}): the API key is missing or was refused; check api_key "
            f"and headers: {detail}",
            status,
        )
    if 400 <= status < 500 and status != 424:  # TEI answers 424 when its backend fails: a failure, as a 5xx
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


def _check_api(api: object) -> Api:
    if not isinstance(api, str) or api not in APIS:
        raise InvalidArgumentError(f"api must be one of {', '.join(map(repr, APIS))}; got {api!r}.")
    return cast(Api, str(api))


def _check_model(model: object, api: Api) -> str | None:
    """Cohere's model name: a non-empty, printable string, and only with ``api="cohere"``."""
    if model is None:
        return None
    if api != "cohere":
        raise InvalidArgumentError(
            f"model is the model name Cohere's API scores with (api='cohere'); with api={api!r} the server scores "
            "with the model it serves: leave model out."
        )
    if not isinstance(model, str) or not model or not model.isprintable():
        raise InvalidArgumentError(f"model must be None or a non-empty, printable str, got {model!r}.")
    return model


def _check_instruction(instruction: object, api: Api) -> str | None:
    """An instruction for the server's prompt model: only ``api="crossrank"`` has the field to send it in."""
    if instruction is not None and api != "crossrank":
        raise InvalidArgumentError(
            f"instruction is sent in crossrank's own field (api='crossrank'); api={api!r} has no instruction "
            "field, so the server would score with its own: leave instruction out or use api='crossrank'."
        )
    return check_instruction(instruction)


def _check_api_key(api_key: object, headers: Mapping[str, str]) -> str | None:
    """The key as given; it is never shown in messages (nor its length)."""
    if api_key is None:
        return None
    if not isinstance(api_key, str):
        raise InvalidArgumentError(f"api_key must be None or a str, got {type(api_key).__name__}.")
    if not _API_KEY.fullmatch(api_key):
        raise InvalidArgumentError(
            "api_key must be a non-empty str of visible ASCII without blanks, the key alone (it is sent as "
            "'Authorization: Bearer <api_key>'; the value is not shown)."
        )
    if any(name.lower() == "authorization" for name in headers):
        raise InvalidArgumentError(
            "Pass api_key or an Authorization entry in headers, not both: api_key is sent as the Authorization header."
        )
    return api_key


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
