"""rerank_core: the cross-encoder scoring engine behind crossrank's LangChain and LlamaIndex adapters."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from .errors import (
    DeviceUnavailableError,
    InvalidArgumentError,
    InvalidQueryError,
    InvalidTextError,
    MissingDependencyError,
    ModelLoadError,
    ModelNotFoundError,
    RerankError,
)
from .options import ScorerOptions
from .ranking import rank_texts, select
from .registry import clear_scorers, get_scorer
from .scorer import DEFAULT_MODEL, CrossEncoderScorer
from .types import Ranked

try:
    __version__ = version("crossrank")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_MODEL",
    "CrossEncoderScorer",
    "DeviceUnavailableError",
    "InvalidArgumentError",
    "InvalidQueryError",
    "InvalidTextError",
    "MissingDependencyError",
    "ModelLoadError",
    "ModelNotFoundError",
    "Ranked",
    "RerankError",
    "ScorerOptions",
    "clear_scorers",
    "get_scorer",
    "rank_texts",
    "select",
]
