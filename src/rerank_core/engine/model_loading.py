"""Loading Hugging Face checkpoints: the library's typed errors and quiet output, for every model crossrank loads.

The scorer's backends, the ONNX exporter and both adapters' FAISS helpers load their models inside
:func:`loading_model`, so a missing or broken model raises :class:`ModelNotFoundError` or
:class:`ModelLoadError` naming the model and the role it was loaded for, and transformers' own progress
bars stay hidden unless asked for.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from rerank_core.errors import (
    InvalidArgumentError,
    InvalidArgumentTypeError,
    ModelLoadError,
    ModelNotFoundError,
    RerankError,
)

CROSS_ENCODER = "cross-encoder"
"""The role of the reranking model."""
BI_ENCODER = "bi-encoder (the embedding model of the FAISS first stage)"
"""The role of the model that embeds documents and queries for the first stage."""
DEFAULT_EMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""The bi-encoder that embeds documents for the FAISS first stage unless another is given."""

_logger = logging.getLogger("rerank_core")
_progress_asked: ContextVar[bool] = ContextVar("crossrank_load_progress", default=False)
_quiet_lock = threading.Lock()
_quiet_depth = 0
_switches: tuple[bool, bool] = (False, False)


def embed_model_name(value: object, argument: str, expected: str) -> str:
    """The bi-encoder a FAISS helper loads for ``value``: a model id or path, or :data:`DEFAULT_EMBED_MODEL` for
    ``None``; a blank string or another type is refused, naming ``argument`` and what it takes (``expected``)."""
    if value is None:
        return DEFAULT_EMBED_MODEL
    if not isinstance(value, str):
        raise InvalidArgumentTypeError(argument, expected, value)
    if not value.strip():
        raise InvalidArgumentError(f"{argument} is an empty string; pass a model id or path, or None for the default.")
    return value


@contextmanager
def loading_model(model_name_or_path: str, role: str, *, show_progress: bool = False) -> Iterator[None]:
    """Load ``model_name_or_path`` (a model id or folder, used as ``role``) inside this block.

    Raises, for an error inside the block:
        ModelNotFoundError: no such local folder, and no such (cached) hub id.
        ModelLoadError: the folder or id exists but does not load as a ``role``, or a weight file is damaged.

    transformers' and the hub's progress bars ("Loading weights", downloads) are hidden in the block
    unless ``show_progress`` is set, the block runs inside :func:`showing_load_progress`, or the
    ``rerank_core`` logger is at INFO or below.
    """
    shown = show_progress or _progress_asked.get() or _logger.isEnabledFor(logging.INFO)
    with _progress_bars(shown):
        try:
            yield
        except RerankError:
            raise
        except OSError as exc:  # FileNotFoundError, the hub's offline and not-found errors
            if Path(model_name_or_path).expanduser().is_dir():
                raise ModelLoadError(f"Cannot load the {role} in {model_name_or_path!r}: {exc}") from exc
            raise ModelNotFoundError(model_name_or_path, exc, role=role) from exc
        except (ValueError, RuntimeError, KeyError) as exc:
            raise ModelLoadError(f"Cannot load {model_name_or_path!r} as a {role}: {exc}") from exc
        except Exception as exc:  # weight readers raise their own types (safetensors' SafetensorError, ...)
            raise ModelLoadError(
                f"Cannot read the weights of the {role} {model_name_or_path!r} ({type(exc).__name__}: {exc}). "
                "A weight file is damaged or incomplete: download or save the model again."
            ) from exc


@contextmanager
def showing_load_progress(shown: bool) -> Iterator[None]:
    """Show (``shown=True``) load progress bars in models loaded within this block, in this context."""
    token = _progress_asked.set(shown)
    try:
        yield
    finally:
        _progress_asked.reset(token)


@contextmanager
def _progress_bars(shown: bool) -> Iterator[None]:
    """Hide transformers' and the hub's progress bars inside the block, unless ``shown``.

    Both libraries keep one process-wide switch: nested and concurrent blocks share one hiding, and the
    last to leave puts the switches back as they were.
    """
    global _quiet_depth, _switches
    if shown:
        yield
        return
    with _quiet_lock:
        if _quiet_depth == 0:
            _switches = _hide_bars()
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                _restore_bars(_switches)


def _hide_bars() -> tuple[bool, bool]:
    """Turn both libraries' bars off; whether each was on. transformers is touched only if already imported."""
    from huggingface_hub import utils as hub

    transformers_logging = _transformers_logging()
    transformers_on = transformers_logging is not None and transformers_logging.is_progress_bar_enabled()
    hub_on = not hub.are_progress_bars_disabled()
    if transformers_on:
        transformers_logging.disable_progress_bar()  # the hub's bars too
    if hub_on:
        hub.disable_progress_bars()
    return transformers_on, hub_on


def _restore_bars(switches: tuple[bool, bool]) -> None:
    from huggingface_hub import utils as hub

    transformers_on, hub_on = switches
    transformers_logging = _transformers_logging()
    if transformers_on and transformers_logging is not None:
        transformers_logging.enable_progress_bar()
    if hub_on:
        hub.enable_progress_bars()
    else:
        hub.disable_progress_bars()


def _transformers_logging() -> Any:
    """``transformers.utils.logging`` if transformers is imported (the ONNX backend never imports it)."""
    return sys.modules.get("transformers.utils.logging")
