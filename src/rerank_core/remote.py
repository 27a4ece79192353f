"""``RemoteScorer``: the scorer interface over HTTP, for a reranker served by ``crossrank serve``."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Scorer
from .errors import (
    InvalidArgumentError,
    MissingDependencyError,
    RemoteScorerError,
    RemoteTimeoutError,
    ServiceUnavailableError,
)
from .ranking import candidates_to_score, ranked_from_scores
from .rerank_api import INPUT_ERRORS, RerankRequest, RerankResponse
from .types import Ranked
from .validation import check_positive_int

try:
    import httpx
except ImportError as exc:  # pragma: no cover - httpx comes with the remote and ray extras
    raise MissingDependencyError("httpx", "remote", "RemoteScorer calls a served reranker over HTTP.") from exc


class RemoteScorer(Scorer):
    """Scores through a reranker served by ``crossrank serve``, with the interface of the local scorer.

    Both adapters take it as ``model``: ``CrossEncoderReranker(model=RemoteScorer(url))`` and
    ``CrossEncoderRerank(model=RemoteScorer(url))``. Arguments are checked here first, so bad input raises
    the same typed errors as in-process scoring without a round trip; the server's own 4xx answers are
    raised under the same classes. Ranking (window, ``min_score``, ``top_n``) runs on the server.

    Args:
        url: The server's base URL, for example ``http://127.0.0.1:8000``.
        timeout: Seconds to wait for a connection and for each answer.
        retries: Extra attempts when connecting fails (with exponential backoff); requests that reached the
            server are never sent twice.
        headers: Sent with every request (for example an ``Authorization`` header for a gateway).

    Raises (from every call):
        ServiceUnavailableError: the server cannot be reached after the retries, or answers 503.
        RemoteTimeoutError: no answer within ``timeout``.
        RemoteScorerError: any other failure of the server (``status`` holds the HTTP status).
    """

    def __init__(
        self, url: str, *, timeout: float = 30.0, retries: int = 3, headers: dict[str, str] | None = None
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidArgumentError(f"url must be an http:// or https:// URL, got {url!r}.")
        if not timeout > 0:
            raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {timeout!r}.")
        if retries != 0:
            check_positive_int("retries", retries)
        self.model_name_or_path = url.rstrip("/")
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.headers = dict(headers or {})
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"RemoteScorer({self.model_name_or_path!r}, timeout={self.timeout}, retries={self.retries})"

    def health(self) -> dict[str, Any]:
        """The server's ``/health`` answer: status, model and precision."""
        return _json(self._send(lambda client: client.get(f"{self.model_name_or_path}/health")))

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One score per text, in input order, as the served model scores them."""
        return _in_input_order(self.rank(query, texts), len(texts))

    async def ascore(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """:meth:`score` for asyncio."""
        return _in_input_order(await self.arank(query, texts), len(texts))

    def rank(
        self,
        query: str,
        texts: Sequence[str],
        *,
        top_n: int | None = None,
        min_score: float | None = None,
        rank_window_size: int | None = None,
    ) -> list[Ranked]:
        """Rank on the server: ``Ranked(index, score)`` records, best first."""
        request = _request(query, texts, top_n, min_score, rank_window_size)
        if request is None:
            return []
        body = request.model_dump_json()
        response = self._send(lambda client: client.post(f"{self.model_name_or_path}/rerank", content=body))
        return _ranked(response, request)

    async def arank(
        self,
        query: str,
        texts: Sequence[str],
        *,
        top_n: int | None = None,
        min_score: float | None = None,
        rank_window_size: int | None = None,
    ) -> list[Ranked]:
        """:meth:`rank` for asyncio."""
        request = _request(query, texts, top_n, min_score, rank_window_size)
        if request is None:
            return []
        client = self._async_client()
        try:
            response = await client.post(f"{self.model_name_or_path}/rerank", content=request.model_dump_json())
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        return _ranked(response, request)

    def close(self) -> None:
        """Close the connections of synchronous calls."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def aclose(self) -> None:
        """Close the connections of async calls made on the running event loop."""
        client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def _send(self, call: Any) -> httpx.Response:
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(**self._client_options(httpx.HTTPTransport(retries=self.retries)))
            client = self._client
        try:
            return call(client)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc

    def _async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = httpx.AsyncClient(**self._client_options(httpx.AsyncHTTPTransport(retries=self.retries)))
            self._async_clients[loop] = client
        return client

    def _client_options(self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport) -> dict[str, Any]:
        headers = {"content-type": "application/json", **self.headers}
        return {"transport": transport, "timeout": self.timeout, "headers": headers}

    def _transport_error(self, exc: httpx.HTTPError) -> RemoteScorerError:
        where = self.model_name_or_path
        if isinstance(exc, httpx.TimeoutException):
            return RemoteTimeoutError(f"The reranker at {where} did not answer within {self.timeout} s ({exc!r}).")
        if isinstance(exc, httpx.TransportError):
            return ServiceUnavailableError(
                f"Cannot reach the reranker at {where} after {self.retries} retries ({exc!r}). "
                "Is `crossrank serve` running there?"
            )
        return RemoteScorerError(f"Calling the reranker at {where} failed: {exc!r}")


def _request(
    query: str, texts: Sequence[str], top_n: int | None, min_score: float | None, rank_window_size: int | None
) -> RerankRequest | None:
    """The request body, after the checks of local scoring; ``None`` when nothing is to be scored."""
    candidates = candidates_to_score(query, texts, top_n, min_score, rank_window_size)
    if not candidates:
        return None
    return RerankRequest(query=query, documents=list(candidates), top_n=top_n, min_score=min_score)


def _ranked(response: httpx.Response, request: RerankRequest) -> list[Ranked]:
    """The ranking in a ``/rerank`` answer, checked against the request."""
    answer = RerankResponse.model_validate(_json(response))
    count = len(request.documents)
    if any(not 0 <= hit.index < count for hit in answer.results):
        raise RemoteScorerError(
            f"The server returned an index outside the {count} documents sent.", response.status_code
        )
    ranked = ranked_from_scores(_scores_of(answer, count), count, request.top_n, request.min_score)
    if [hit.index for hit in ranked] != [hit.index for hit in answer.results]:
        raise RemoteScorerError("The server's ranking does not follow its own scores.", response.status_code)
    return ranked


def _scores_of(answer: RerankResponse, count: int) -> np.ndarray:
    """The returned scores at their indices; documents the server left out score below every threshold."""
    scores = np.full(count, -np.inf)
    for hit in answer.results:
        scores[hit.index] = hit.score
    return scores


def _in_input_order(ranked: list[Ranked], count: int) -> np.ndarray:
    scores = np.empty(count, dtype=np.float32)
    scores[[hit.index for hit in ranked]] = [hit.score for hit in ranked]
    return scores


def _json(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer; a 4xx about the input raises its typed error, anything else a remote error."""
    if response.is_success:
        try:
            return response.json()
        except ValueError as exc:
            raise RemoteScorerError("The server's answer is not JSON.", response.status_code) from exc
    try:
        body = response.json()
        kind, detail = str(body["error"]), str(body["detail"])
    except (ValueError, KeyError, TypeError):
        kind, detail = "", response.text[:500]
    status = response.status_code
    if status == 503:
        raise ServiceUnavailableError(f"The reranker is overloaded or starting (503): {detail}", status)
    if 400 <= status < 500 and kind in INPUT_ERRORS:
        raise INPUT_ERRORS[kind](detail)
    if 400 <= status < 500:
        raise InvalidArgumentError(f"The reranker refused the request ({status}): {detail}")
    raise RemoteScorerError(f"The reranker failed ({status}): {detail}", status)
