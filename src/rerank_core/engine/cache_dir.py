"""The user cache folder crossrank writes to (exported ONNX models, corpus embeddings), never the project."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "CROSSRANK_CACHE_DIR"
"""Environment variable that moves the cache folder (default: the user cache folder for crossrank)."""


def default_cache_dir() -> Path:
    """``$CROSSRANK_CACHE_DIR`` if set, else the platform's user cache folder for crossrank."""
    value = os.environ.get(CACHE_DIR_ENV)
    if value:
        return Path(value).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("crossrank", appauthor=False))
