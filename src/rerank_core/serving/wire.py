"""The wire formats of a served reranker, the one home of every schema the server and :class:`RemoteScorer` speak.

Three APIs on one server (:data:`APIS`):

- ``tei``, ``POST /rerank``: Hugging Face text-embeddings-inference's schema (``query``, ``texts``,
  ``raw_scores``, ``return_text``, ``truncate``, ``truncation_direction``; the answer is a list of
  ``{index, score, text?}``, best first; errors are ``{error, error_type}``).
- ``crossrank``: the same route and schema with crossrank's optional fields (the ranking rules
  ``rank_window_size``, ``min_score`` and ``top_n``, and ``instruction``), which TEI itself ignores; its
  errors add ``kind``, the ``rerank_core.errors`` class a client raises again.
- ``cohere``, ``POST /v2/rerank`` and ``POST /v1/rerank``: Cohere's schema (``model``, ``query``,
  ``documents``, ``top_n``, ``max_tokens_per_doc``; v1 also documents as objects, ``rank_fields`` and
  ``return_documents``); the answer is ``{id, results: [{index, relevance_score, document?}], meta}`` and
  errors are ``{id, message}``.

Unknown request fields are ignored, as both originals do (clients add fields such as Cohere's ``priority``);
known ones are read strictly (no ``"3"`` for ``3``), and JSON ``null`` is the default of every optional field.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, model_validator

from rerank_core.errors import InvalidArgumentError, InvalidQueryError, InvalidTextError, RerankError
from rerank_core.ranking import MinScore, RankSpec, RankWindow, TopN
from rerank_core.types import Ranked
from rerank_core.validation import check_instruction, check_positive_int

Api = Literal["crossrank", "cohere", "tei"]
APIS: tuple[Api, ...] = ("crossrank", "cohere", "tei")
"""The APIs ``crossrank serve`` answers and :class:`RemoteScorer` calls."""

TEI_PATH = "/rerank"
COHERE_PATHS = {"/v2/rerank": "2", "/v1/rerank": "1"}
"""Cohere's rerank routes and their API version (``meta.api_version.version`` in answers)."""

Instruction = Annotated[str | None, BeforeValidator(check_instruction)]
"""For prompt models that take one: the instruction of this request (``None``: the server's)."""


def _positive_or_none(value: object) -> object:
    return value if value is None else check_positive_int("max_tokens_per_doc", value)


@dataclass(frozen=True)
class RerankJob:
    """What any request asks the model: score ``texts`` against ``query`` and rank them by ``spec``."""

    query: str
    texts: list[str]
    spec: RankSpec
    instruction: str | None = None
    raw_scores: bool = False
    """The model's raw score (a logit) instead of the server's activation (sigmoid by default)."""
    max_tokens_per_doc: int | None = None
    """Read no more than each text's first this many tokens."""
    truncate: bool = True
    """``False``: refuse the request (413) when a text does not fit the model's window whole (TEI's ``truncate``)."""


# --- TEI and crossrank: POST /rerank ------------------------------------------------------------------------------


class TeiRerankRequest(BaseModel):
    """A ``POST /rerank`` body: TEI's fields, then crossrank's (the ranking rules and ``instruction``)."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    query: str
    texts: list[str]
    raw_scores: bool = False
    """``false``: scores after the server's activation (sigmoid, as TEI); ``true``: the model's raw logits."""
    return_text: bool = False
    """Each result also carries its text."""
    truncate: bool | None = None
    """``null`` or ``true``: texts longer than the model's window are read as the server is set to (truncated by
    default); ``false``: a text that does not fit the window whole beside the query gets the request a 413, as TEI."""
    truncation_direction: Literal["Right", "right", "Left", "left"] = "Right"
    """Only ``Right`` (keep each text's start) is supported."""
    rank_window_size: RankWindow = None
    """crossrank: score only the first N texts."""
    min_score: MinScore = None
    """crossrank: leave out results scoring below this."""
    top_n: TopN = None
    """crossrank: return at most this many results (TEI returns every text)."""
    instruction: Instruction = None
    """crossrank: the instruction of a prompt model that takes one."""

    @model_validator(mode="after")
    def _supported(self) -> TeiRerankRequest:
        if self.truncation_direction.lower() != "right":
            raise InvalidArgumentError("truncation_direction='Left' is not supported: a text is read from its start.")
        return self

    def job(self) -> RerankJob:
        """What this request asks the model."""
        spec = RankSpec(rank_window_size=self.rank_window_size, min_score=self.min_score, top_n=self.top_n)
        return RerankJob(
            self.query, list(self.texts), spec, self.instruction, self.raw_scores, truncate=self.truncate is not False
        )

    def answer(self, ranked: Sequence[Ranked]) -> list[dict[str, Any]]:
        """The answer's body: ``{index, score}`` per result, best first, with ``text`` when asked."""
        return [
            TeiRank(
                index=hit.index, score=hit.score, text=self.texts[hit.index] if self.return_text else None
            ).model_dump(exclude_none=True)
            for hit in ranked
        ]


class TeiRank(BaseModel):
    """One result of ``POST /rerank``: the text's position in ``texts``, its score, and the text if asked."""

    index: int
    score: float
    text: str | None = None
    """Only with ``return_text`` (left out otherwise)."""


class TeiRerankResponse(RootModel[list[TeiRank]]):
    """The answer to ``POST /rerank``: one result per text scored (all of them, unless crossrank's rules cut),
    best first."""


class TeiError(BaseModel):
    """An error on ``/rerank`` and every route but Cohere's: TEI's ``{error, error_type}``, and crossrank's ``kind``."""

    error: str
    """What went wrong."""
    error_type: str
    """TEI's kind: ``Validation`` (a bad request), ``Overloaded`` (429), ``Unhealthy`` (503), ``Backend``
    (another 5xx) or ``Unauthorized`` (401)."""
    kind: str
    """crossrank: the ``rerank_core.errors`` class of an input error (``InvalidQueryError``...), or the HTTP
    status's name (``InvalidRequest``, ``NotFound``, ``RequestTimeout``...)."""


# --- Cohere: POST /v2/rerank and POST /v1/rerank -------------------------------------------------------------------


class CohereRerankRequest(BaseModel):
    """A ``POST /v2/rerank`` body (Cohere's v2 schema), plus crossrank's ``instruction``."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    model: str | None = None
    """Cohere's model name; the server scores with the one model it serves, whatever the name."""
    query: str
    documents: list[str]
    top_n: TopN = None
    """Return at most this many results (``null``: all)."""
    max_tokens_per_doc: Annotated[int | None, BeforeValidator(_positive_or_none)] = None
    """Read no more than each document's first this many tokens (``null``: as the server is set to)."""
    return_documents: bool | None = None
    """Earlier SDKs: each result also carries its document, as ``{"text": ...}``."""
    instruction: Instruction = None
    """crossrank: the instruction of a prompt model that takes one."""

    def texts(self) -> list[str]:
        """The documents' texts, as scored."""
        return list(self.documents)

    def job(self) -> RerankJob:
        """What this request asks the model."""
        spec = RankSpec(top_n=self.top_n)
        return RerankJob(self.query, self.texts(), spec, self.instruction, False, self.max_tokens_per_doc)

    def document(self, index: int) -> dict[str, Any]:
        """What a result echoes of document ``index`` with ``return_documents``."""
        return {"text": self.documents[index]}

    def answer(self, ranked: Sequence[Ranked], version: str) -> dict[str, Any]:
        """The answer's body: ``{id, results, meta}``, results best first."""
        results = [
            CohereResult(
                index=hit.index,
                relevance_score=hit.score,
                document=self.document(hit.index) if self.return_documents else None,
            )
            for hit in ranked
        ]
        meta = CohereMeta(api_version=CohereApiVersion(version=version))
        return CohereRerankResponse(id=str(uuid.uuid4()), results=results, meta=meta).model_dump(exclude_none=True)


class CohereV1RerankRequest(CohereRerankRequest):
    """A ``POST /v1/rerank`` body: documents may be objects, ranked on ``rank_fields`` (default ``["text"]``)."""

    documents: list[str | dict[str, Any]]  # type: ignore[assignment]  # v1 widens v2's strings
    rank_fields: list[str] | None = None
    """The object fields a document is ranked on, in order (written ``field: value``, one per line)."""
    max_chunks_per_doc: None = None
    """Not supported (``null`` only): a served reranker chunks as its ``long_documents`` setting says."""

    @model_validator(mode="after")
    def _fields_present(self) -> CohereV1RerankRequest:
        fields = self.rank_fields
        for i, document in enumerate(self.documents):
            if isinstance(document, str):
                continue
            needed = ["text"] if fields is None else fields
            missing = [name for name in needed if name not in document]
            if missing:
                raise InvalidArgumentError(f"documents.{i} has no field {missing[0]!r} to rank on.")
            wrong = [name for name in needed if not isinstance(document[name], str)]
            if wrong:
                raise InvalidArgumentError(f"documents.{i}.{wrong[0]} must be a string to rank on.")
        return self

    def texts(self) -> list[str]:
        """Strings as they are; an object's ``text``, or its ``rank_fields`` as ``field: value`` lines."""
        texts = []
        for document in self.documents:
            if isinstance(document, str):
                texts.append(document)
            elif self.rank_fields is None:
                texts.append(document["text"])
            else:
                texts.append("\n".join(f"{name}: {document[name]}" for name in self.rank_fields))
        return texts

    def document(self, index: int) -> dict[str, Any]:
        """A string as ``{"text": ...}``; an object with all its fields."""
        document = self.documents[index]
        return {"text": document} if isinstance(document, str) else dict(document)


class CohereResult(BaseModel):
    """One result: the document's position in ``documents``, its relevance score and (if asked) the document."""

    index: int
    relevance_score: float
    document: dict[str, Any] | None = None
    """With ``return_documents``: ``{"text": ...}``, or the v1 object with all its fields."""


class CohereApiVersion(BaseModel):
    version: str


class CohereMeta(BaseModel):
    api_version: CohereApiVersion


class CohereRerankResponse(BaseModel):
    """The answer to Cohere's rerank routes: results best first, at most ``top_n``."""

    id: str
    results: list[CohereResult]
    meta: CohereMeta


class CohereError(BaseModel):
    """An error on Cohere's routes, as Cohere's API writes it."""

    id: str
    message: str


# --- Errors, in the shape of the route's API ----------------------------------------------------------------------

INPUT_ERRORS: dict[str, type[RerankError]] = {
    cls.__name__: cls for cls in (InvalidQueryError, InvalidTextError, InvalidArgumentError)
}
"""Errors about the caller's input, raised again by the client under their own class."""


def is_cohere_path(path: str) -> bool:
    """Whether ``path`` (a request's, after any route prefix) is one of Cohere's routes."""
    return path.rstrip("/") in COHERE_PATHS


def tei_error_type(status: int) -> str:
    """TEI's ``error_type`` for an HTTP status."""
    if status == 401:
        return "Unauthorized"
    if status == 429:
        return "Overloaded"
    if status == 503:
        return "Unhealthy"
    return "Backend" if status >= 500 else "Validation"


def error_body(path: str, status: int, kind: str, detail: str) -> dict[str, Any]:
    """The JSON error body of a request to ``path``: Cohere's shape on its routes, TEI's (with ``kind``) elsewhere."""
    if is_cohere_path(path):
        return CohereError(id=str(uuid.uuid4()), message=detail).model_dump()
    return TeiError(error=detail, error_type=tei_error_type(status), kind=kind).model_dump()


# --- Bounds -------------------------------------------------------------------------------------------------------


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
