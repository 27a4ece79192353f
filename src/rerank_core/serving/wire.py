"""The wire format of a served reranker (``POST /rerank``), shared by the server and :class:`RemoteScorer`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rerank_core.errors import InvalidArgumentError, InvalidQueryError, InvalidTextError, RerankError
from rerank_core.ranking import RankSpec


class RerankRequest(RankSpec):
    """A ``POST /rerank`` body: the query, the documents' texts and the ranking rules of a :class:`RankSpec`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    query: str
    documents: list[str]


class RankedDocument(BaseModel):
    """One returned document: its position in the request's ``documents`` and its score."""

    index: int
    score: float


class RerankResponse(BaseModel):
    """The answer: documents best first, at most ``top_n``, none below ``min_score``."""

    model: str
    results: list[RankedDocument]


class ErrorBody(BaseModel):
    """Every 4xx/5xx body: the error's kind (a ``rerank_core.errors`` class name or ``InvalidRequest``)."""

    error: str
    detail: str


INPUT_ERRORS: dict[str, type[RerankError]] = {
    cls.__name__: cls for cls in (InvalidQueryError, InvalidTextError, InvalidArgumentError)
}
"""Errors about the caller's input, raised again by the client under their own class."""


class ServeLimits(BaseModel):
    """Bounds on one request, and on what the server holds at once; past one, a request is refused.

    The budget (``max_documents``, ``max_pairs``, ``max_total_chars``) is checked before anything is
    scored (``413``). The body bounds and deadlines are applied while the request arrives: a body larger
    than ``max_body_bytes`` gets ``413`` as soon as it passes the limit, one that does not arrive within
    ``body_timeout_s`` gets ``408``, headers slower than ``header_timeout_s`` get ``408`` and headers
    larger than ``max_header_bytes`` get ``431``, each with ``Connection: close``.
    """

    model_config = ConfigDict(extra="forbid")

    max_documents: int = Field(default=1000, gt=0)
    """Documents in one request."""
    max_pairs: int = Field(default=1000, gt=0)
    """(query, document) pairs scored for one request: its documents inside ``rank_window_size``."""
    max_total_chars: int = Field(default=4_000_000, gt=0)
    """Characters the model reads for one request: the query once per pair, plus every scored document."""
    max_body_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    """Bytes in one request body."""
    body_timeout_s: float = Field(default=10.0, gt=0)
    """Seconds from the end of a request's headers to the end of its body."""
    header_timeout_s: float = Field(default=10.0, gt=0)
    """Seconds to receive a request's headers, from the connection (or, on a kept-alive one, its first byte)."""
    max_header_bytes: int = Field(default=64 * 1024, gt=0)
    """Bytes in a request's target and headers together."""
    max_inflight_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    """Bytes of request bodies the HTTP proxy holds at once, all requests together (``503`` beyond)."""
