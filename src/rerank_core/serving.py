"""A served reranker on Ray Serve: ``POST /rerank`` and ``GET /health``, with concurrent requests merged.

Each replica loads one :class:`CrossEncoderScorer`. Requests are validated before they reach the model
(bad ones get a 4xx naming the problem, never a 500); valid ones wait up to ``batch_wait_ms`` in
``@serve.batch`` so that concurrent requests share length-sorted model batches of at most
``max_batch_pairs`` pairs. Start it with ``crossrank serve`` or ``serve.run(build_app(...))``; call it with
:class:`rerank_core.RemoteScorer`.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations as live objects.
import asyncio
from typing import Any

import numpy as np

from .errors import InvalidArgumentError, MissingDependencyError, RerankError
from .ranking import candidates_to_score, ranked_from_scores
from .rerank_api import ErrorBody, RankedDocument, RerankRequest, RerankResponse, ServeLimits
from .scorer import DEFAULT_MODEL, CrossEncoderScorer
from .validation import check_positive_int

try:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from pydantic import ValidationError
    from ray import serve
    from ray.serve import Application
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without ray
    raise MissingDependencyError("ray[serve]", "ray", "crossrank serve runs on Ray Serve.") from exc

api = FastAPI(title="crossrank", summary="Cross-encoder reranking over HTTP.")
# Ray Serve serialises the routes when the class below is decorated: every helper they call is defined above it.


def _pairs(groups: list[tuple[str, list[str]]]) -> int:
    """The size of a shared batch: its (query, document) pairs."""
    return sum(len(texts) for _, texts in groups)


def _error(status: int, kind: str, detail: str) -> JSONResponse:
    return JSONResponse(ErrorBody(error=kind, detail=detail).model_dump(), status_code=status)


def _validation_message(exc: ValidationError) -> str:
    """Pydantic's errors as one line per field: ``documents.2: Input should be a valid string``."""
    lines = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "body"
        lines.append(f"{where}: {error['msg']}")
    return "Bad request body: " + "; ".join(lines)


@serve.deployment(max_ongoing_requests=64)
@serve.ingress(api)
class RerankDeployment:
    """One replica: a loaded scorer behind ``/rerank`` and ``/health``."""

    def __init__(
        self,
        model: str,
        scorer_options: dict[str, Any],
        limits: dict[str, Any],
        max_batch_pairs: int,
        batch_wait_ms: float,
    ) -> None:
        self.scorer = CrossEncoderScorer(model, **scorer_options).load()
        self.limits = ServeLimits(**limits)
        self.shared_batch.set_max_batch_size(max_batch_pairs)
        self.shared_batch.set_batch_wait_timeout_s(batch_wait_ms / 1000)
        self.requests_scored = 0
        self.batches_run = 0

    @api.get("/health")
    def health(self) -> dict[str, Any]:
        """The model this replica serves, its precision, and the requests and shared batches it has scored."""
        return {
            "status": "ok",
            "model": self.scorer.model_name_or_path,
            "precision": self.scorer.precision_used,
            "requests_scored": self.requests_scored,
            "batches_run": self.batches_run,
        }

    @api.post(
        "/rerank", response_model=RerankResponse, responses={413: {"model": ErrorBody}, 422: {"model": ErrorBody}}
    )
    async def rerank(self, request: Request) -> Any:
        """Rank ``documents`` against ``query``: indices into ``documents`` and scores, best first."""
        body = await self._body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            req = RerankRequest.model_validate_json(body)
        except ValidationError as exc:
            return _error(422, "InvalidRequest", _validation_message(exc))
        if len(req.documents) > self.limits.max_documents:
            return _error(
                413,
                "InvalidArgumentError",
                f"{len(req.documents)} documents is more than this server's limit of "
                f"{self.limits.max_documents} per request; split the request.",
            )
        try:
            candidates = candidates_to_score(req.query, req.documents, req.top_n, req.min_score, req.rank_window_size)
        except RerankError as exc:
            return _error(422, type(exc).__name__, str(exc))
        scores = await self.shared_batch((req.query, list(candidates))) if candidates else np.empty(0)
        ranked = ranked_from_scores(scores, len(candidates), req.top_n, req.min_score)
        results = [RankedDocument(index=hit.index, score=hit.score) for hit in ranked]
        return RerankResponse(model=self.scorer.model_name_or_path, results=results)

    @serve.batch(max_batch_size=1024, batch_wait_timeout_s=0.01, batch_size_fn=_pairs)
    async def shared_batch(self, groups: list[tuple[str, list[str]]]) -> list[np.ndarray]:
        """Score concurrent requests' pairs together, in a worker thread so the replica keeps answering."""
        scores = await asyncio.to_thread(self.scorer.score_groups, groups)
        self.requests_scored += len(groups)
        self.batches_run += 1
        return scores

    async def _body(self, request: Request) -> bytes | JSONResponse:
        """The request body, read no further than the size limit."""
        limit = self.limits.max_body_bytes
        too_big = _error(
            413, "InvalidRequest", f"The request body is larger than this server's limit of {limit} bytes."
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return too_big
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return too_big
            chunks.append(chunk)
        return b"".join(chunks)


def build_app(
    model: str = DEFAULT_MODEL,
    *,
    replicas: int = 1,
    min_replicas: int | None = None,
    max_replicas: int | None = None,
    max_batch_pairs: int = 1024,
    batch_wait_ms: float = 10.0,
    max_ongoing_requests: int = 64,
    limits: ServeLimits | None = None,
    num_cpus: float = 1.0,
    num_gpus: float = 0.0,
    **scorer_options: Any,
) -> Application:
    """The Ray Serve application of ``crossrank serve``, for ``serve.run``.

    Args:
        model: A Hugging Face model id or a folder every replica can read.
        replicas: Fixed number of replicas (ignored when ``min_replicas``/``max_replicas`` turn on autoscaling).
        min_replicas: With ``max_replicas``, autoscale between the two on ongoing requests.
        max_batch_pairs: The most (query, document) pairs merged into one shared batch; at least
            ``limits.max_documents`` so any valid request fits.
        batch_wait_ms: How long a request waits for others to share its batch.
        max_ongoing_requests: Requests a replica holds at once (queued in its batch or being scored).
        limits: Per-request bounds (documents, body bytes).
        num_cpus: CPUs reserved per replica (PyTorch uses that many threads).
        num_gpus: GPUs per replica (set ``device="cuda"`` in ``scorer_options`` to use them).
        **scorer_options: :class:`CrossEncoderScorer` options (``backend``, ``precision``, ``device``, ...).
    """
    limits = limits or ServeLimits()
    CrossEncoderScorer(model, **scorer_options)  # a bad option fails here, not in a replica
    if max_batch_pairs < limits.max_documents:
        raise InvalidArgumentError(
            f"max_batch_pairs ({max_batch_pairs}) must be at least max_documents ({limits.max_documents}), "
            "so that every accepted request fits in one shared batch."
        )
    if (min_replicas is None) != (max_replicas is None):
        raise InvalidArgumentError("Autoscaling needs both min_replicas and max_replicas.")
    scaling: dict[str, Any] = {"num_replicas": check_positive_int("replicas", replicas)}
    if min_replicas is not None and max_replicas is not None:
        if not 0 < min_replicas <= max_replicas:
            raise InvalidArgumentError(f"Need 0 < min_replicas <= max_replicas, got {min_replicas}, {max_replicas}.")
        scaling = {"autoscaling_config": {"min_replicas": min_replicas, "max_replicas": max_replicas}}
    deployment = RerankDeployment.options(
        **scaling,
        max_ongoing_requests=max_ongoing_requests,
        ray_actor_options={"num_cpus": num_cpus, "num_gpus": num_gpus},
    )
    return deployment.bind(model, scorer_options, limits.model_dump(), max_batch_pairs, batch_wait_ms)
