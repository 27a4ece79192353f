"""The wire format of a served reranker (``POST /rerank``), shared by the server and :class:`RemoteScorer`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .errors import InvalidArgumentError, InvalidQueryError, InvalidTextError, RerankError


class RerankRequest(BaseModel):
    """A ``POST /rerank`` body: the query, the documents' texts and the ranking rules of the core."""

    model_config = ConfigDict(extra="forbid", strict=True)

    query: str
    documents: list[str]
    top_n: int | None = Field(default=None, ge=0)
    min_score: float | None = Field(default=None, allow_inf_nan=False)
    rank_window_size: int | None = Field(default=None, ge=1)


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
    """Bounds on one request; larger ones get ``413`` without reaching the model."""

    model_config = ConfigDict(extra="forbid")

    max_documents: int = Field(default=1000, gt=0)
    """Documents in one request."""
    max_body_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    """Bytes in one request body."""
