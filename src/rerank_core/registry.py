"""One loaded model per configuration per process, shared by every adapter that asks for it."""

from __future__ import annotations

import threading
from typing import Any

from rerank_core.options import ScorerOptions
from rerank_core.scorer import DEFAULT_MODEL, CrossEncoderScorer

_lock = threading.Lock()
_scorers: dict[tuple[Any, ...], CrossEncoderScorer] = {}


def _freeze(value: Any) -> Any:
    """A hashable stand-in for option values (dicts and lists become sorted tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set)):
        return tuple(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def get_scorer(
    model_name_or_path: str = DEFAULT_MODEL, options: ScorerOptions | None = None, **overrides: Any
) -> CrossEncoderScorer:
    """Return the process-wide scorer for this model and options, creating it on first request.

    The same (model, options) always gives the same instance, so a LangChain compressor and a LlamaIndex
    postprocessor in one process share one loaded model. ``options`` and ``overrides`` are as
    :class:`CrossEncoderScorer` takes them. The model itself loads on first use.
    """
    candidate = CrossEncoderScorer(model_name_or_path, options=options, **overrides)
    key = (candidate.model_name_or_path, _freeze(candidate.options.model_dump()))
    with _lock:
        return _scorers.setdefault(key, candidate)


def clear_scorers() -> None:
    """Forget every shared scorer (their models are freed once nothing else holds them)."""
    with _lock:
        _scorers.clear()
