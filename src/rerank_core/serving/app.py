"""A served reranker on Ray Serve: TEI's ``POST /rerank``, Cohere's ``POST /v2/rerank`` and ``/v1/rerank``,
``GET /health`` and ``GET /metrics``, with concurrent requests merged.

Two deployments. The ingress (:class:`RerankIngress`, many cheap concurrent slots, no model) checks the API key,
reads each body within a deadline and a size bound, parses and validates it in its route's schema
(:mod:`rerank_core.serving.wire`) and checks the request budget; only a request that passes all of it reaches a
scoring replica (:class:`RerankScorer`, one loaded :class:`CrossEncoderScorer` each), through a
``DeploymentHandle``. Bad requests get a 4xx naming the problem, never a 500, each in its API's error shape.
Scoring replicas wait up to ``merge_wait_ms`` in ``@serve.batch`` so that concurrent requests of every API share
length-sorted model batches of at most ``max_merged_pairs`` pairs. Start it with ``crossrank serve``, or with
``serve.start(**serve_start_options(...))`` then ``serve.run(build_app(...))`` (the options add the proxy guard
of :mod:`rerank_core.serving.proxy_guard`); call it with :class:`rerank_core.RemoteScorer`, the Cohere SDK or a
TEI client.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations as live objects.
import asyncio
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np

from rerank_core.engine.activation import Activation
from rerank_core.errors import InvalidArgumentError, MissingDependencyError, RerankError
from rerank_core.scorer import DEFAULT_MODEL, CrossEncoderScorer
from rerank_core.serving.wire import (
    COHERE_PATHS,
    CohereError,
    CohereRerankRequest,
    CohereRerankResponse,
    CohereV1RerankRequest,
    RerankJob,
    ServeLimits,
    TeiError,
    TeiRerankRequest,
    TeiRerankResponse,
    error_body,
)
from rerank_core.validation import check_positive_int

try:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import JSONResponse, Response
    from pydantic import BaseModel, ValidationError
    from ray import serve
    from ray.exceptions import ActorUnavailableError, RayActorError
    from ray.serve import Application, Deployment
    from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError
    from ray.serve.handle import DeploymentHandle
    from starlette.exceptions import HTTPException

    from rerank_core.serving.metrics import ServeMetrics
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

M = TypeVar("M", bound=BaseModel)

LOST_ERRORS = (RayActorError, ActorUnavailableError, DeploymentUnavailableError, BackPressureError)
"""What a handle call raises when the scoring replica died, is unreachable or is overloaded: answered 503."""

ERROR_STATUSES = {
    401: "The API key is missing or wrong (a server started with --api-key).",
    408: "The body did not arrive within body_timeout_s.",
    413: "The body or the request's budget (documents, pairs, characters) is over a limit.",
    415: "The body is not application/json.",
    422: "The body is not a valid request (bad JSON, a duplicate key, a wrong field, a blank query).",
    503: "No scoring replica could answer (it died or is overloaded); the request may be sent again.",
}


def _responses(error: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """A route's documented error answers, in ``error``'s shape."""
    return {status: {"model": error, "description": text} for status, text in ERROR_STATUSES.items()}


def _body(model: type[BaseModel]) -> dict[str, Any]:
    """A route's documented request body (the routes read the raw body themselves, within its bounds)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


api = FastAPI(
    title="crossrank",
    summary="Cross-encoder reranking over HTTP, in TEI's and Cohere's schemas.",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)


def _rerank_route(path: str, request: type[BaseModel], answer: type[BaseModel], error: type[BaseModel]) -> Any:
    """``POST path``, documented with its request body, its answer and its errors in ``error``'s shape."""
    return api.post(path, response_model=answer, responses=_responses(error), openapi_extra=_body(request))


# Ray Serve serialises the routes when the class below is decorated: every helper they call is defined above it.


def _error(path: str, status: int, kind: str, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(path, status, kind, detail), status_code=status, headers=headers)


@api.exception_handler(HTTPException)
async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """404, 405 and FastAPI's other HTTP errors, in the route's error shape (``Allow`` kept)."""
    return _error(request.url.path, exc.status_code, error_kind(exc.status_code), str(exc.detail), exc.headers)


@api.exception_handler(RequestValidationError)
async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    return _error(request.url.path, 422, "InvalidRequest", str(exc))


@api.exception_handler(Exception)
async def _failed(request: Request, exc: Exception) -> JSONResponse:
    detail = f"The server failed on this request ({type(exc).__name__})."
    return _error(request.url.path, 500, "InternalError", detail)


def _pairs(groups: list[tuple[str, list[str], str | None]]) -> int:
    """The size of a shared batch: its (query, document) pairs."""
    return sum(len(texts) for _, texts, _ in groups)


def _validation_message(exc: ValidationError) -> str:
    """Pydantic's errors as one line per field: ``texts.2: Input should be a valid string``."""
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


def parse_request(body: bytes, model: type[M]) -> M:
    """A body as a ``model`` request: UTF-8 JSON, no duplicate keys, the model's fields.

    Raises:
        Refusal: ``422`` naming the problem.
    """
    try:
        data = json.loads(body.decode("utf-8"), object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise Refusal(422, str(exc), "InvalidRequest", close=False) from None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Refusal(422, f"Bad request body: not UTF-8 JSON ({exc}).", "InvalidRequest", close=False) from None
    if not isinstance(data, dict):
        raise Refusal(422, "Bad request body: a JSON object is expected.", "InvalidRequest", close=False)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Refusal(422, _validation_message(exc), "InvalidRequest", close=False) from None


def check_budget(query: str, candidates: Sequence[str], limits: ServeLimits) -> None:
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


def _lost(path: str, exc: BaseException) -> JSONResponse:
    return _error(path, 503, "ServiceUnavailable", f"{LOST_DETAIL} ({type(exc).__name__})", {"retry-after": "1"})


def key_matches(authorization: str | None, keys: Sequence[bytes]) -> bool:
    """Whether an ``Authorization`` header is ``Bearer <one of keys>``, compared in constant time (every key is
    compared, whichever matches)."""
    scheme, _, given = (authorization or "").partition(" ")
    offered = given.strip().encode("utf-8", "surrogateescape")
    matches = [hmac.compare_digest(offered, key) for key in keys]
    return scheme.lower() == "bearer" and any(matches)


def check_api_keys(keys: object) -> list[str]:
    """The API keys as a list: each a non-blank string of visible ASCII (``InvalidArgumentError`` otherwise; the
    keys are never shown)."""
    if isinstance(keys, str) or not isinstance(keys, Sequence):
        raise InvalidArgumentError("api_keys must be a sequence of strings (a single key goes in a list).")
    for i, key in enumerate(keys):
        if not isinstance(key, str) or not key or not all("!" <= char <= "~" for char in key):
            raise InvalidArgumentError(f"api_keys[{i}] must be a non-empty string of visible ASCII without spaces.")
    return list(keys)


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


@dataclass(frozen=True)
class Scored:
    """A scoring replica's answer to one request: its scores, or the input error that refused it."""

    scores: np.ndarray | None
    batch_pairs: int = 0
    """The pairs of the shared batch it was scored in, given to one request per batch (0 for the others)."""
    error: tuple[int, str, str] | None = None
    """``(HTTP status, rerank_core.errors class name, message)`` of a refused request."""


@serve.deployment(max_ongoing_requests=64)
class RerankScorer:
    """One scoring replica: a loaded scorer; concurrent requests' pairs share model batches."""

    def __init__(self, model: str, scorer_options: dict[str, Any], max_merged_pairs: int, merge_wait_ms: float) -> None:
        keep_replica_grpc_on_loopback()
        self.activation: Activation = scorer_options.get("activation", "sigmoid")
        # Scores are kept raw and activated per request: TEI's raw_scores asks for the logits.
        self.scorer = CrossEncoderScorer(model, **{**scorer_options, "activation": "none"}).load()
        self.scorer.activated(np.zeros(1, dtype=np.float32), self.activation)  # a family without calibration fails here
        batch = cast(Any, self.shared_batch)  # @serve.batch adds these setters; its type hints do not say so
        batch.set_max_batch_size(max_merged_pairs)
        batch.set_batch_wait_timeout_s(merge_wait_ms / 1000)
        self.requests_scored = 0
        self.batches_run = 0
        self.requests_in_flight = 0

    async def score(self, job: RerankJob, texts: list[str]) -> Scored:
        """The scores of ``texts`` (the job's candidates, already validated by the ingress), in their order."""
        self.requests_in_flight += 1
        try:
            if not job.truncate:
                refused = await self._refused_if_too_long(job, texts)
                if refused is not None:
                    return refused
            if job.max_tokens_per_doc is not None:
                texts = self.scorer.first_tokens(texts, job.max_tokens_per_doc)
            scored = await self.shared_batch((job.query, texts, job.instruction))
            if scored.scores is None or job.raw_scores:
                return scored
            return Scored(self.scorer.activated(scored.scores, self.activation), scored.batch_pairs)
        finally:
            self.requests_in_flight -= 1

    async def _refused_if_too_long(self, job: RerankJob, texts: list[str]) -> Scored | None:
        """TEI's ``truncate=false``: a 413 when a text does not fit the model's window whole beside the query."""
        try:
            over = await asyncio.to_thread(self.scorer.overflowing, job.query, texts, instruction=job.instruction)
        except RerankError as exc:
            return Scored(None, error=(422, type(exc).__name__, str(exc)))
        if not over:
            return None
        detail = (
            f"Input validation error: truncate=false, and {over} of {len(texts)} texts do not fit the model's "
            f"{self.scorer.max_length_used}-token window beside the query; shorten them, or send truncate=true to "
            "read each text's start."
        )
        return Scored(None, error=(413, "InvalidTextError", detail))

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
    async def shared_batch(self, groups: list[tuple[str, list[str], str | None]]) -> list[Scored]:
        """Score concurrent requests' pairs together (one call per instruction), in a worker thread so the
        replica keeps answering; a request refused by the model (an instruction it does not take) fails alone."""
        answers: list[Scored | None] = [None] * len(groups)
        for instruction in dict.fromkeys(instruction for _, _, instruction in groups):
            members = [i for i, group in enumerate(groups) if group[2] == instruction]
            pairs = [(groups[i][0], groups[i][1]) for i in members]
            try:
                scores = await asyncio.to_thread(self.scorer.score_groups, pairs, instruction=instruction)
            except RerankError as exc:
                for i in members:
                    answers[i] = Scored(None, error=(422, type(exc).__name__, str(exc)))
                continue
            for i, group_scores in zip(members, scores):
                answers[i] = Scored(group_scores)
        self.requests_scored += len(groups)
        self.batches_run += 1
        first = answers[0]
        if first is not None:
            answers[0] = Scored(first.scores, _pairs(groups), first.error)
        return [answer for answer in answers if answer is not None]


@serve.deployment(max_ongoing_requests=1024, ray_actor_options={"num_cpus": 0})
@serve.ingress(api)
class RerankIngress:
    """The HTTP side: checks the key, reads, validates and budgets each request, then has a scoring replica
    score it and answers in the route's schema."""

    def __init__(self, scorer: DeploymentHandle, model: str, limits: dict[str, Any], api_keys: list[str]) -> None:
        keep_replica_grpc_on_loopback()
        self.scorer = scorer
        self.model = model
        self.limits = ServeLimits(**limits)
        self.api_keys = [key.encode("utf-8", "surrogateescape") for key in api_keys]
        self.meters = ServeMetrics()

    @api.get("/health", responses={503: _responses(TeiError)[503]})
    async def health(self) -> Any:
        """The model served, its precision, and the requests and shared batches the replica asked has scored.
        Never needs an API key."""
        started = time.perf_counter()
        try:
            stats = await self.scorer.stats.remote()
            answer: Any = {"status": "ok", **stats}
        except LOST_ERRORS as exc:
            answer = _lost("/health", exc)
        self.meters.answered("/health", getattr(answer, "status_code", 200), time.perf_counter() - started)
        return answer

    @api.get("/metrics", response_class=Response, responses={401: _responses(TeiError)[401]})
    async def metrics(self, request: Request) -> Response:
        """Prometheus metrics: requests by route and status, latency, pairs scored, shared batch sizes."""
        refused = self._unauthorized(request, "/metrics")
        if refused is not None:
            return refused
        return Response(self.meters.exposition(), media_type=self.meters.content_type)

    @api.get("/openapi.json", include_in_schema=False)
    async def openapi(self, request: Request) -> Response:
        """This API's OpenAPI document."""
        return self._unauthorized(request, "/openapi.json") or JSONResponse(request.app.openapi())

    @api.get("/docs", include_in_schema=False)
    async def docs(self, request: Request) -> Response:
        """Swagger UI over ``/openapi.json``."""
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(openapi_url=f"{root}/openapi.json", title="crossrank")
        return self._unauthorized(request, "/docs") or page

    @_rerank_route("/rerank", TeiRerankRequest, TeiRerankResponse, TeiError)
    async def rerank(self, request: Request) -> Any:
        """TEI's rerank: every text's ``{index, score}``, best first (crossrank's ``top_n`` and ``min_score`` cut);
        scores after the server's activation (sigmoid), or raw with ``raw_scores``."""
        return await self._answer(request, "/rerank", TeiRerankRequest)

    @_rerank_route("/v2/rerank", CohereRerankRequest, CohereRerankResponse, CohereError)
    async def cohere_v2(self, request: Request) -> Any:
        """Cohere's v2 rerank: ``{id, results: [{index, relevance_score}], meta}``, best first, at most ``top_n``."""
        return await self._answer(request, "/v2/rerank", CohereRerankRequest)

    @_rerank_route("/v1/rerank", CohereV1RerankRequest, CohereRerankResponse, CohereError)
    async def cohere_v1(self, request: Request) -> Any:
        """Cohere's v1 rerank: documents as strings or objects (``rank_fields``), ``return_documents``."""
        return await self._answer(request, "/v1/rerank", CohereV1RerankRequest)

    def _unauthorized(self, request: Request, path: str) -> JSONResponse | None:
        """``401`` in the route's shape when this server has keys and the request does not bear one of them."""
        if not self.api_keys or key_matches(request.headers.get("authorization"), self.api_keys):
            return None
        detail = "Missing or wrong API key: send the header 'Authorization: Bearer <key>'."
        return _error(path, 401, "Unauthorized", detail, {"www-authenticate": "Bearer"})

    async def _answer(self, request: Request, path: str, schema: type[TeiRerankRequest | CohereRerankRequest]) -> Any:
        """Check, parse, budget and score one request; the answer (or error) in ``schema``'s API, counted."""
        started = time.perf_counter()
        answer = await self._scored_answer(request, path, schema)
        self.meters.answered(path, answer.status_code, time.perf_counter() - started)
        return answer

    async def _scored_answer(
        self, request: Request, path: str, schema: type[TeiRerankRequest | CohereRerankRequest]
    ) -> JSONResponse:
        refused = self._unauthorized(request, path)
        if refused is not None:
            return refused
        try:
            req, job, candidates = await self._request(request, schema)
        except Refusal as refusal:
            headers = {"connection": "close"} if refusal.close else None
            return _error(path, refusal.status, refusal.kind, refusal.detail, headers)
        except ClientGone:
            return _error(path, 400, "InvalidRequest", "The client disconnected before its body arrived.")
        scores = np.empty(0)
        if candidates:
            try:
                scored = await self.scorer.score.remote(job, candidates)
            except LOST_ERRORS as exc:
                return _lost(path, exc)
            if scored.error is not None:
                return _error(path, *scored.error)
            scores = scored.scores
            self.meters.scored(len(candidates), scored.batch_pairs)
        ranked = job.spec.select(scores, len(candidates))
        if isinstance(req, CohereRerankRequest):
            return JSONResponse(req.answer(ranked, COHERE_PATHS[path]))
        return JSONResponse(req.answer(ranked))

    async def _request(
        self, request: Request, schema: type[TeiRerankRequest | CohereRerankRequest]
    ) -> tuple[TeiRerankRequest | CohereRerankRequest, RerankJob, list[str]]:
        """The validated request, what it asks and the texts to score, or a :class:`Refusal`."""
        limits = self.limits
        headers = list(request.scope.get("headers", []))
        check_content_type(headers)
        check_declared_length(headers, limits.max_body_bytes)
        body = await read_body(request.receive, limits.max_body_bytes, limits.body_timeout_s)
        req = parse_request(body, schema)
        del body
        job = req.job()
        if len(job.texts) > limits.max_documents:
            raise Refusal(
                413,
                f"{len(job.texts)} documents is more than this server's limit of {limits.max_documents} "
                "per request (max_documents); split the request.",
                "InvalidArgumentError",
                close=False,
            )
        try:
            candidates = list(job.spec.candidates(job.query, job.texts))
        except RerankError as exc:
            raise Refusal(422, str(exc), type(exc).__name__, close=False) from None
        check_budget(job.query, candidates, limits)
        return req, job, candidates


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
    api_keys: Sequence[str] = (),
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
        api_keys: With any, every route but ``/health`` needs ``Authorization: Bearer <one of them>`` (else 401).
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
    return ingress.bind(scorer, model, limits.model_dump(), check_api_keys(api_keys))
