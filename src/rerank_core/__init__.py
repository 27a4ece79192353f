"""rerank_core: the cross-encoder scoring engine behind crossrank's LangChain and LlamaIndex adapters."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from rerank_core.base import Scorer
from rerank_core.engine.model_loading import DEFAULT_EMBED_MODEL
from rerank_core.errors import (
    DeviceUnavailableError,
    IndexFolderError,
    IndexNotFoundError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidCallError,
    InvalidQueryError,
    InvalidTextError,
    MissingDependencyError,
    ModelLoadError,
    ModelNotFoundError,
    RemoteScorerError,
    RemoteTimeoutError,
    RerankError,
    ServiceUnavailableError,
)
from rerank_core.options import ScorerOptions
from rerank_core.ranking import RankSpec, rank_texts, select
from rerank_core.registry import clear_scorers, get_scorer
from rerank_core.scorer import DEFAULT_MODEL, CrossEncoderScorer
from rerank_core.types import Ranked

try:
    __version__ = version("crossrank")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from rerank_core.serving.client import RemoteScorer


def __getattr__(name: str) -> Any:
    """``RemoteScorer`` is imported on first use, so ``import rerank_core`` never needs an HTTP client."""
    if name == "RemoteScorer":
        from rerank_core.serving.client import RemoteScorer

        return RemoteScorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_EMBED_MODEL",
    "DEFAULT_MODEL",
    "CrossEncoderScorer",
    "DeviceUnavailableError",
    "IndexFolderError",
    "IndexNotFoundError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidCallError",
    "InvalidQueryError",
    "InvalidTextError",
    "MissingDependencyError",
    "ModelLoadError",
    "ModelNotFoundError",
    "RankSpec",
    "Ranked",
    "RemoteScorer",
    "RemoteScorerError",
    "RemoteTimeoutError",
    "RerankError",
    "Scorer",
    "ScorerOptions",
    "ServiceUnavailableError",
    "clear_scorers",
    "get_scorer",
    "rank_texts",
    "select",
]
