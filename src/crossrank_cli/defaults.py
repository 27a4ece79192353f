"""Default models of the commands, overridable by environment variables."""

from __future__ import annotations

import os

from rerank_core import DEFAULT_MODEL

MODEL_ENV = "CROSSRANK_MODEL"
"""Environment variable naming the cross-encoder (id or local folder) the commands use by default."""
EMBED_MODEL_ENV = "CROSSRANK_EMBED_MODEL"
"""Environment variable naming the bi-encoder of the dense first stage."""
DEFAULT_EMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def default_model() -> str:
    """``$CROSSRANK_MODEL`` if set, else the library's default cross-encoder."""
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def default_embed_model() -> str:
    """``$CROSSRANK_EMBED_MODEL`` if set, else all-MiniLM-L6-v2."""
    return os.environ.get(EMBED_MODEL_ENV) or DEFAULT_EMBED_MODEL
