"""Connection-level bounds of a served reranker, applied inside Ray Serve's HTTP proxy.

Ray Serve's proxy runs uvicorn, which as Ray configures it reads request headers with no deadline and no
size bound, and its proxy copies request bodies into a queue as fast as clients send them, whatever a replica
does with them. ``crossrank serve`` (or ``serve.start(**serve_start_options(...))``) loads this module into
the proxy through Ray's ``RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH`` hook, passed to the Serve controller
(and from it to the proxy) as an environment variable. In the proxy it:

* gives each request's headers a deadline (``header_timeout_s``, ``408``) and a size bound
  (``max_header_bytes``, ``431``), by wrapping uvicorn's httptools protocol;
* reads each body in the proxy before any replica sees the request: within ``body_timeout_s`` (``408``), no
  further than ``max_body_bytes`` (``413`` the moment a streamed body passes it), with no more than
  ``max_inflight_bytes`` of bodies held for all requests together (``503``);
* refuses a body that is not ``application/json`` without reading it (``415``);
* answers every error in the JSON shape of the route's API (:func:`rerank_core.serving.wire.error_body`:
  Cohere's on its routes, TEI's elsewhere): the proxy's own plain-text answers are rewritten, and a request
  lost to a replica that died gets ``503`` instead of uvicorn's plain ``500``.

Each refusal carries ``Connection: close`` and nothing more of that request is read. The same body rules are
applied again by the ingress replica (:func:`read_body`), so an app served by a Serve that was started
without this hook still refuses slow, large and non-JSON bodies, after the proxy has queued them.
"""

from __future__ import annotations

import asyncio
import http
import importlib
import json
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from rerank_core.serving.wire import ServeLimits, error_body

logger = logging.getLogger(__name__)

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CALLBACK_ENV = "RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH"
"""Ray Serve's hook: the import path of a function returning the proxy's Starlette middlewares."""
CALLBACK = "rerank_core.serving.proxy_guard:proxy_middlewares"
LIMITS_ENV = "CROSSRANK_SERVE_LIMITS"
"""The proxy's :class:`ServeLimits`, as JSON."""
PREVIOUS_CALLBACK_ENV = "CROSSRANK_PREVIOUS_PROXY_CALLBACK"
"""A proxy callback that was configured before crossrank's: its middlewares are kept, inside the guard."""

ERROR_KINDS: dict[int, str] = {
    400: "InvalidRequest",
    404: "NotFound",
    405: "MethodNotAllowed",
    408: "RequestTimeout",
    413: "InvalidRequest",
    415: "UnsupportedMediaType",
    422: "InvalidRequest",
    429: "ServiceUnavailable",
    431: "InvalidRequest",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
"""The ``kind`` of the errors that do not come from a ``rerank_core.errors`` class."""

LOST_DETAIL = (
    "The request was lost before it was answered (the replica handling it stopped); it was not answered, "
    "so it is safe to send it again."
)


def error_kind(status: int) -> str:
    """The ``kind`` of an error for an HTTP status: ``NotFound`` for 404, ``InternalError`` for 500..."""
    if status in ERROR_KINDS:
        return ERROR_KINDS[status]
    try:
        return "".join(http.HTTPStatus(status).phrase.title().split())
    except ValueError:
        return "InternalError" if status >= 500 else "InvalidRequest"


def error_json(path: str, status: int, kind: str, detail: str) -> bytes:
    """The error body of a request to ``path``, in its API's shape."""
    return json.dumps(error_body(path, status, kind, detail)).encode()


class Refusal(Exception):
    """A request refused before it reaches the model: its status, ``error`` kind and detail."""

    def __init__(self, status: int, detail: str, kind: str | None = None, *, close: bool = True) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind or error_kind(status)
        self.detail = detail
        self.close = close

    def headers(self, body: bytes) -> list[tuple[bytes, bytes]]:
        """The answer's headers: JSON, its length, ``Connection: close`` when the rest is not to be read."""
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        if self.close:
            headers.append((b"connection", b"close"))
        if self.status == 503:
            headers.append((b"retry-after", b"1"))
        return headers

    def body(self, path: str) -> bytes:
        """The answer's body, in the shape of ``path``'s API."""
        return error_json(path, self.status, self.kind, self.detail)

    async def send(self, send: Send, path: str) -> None:
        """Answer a request to ``path`` with this refusal over ASGI."""
        body = self.body(path)
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers(body)})
        await send({"type": "http.response.body", "body": body, "more_body": False})


class ClientGone(Exception):
    """The client disconnected before its body arrived."""


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a request announces a body (a non-zero ``Content-Length`` or a chunked transfer)."""
    length = _header(headers, b"content-length")
    return _header(headers, b"transfer-encoding") is not None or (length is not None and length.strip() != b"0")


def check_content_type(headers: list[tuple[bytes, bytes]]) -> None:
    """Refuse (``415``) a body that is not ``application/json``: browsers may post text/plain or forms anywhere."""
    value = (_header(headers, b"content-type") or b"").decode("latin-1")
    media = value.split(";", 1)[0].strip().lower()
    if media != "application/json":
        shown = f"{value.strip()!r}" if value.strip() else "none"
        raise Refusal(415, f"Only application/json request bodies are accepted, got content-type {shown}.")


def too_large(limit: int) -> Refusal:
    return Refusal(
        413, f"The request body is larger than this server's limit of {limit} bytes (max_body_bytes).", "InvalidRequest"
    )


def check_declared_length(headers: list[tuple[bytes, bytes]], limit: int) -> None:
    """Refuse (``413``) a body whose ``Content-Length`` is over ``limit``, before reading any of it."""
    declared = (_header(headers, b"content-length") or b"").strip()
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)


async def read_body(
    receive: Receive, limit: int, timeout_s: float, on_chunk: Callable[[int], None] | None = None
) -> bytes:
    """The request body, read within ``timeout_s`` and no further than ``limit`` bytes.

    Raises:
        Refusal: ``413`` as soon as the body passes ``limit``, ``408`` when it is not all there in time
            (or what ``on_chunk``, called with each chunk's size before it is kept, raises).
        ClientGone: the client disconnected.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                if on_chunk is not None:
                    on_chunk(len(chunk))
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise Refusal(
            408, f"The request body did not arrive within {timeout_s:g} s (body_timeout_s); the connection is closed."
        ) from None
    return b"".join(chunks)


class _JsonErrors:
    """An ASGI ``send`` that rewrites error answers that are not JSON into the JSON shape of ``path``'s API."""

    def __init__(self, send: Send, path: str) -> None:
        self.send = send
        self.path = path
        self.started = False
        self.pending: Message | None = None
        self.text = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            content_type = (_header(headers, b"content-type") or b"").split(b";")[0].strip().lower()
            if message["status"] >= 400 and content_type != b"application/json":
                self.pending = {**message, "headers": headers}
                return
        elif message["type"] == "http.response.body" and self.pending is not None:
            if len(self.text) < 2000:
                self.text += message.get("body", b"")[:2000]
            if message.get("more_body", False):
                return
            await self.flush()
            return
        await self.send(message)

    async def flush(self) -> None:
        """Send the rewritten error answer held back so far."""
        if self.pending is None:
            return
        status = self.pending["status"]
        detail = self.text.decode("utf-8", "replace").strip() or http.HTTPStatus(status).phrase
        body = error_json(self.path, status, error_kind(status), detail)
        dropped = (b"content-type", b"content-length", b"transfer-encoding")
        headers = [(k, v) for k, v in self.pending["headers"] if k.lower() not in dropped]
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        self.pending = None
        await self.send({"type": "http.response.start", "status": status, "headers": headers})
        await self.send({"type": "http.response.body", "body": body, "more_body": False})


class ProxyGuard:
    """ASGI middleware for Ray Serve's proxy: body deadline and bounds, JSON only, errors in one shape.

    Args:
        app: The proxy's ASGI app.
        limits: The :class:`ServeLimits` (or their dict) to apply.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], limits: ServeLimits | dict[str, Any]) -> None:
        self.app = app
        self.limits = ServeLimits.model_validate(limits)
        self.inflight = 0
        """Bytes of request bodies held right now, all requests together."""

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        reply = _JsonErrors(send, path)
        held = 0

        def hold(size: int) -> None:
            nonlocal held
            if self.inflight + size > self.limits.max_inflight_bytes:
                raise Refusal(
                    503,
                    f"The server already holds its limit of {self.limits.max_inflight_bytes} bytes of request "
                    "bodies (max_inflight_bytes); retry shortly.",
                )
            self.inflight += size
            held += size

        try:
            headers = [(bytes(k), bytes(v)) for k, v in scope.get("headers", [])]
            if has_body(headers):
                check_content_type(headers)
                check_declared_length(headers, self.limits.max_body_bytes)
                body = await read_body(receive, self.limits.max_body_bytes, self.limits.body_timeout_s, hold)
                receive = _replay(body, receive)
            try:
                await self.app(scope, receive, reply)
            except Exception:
                logger.exception("The proxy failed on a request.")
                if not reply.started:
                    await Refusal(500, "The server failed on this request.", close=False).send(send, path)
                    return
            await reply.flush()
            if not reply.started:
                await Refusal(503, LOST_DETAIL, close=False).send(send, path)
        except Refusal as refusal:
            await refusal.send(send, path)
        except ClientGone:
            pass
        finally:
            self.inflight -= held


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the whole body at once, then waits on the connection as the real one does."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def serve_start_options(host: str = "127.0.0.1", port: int = 8000, limits: ServeLimits | None = None) -> dict[str, Any]:
    """``serve.start`` keyword arguments that listen on ``host:port`` with the proxy guard of ``limits``.

    Ray reads them only when Serve starts: a Serve already running in the cluster keeps its own proxy.
    """
    limits = limits or ServeLimits()
    env = {CALLBACK_ENV: CALLBACK, LIMITS_ENV: limits.model_dump_json()}
    previous = os.environ.get(CALLBACK_ENV)
    if previous and previous != CALLBACK:
        env[PREVIOUS_CALLBACK_ENV] = previous
    return {
        "http_options": {"host": host, "port": port},
        "controller_options": {"runtime_env": {"env_vars": env}},
    }


def proxy_middlewares() -> list[Any]:
    """Ray Serve's proxy callback: install the header deadline and return the guard (after any earlier ones)."""
    from starlette.middleware import Middleware

    limits = ServeLimits.model_validate_json(os.environ.get(LIMITS_ENV) or "{}")
    install_header_guard(limits)
    middlewares: list[Any] = []
    previous = os.environ.get(PREVIOUS_CALLBACK_ENV)
    if previous:
        middlewares.extend(_import(previous)() or [])
    middlewares.append(Middleware(ProxyGuard, limits=limits.model_dump()))  # the last one is the outermost
    return middlewares


def _import(path: str) -> Any:
    """``module:attr`` or ``module.attr``."""
    module, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


GuardedHTTPProtocol: type | None = None
"""uvicorn's httptools protocol with the header deadline and size bound, once :func:`install_header_guard` ran."""


def install_header_guard(limits: ServeLimits) -> bool:
    """Make uvicorn's ``http="auto"`` protocol (what Ray's proxy uses) bound the time and size of headers.

    Returns ``False`` (and logs why) when uvicorn's automatic choice is not httptools, whose parser this wraps.
    """
    global GuardedHTTPProtocol
    from uvicorn import config as uvicorn_config
    from uvicorn.importer import import_from_string

    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        logger.warning("httptools is not installed: request headers have no deadline in this proxy.")
        return False
    base = import_from_string(uvicorn_config.HTTP_PROTOCOLS["auto"])
    if getattr(base, "_crossrank_guarded", False):
        base = base.__mro__[1]
    if not issubclass(base, HttpToolsProtocol):
        logger.warning("uvicorn's HTTP protocol is %s, not httptools: request headers have no deadline.", base)
        return False
    GuardedHTTPProtocol = _guarded_protocol(base, limits.header_timeout_s, limits.max_header_bytes)
    uvicorn_config.HTTP_PROTOCOLS["auto"] = f"{__name__}:GuardedHTTPProtocol"
    return True


def _guarded_protocol(base: type, timeout_s: float, max_bytes: int) -> type:
    """A subclass of uvicorn's ``HttpToolsProtocol`` whose requests must send their headers in time and size."""
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE

    class Guarded(base):
        _crossrank_guarded = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._guard_timer: asyncio.TimerHandle | None = None
            self._guard_bytes = 0
            self._guard_completed = False
            self._guard_refused = False

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._guard_arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._guard_disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            in_headers = self.cycle is None or self.cycle.response_complete
            self._guard_completed = False
            super().data_received(data)
            if self.transport.get_protocol() is not self:
                self._guard_disarm()  # upgraded to a WebSocket
                return
            if self._guard_refused or self.transport.is_closing():
                return
            if self._guard_completed:
                self._guard_bytes = 0
            elif in_headers:  # counted here: the parser holds a header's value until it ends
                self._guard_bytes += len(data)
                if self._guard_bytes > max_bytes:
                    self._guard_refuse(
                        431,
                        f"The request headers are larger than this server's limit of {max_bytes} bytes "
                        "(max_header_bytes).",
                    )
                    return
            if self.cycle is None or self.cycle.response_complete:
                self._guard_arm()  # between requests: any byte (even a stray CRLF) starts the next one's deadline

        def on_headers_complete(self) -> None:
            self._guard_disarm()
            self._guard_completed = True
            super().on_headers_complete()

        def send_400_response(self, msg: str) -> None:
            if not self._guard_refused:
                self._guard_refuse(400, f"Malformed HTTP request: {msg}")

        def _guard_arm(self) -> None:
            if self._guard_timer is None and not self._guard_refused:
                self._guard_timer = self.loop.call_later(timeout_s, self._guard_expired)

        def _guard_disarm(self) -> None:
            if self._guard_timer is not None:
                self._guard_timer.cancel()
                self._guard_timer = None

        def _guard_expired(self) -> None:
            self._guard_timer = None
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                return
            if self.cycle is not None and not self.cycle.response_complete:
                self._guard_arm()  # a pipelined request waits for the answer before it; look again later
                return
            self._guard_refuse(
                408,
                f"The request headers did not arrive within {timeout_s:g} s (header_timeout_s); "
                "the connection is closed.",
            )

        def _guard_path(self) -> str:
            """The path of the request being read, as far as it arrived (an error's shape follows its API)."""
            url = getattr(self, "url", None) or b""
            return bytes(url).split(b"?", 1)[0].decode("latin-1")

        def _guard_refuse(self, status: int, detail: str) -> None:
            self._guard_refused = True
            self._guard_disarm()
            body = error_json(self._guard_path(), status, error_kind(status), detail)
            content = [STATUS_LINE[status]]
            for name, value in self.server_state.default_headers:
                content.extend([name, b": ", value, b"\r\n"])
            content.extend(
                [
                    b"content-type: application/json\r\n",
                    b"content-length: %d\r\n" % len(body),
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
            if not self.transport.is_closing():
                self.transport.write(b"".join(content))
                self.transport.close()

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{base.__name__}"
    return Guarded
