"""A served reranker on Ray Serve: ``POST /rerank`` and ``GET /health``, with concurrent requests merged.

Two deployments. The ingress (:class:`RerankIngress`, many cheap concurrent slots, no model) reads each body
within a deadline and a size bound, parses and validates it and checks the request budget; only a request
that passes all of it reaches a scoring replica (:class:`RerankScorer`, one loaded
:class:`CrossEncoderScorer` each), through a ``DeploymentHandle``. Bad requests get a 4xx naming the
problem, never a 500, and every error is ``{"error", "detail"}`` JSON. Scoring replicas wait up to
``merge_wait_ms`` in ``@serve.batch`` so that concurrent requests share length-sorted model batches of at
most ``max_merged_pairs`` pairs. Start it with ``crossrank serve``, or with
``serve.start(**serve_start_options(...))`` then ``serve.run(build_app(...))`` (the options add the proxy
guard of :mod:`rerank_core.serving.proxy_guard`); call it with :class:`rerank_core.RemoteScorer`.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations as live objects.
import asyncio
import json
from collections.abc import Mapping
from typing import Any, cast

import numpy as np

from rerank_core.errors import InvalidArgumentError, MissingDependencyError, RerankError
from rerank_core.scorer import DEFAULT_MODEL, CrossEncoderScorer
from rerank_core.serving.wire import ErrorBody, RankedDocument, RerankRequest, RerankResponse, ServeLimits
from rerank_core.validation import check_positive_int

try:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import ValidationError
    from ray import serve
    from ray.exceptions import ActorUnavailableError, RayActorError
    from ray.serve import Application, Deployment
    from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError
    from ray.serve.handle import DeploymentHandle
    from starlette.exceptions import HTTPException
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without ray
    raise MissingDependencyError("ray[serve]", "ray", "crossrank serve runs on Ray Serve.") from exc

from rerank_core.serving.proxy_guard import (
    LOST_DETAIL,
    ClientGone,
    Refusal,
    check_content_type,
    check_declared_length,
    error_kind,
    read_body,
    serve_start_options,
)

__all__ = ["RerankIngress", "RerankScorer", "build_app", "serve_start_options"]

LOST_ERRORS = (RayActorError, ActorUnavailableError, DeploymentUnavailableError, BackPressureError)
"""What a handle call raises when the scoring replica died, is unreachable or is overloaded: answered 503."""

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        408: "The body did not arrive within body_timeout_s.",
        413: "The body or the request's budget (documents, pairs, characters) is over a limit.",
        415: "The body is not application/json.",
        422: "The body is not a valid request (bad JSON, a duplicate key, a wrong field).",
        503: "No scoring replica could answer (it died or is overloaded); the request may be sent again.",
    }.items()
}

api = FastAPI(title="crossrank", summary="Cross-encoder reranking over HTTP.")
# Ray Serve serialises the routes when the class below is decorated: every helper they call is defined above it.


def _error(status: int, kind: str, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(ErrorBody(error=kind, detail=detail).model_dump(), status_code=status, headers=headers)


@api.exception_handler(HTTPException)
async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """404, 405 and FastAPI's other HTTP errors, in the ``{"error", "detail"}`` shape (``Allow`` kept)."""
    return _error(exc.status_code, error_kind(exc.status_code), str(exc.detail), exc.headers)


@api.exception_handler(RequestValidationError)
async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    return _error(422, "InvalidRequest", str(exc))


@api.exception_handler(Exception)
async def _failed(request: Request, exc: Exception) -> JSONResponse:
    return _error(500, "InternalError", f"The server failed on this request ({type(exc).__name__}).")


def _pairs(groups: list[tuple[str, list[str]]]) -> int:
    """The size of a shared batch: its (query, document) pairs."""
    return sum(len(texts) for _, texts in groups)


def _validation_message(exc: ValidationError) -> str:
    """Pydantic's errors as one line per field: ``documents.2: Input should be a valid string``."""
    lines = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "body"
        lines.append(f"{where}: {error['msg']}")
    return "Bad request body: " + "; ".join(lines)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members, refusing a key given twice (JSON parsers disagree on which one wins)."""
    members: dict[str, Any] = {}
    for key, value in pairs:
        if key in members:
            raise _DuplicateKey(f"Bad request body: the key {key!r} appears more than once.")
        members[key] = value
    return members


def parse_request(body: bytes) -> RerankRequest:
    """A ``/rerank`` body as a :class:`RerankRequest`: UTF-8 JSON, no duplicate keys, the model's fields.

    Raises:
        Refusal: ``422`` naming the problem.
    """
    try:
        data = json.loads(body.decode("utf-8"), object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise Refusal(422, str(exc), "InvalidRequest", close=False) from None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Refusal(422, f"Bad request body: not UTF-8 JSON ({exc}).", "InvalidRequest", close=False) from None
    try:
        return RerankRequest.model_validate(data)
    except ValidationError as exc:
        raise Refusal(422, _validation_message(exc), "InvalidRequest", close=False) from None


def check_budget(query: str, candidates: list[str], limits: ServeLimits) -> None:
    """Refuse (``413``, naming the limit) a request whose pairs or characters are over the per-request budget."""
    pairs = len(candidates)
    if pairs > limits.max_pairs:
        raise Refusal(
            413,
            f"{pairs} (query, document) pairs to score is more than this server's limit of {limits.max_pairs} "
            "per request (max_pairs); split the request or lower rank_window_size.",
            "InvalidArgumentError",
            close=False,
        )
    chars = len(query) * pairs + sum(len(text) for text in candidates)
    if chars > limits.max_total_chars:
        raise Refusal(
            413,
            f"This request has {chars} characters to score (the query counted once per document), more than "
            f"this server's limit of {limits.max_total_chars} per request (max_total_chars); shorten the query "
            "or the documents, or split the request.",
            "InvalidArgumentError",
            close=False,
        )


def _lost(exc: BaseException) -> JSONResponse:
    return _error(503, "ServiceUnavailable", f"{LOST_DETAIL} ({type(exc).__name__})", {"retry-after": "1"})


def keep_replica_grpc_on_loopback() -> bool:
    """On a Ray whose node address is loopback (as ``crossrank serve`` starts it), keep this replica there too.

    Ray Serve 2.60 opens each replica's inter-deployment gRPC server on ``[::]:0``, every interface, whatever
    the node's address (``ray/serve/_private/replica.py``). Called from a replica's constructor, which runs
    before that server starts, this makes it listen on ``127.0.0.1``. Returns whether it did.
    """
    import ray
    import ray.serve._private.replica as replica_module

    original = getattr(replica_module, "add_port_to_grpc_server", None)
    if original is None or ray.util.get_node_ip_address() != "127.0.0.1":
        return False
    if getattr(original, "_crossrank_loopback", False):
        return True

    def on_loopback(server: Any, address: str) -> Any:
        return original(server, "127.0.0.1:" + address[5:] if address.startswith("[::]:") else address)

    on_loopback._crossrank_loopback = True  # type: ignore[attr-defined]
    replica_module.add_port_to_grpc_server = on_loopback
    return True


@serve.deployment(max_ongoing_requests=64)
class RerankScorer:
    """One scoring replica: a loaded scorer; concurrent requests' pairs share model batches."""

    def __init__(self, model: str, scorer_options: dict[str, Any], max_merged_pairs: int, merge_wait_ms: float) -> None:
        keep_replica_grpc_on_loopback()
        self.scorer = CrossEncoderScorer(model, **scorer_options).load()
        batch = cast(Any, self.shared_batch)  # @serve.batch adds these setters; its type hints do not say so
        batch.set_max_batch_size(max_merged_pairs)
        batch.set_batch_wait_timeout_s(merge_wait_ms / 1000)
        self.requests_scored = 0
        self.batches_run = 0
        self.requests_in_flight = 0

    async def score(self, query: str, texts: list[str]) -> np.ndarray:
        """The scores of ``texts`` against ``query``, in their order (already validated by the ingress)."""
        self.requests_in_flight += 1
        try:
            return await self.shared_batch((query, texts))
        finally:
            self.requests_in_flight -= 1

    def stats(self) -> dict[str, Any]:
        """The model, its precision, the requests and shared batches scored and the requests being scored."""
        return {
            "model": self.scorer.model_name_or_path,
            "precision": self.scorer.precision_used,
            "requests_scored": self.requests_scored,
            "batches_run": self.batches_run,
            "requests_in_flight": self.requests_in_flight,
        }

    @serve.batch(max_batch_size=1024, batch_wait_timeout_s=0.01, batch_size_fn=_pairs)
    async def shared_batch(self, groups: list[tuple[str, list[str]]]) -> list[np.ndarray]:
        """Score concurrent requests' pairs together, in a worker thread so the replica keeps answering."""
        scores = await asyncio.to_thread(self.scorer.score_groups, groups)
        self.requests_scored += len(groups)
        self.batches_run += 1
        return scores


@serve.deployment(max_ongoing_requests=1024, ray_actor_options={"num_cpus": 0})
@serve.ingress(api)
class RerankIngress:
    """The HTTP side: reads, validates and budgets each request, then has a scoring replica score it."""

    def __init__(self, scorer: DeploymentHandle, model: str, limits: dict[str, Any]) -> None:
        keep_replica_grpc_on_loopback()
        self.scorer = scorer
        self.model = model
        self.limits = ServeLimits(**limits)

    @api.get("/health", responses={503: ERROR_RESPONSES[503]})
    async def health(self) -> Any:
        """The model served, its precision, and the requests and shared batches the replica asked has scored."""
        try:
            stats = await self.scorer.stats.remote()
        except LOST_ERRORS as exc:
            return _lost(exc)
        return {"status": "ok", **stats}

    @api.post(
        "/rerank",
        response_model=RerankResponse,
        responses=ERROR_RESPONSES,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": RerankRequest.model_json_schema()}},
            }
        },
    )
    async def rerank(self, request: Request) -> Any:
        """Rank ``documents`` against ``query``: indices into ``documents`` and scores, best first."""
        try:
            req, candidates = await self._request(request)
        except Refusal as refusal:
            headers = {"connection": "close"} if refusal.close else None
            return _error(refusal.status, refusal.kind, refusal.detail, headers)
        except ClientGone:
            return _error(400, "InvalidRequest", "The client disconnected before its body arrived.")
        if candidates:
            try:
                scores = await self.scorer.score.remote(req.query, candidates)
            except LOST_ERRORS as exc:
                return _lost(exc)
        else:
            scores = np.empty(0)
        ranked = req.select(scores, len(candidates))
        results = [RankedDocument(index=hit.index, score=hit.score) for hit in ranked]
        return RerankResponse(model=self.model, results=results)

    async def _request(self, request: Request) -> tuple[RerankRequest, list[str]]:
        """The validated request and the documents to score, or a :class:`Refusal`."""
        limits = self.limits
        headers = list(request.scope.get("headers", []))
        check_content_type(headers)
        check_declared_length(headers, limits.max_body_bytes)
        body = await read_body(request.receive, limits.max_body_bytes, limits.body_timeout_s)
        req = parse_request(body)
        del body
        if len(req.documents) > limits.max_documents:
            raise Refusal(
                413,
                f"{len(req.documents)} documents is more than this server's limit of {limits.max_documents} "
                "per request (max_documents); split the request.",
                "InvalidArgumentError",
                close=False,
            )
        try:
            candidates = req.candidates(req.query, req.documents)
        except RerankError as exc:
            raise Refusal(422, str(exc), type(exc).__name__, close=False) from None
        candidates = list(candidates)
        check_budget(req.query, candidates, limits)
        return req, candidates


def build_app(
    model: str = DEFAULT_MODEL,
    *,
    replicas: int = 1,
    min_replicas: int | None = None,
    max_replicas: int | None = None,
    max_merged_pairs: int = 1024,
    merge_wait_ms: float = 10.0,
    max_ongoing_requests: int = 64,
    limits: ServeLimits | None = None,
    num_cpus: float = 1.0,
    num_gpus: float = 0.0,
    ingress_replicas: int = 1,
    ingress_max_ongoing_requests: int = 1024,
    **scorer_options: Any,
) -> Application:
    """The Ray Serve application of ``crossrank serve``, for ``serve.run``.

    Args:
        model: A Hugging Face model id or a folder every replica can read.
        replicas: Fixed number of scoring replicas (ignored when ``min_replicas``/``max_replicas`` turn on
            autoscaling).
        min_replicas: With ``max_replicas``, autoscale scoring replicas between the two on ongoing requests.
        max_merged_pairs: The most (query, document) pairs merged into one shared batch; at least the pairs
            one request may have (``limits.max_documents`` and ``limits.max_pairs``) so any valid request fits.
        merge_wait_ms: How long a request waits for others to share its batch.
        max_ongoing_requests: Requests a scoring replica holds at once (queued in its batch or being scored).
        limits: Per-request bounds (documents, pairs, characters, body bytes, deadlines).
        num_cpus: CPUs reserved per scoring replica (PyTorch uses that many threads).
        num_gpus: GPUs per scoring replica (set ``device="cuda"`` in ``scorer_options`` to use them).
        ingress_replicas: Replicas of the HTTP ingress (no model, no CPU reserved).
        ingress_max_ongoing_requests: Requests an ingress replica holds at once (reading, validating, waiting
            for a scoring replica).
        **scorer_options: :class:`CrossEncoderScorer` options (``backend``, ``precision``, ``device``, ...).
    """
    limits = limits or ServeLimits()
    CrossEncoderScorer(model, **scorer_options)  # a bad option fails here, not in a replica
    pairs_per_request = min(limits.max_documents, limits.max_pairs)
    if max_merged_pairs < pairs_per_request:
        name = "max_documents" if limits.max_documents <= limits.max_pairs else "max_pairs"
        raise InvalidArgumentError(
            f"max_merged_pairs ({max_merged_pairs}) must be at least {name} ({pairs_per_request}), "
            "so that every accepted request fits in one shared batch."
        )
    if limits.max_inflight_bytes < limits.max_body_bytes:
        raise InvalidArgumentError(
            f"max_inflight_bytes ({limits.max_inflight_bytes}) must be at least max_body_bytes "
            f"({limits.max_body_bytes}), so that a body of the largest size can be accepted."
        )
    if (min_replicas is None) != (max_replicas is None):
        raise InvalidArgumentError("Autoscaling needs both min_replicas and max_replicas.")
    scaling: dict[str, Any] = {"num_replicas": check_positive_int("replicas", replicas)}
    if min_replicas is not None and max_replicas is not None:
        if not 0 < min_replicas <= max_replicas:
            raise InvalidArgumentError(f"Need 0 < min_replicas <= max_replicas, got {min_replicas}, {max_replicas}.")
        scaling = {"autoscaling_config": {"min_replicas": min_replicas, "max_replicas": max_replicas}}
    # @serve.deployment turns each class into a Deployment; its type hints keep the class's own type.
    scorer = (
        cast(Deployment, RerankScorer)
        .options(
            **scaling,
            max_ongoing_requests=check_positive_int("max_ongoing_requests", max_ongoing_requests),
            ray_actor_options={"num_cpus": num_cpus, "num_gpus": num_gpus},
        )
        .bind(model, scorer_options, max_merged_pairs, merge_wait_ms)
    )
    ingress = cast(Deployment, RerankIngress).options(
        num_replicas=check_positive_int("ingress_replicas", ingress_replicas),
        max_ongoing_requests=check_positive_int("ingress_max_ongoing_requests", ingress_max_ongoing_requests),
    )
    return ingress.bind(scorer, model, limits.model_dump())
