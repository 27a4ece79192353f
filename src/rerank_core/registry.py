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

    ``device=None`` and the device it resolved to are one configuration once its model has loaded: asking for
    ``device="cpu"`` gets the loaded ``device=None`` scorer whose ``device_used`` is ``"cpu"``, so an adapter that
    records the device in use after loading (as ``SentenceTransformerRerank`` reports it) keeps its model. This
    is resolved lazily, from the loaded scorer's ``device_used``: before it loads, resolving ``None`` would mean
    importing the backend here, so until then the two are separate entries.
    """
    candidate = CrossEncoderScorer(model_name_or_path, options=options, **overrides)
    settings = candidate.options.model_dump()
    with _lock:
        if settings["device"] is not None:
            automatic = _scorers.get(_key(candidate.model_name_or_path, {**settings, "device": None}))
            if automatic is not None and automatic.device_used == settings["device"]:
                return automatic
        return _scorers.setdefault(_key(candidate.model_name_or_path, settings), candidate)


def _key(model_name_or_path: str, settings: dict[str, Any]) -> tuple[Any, ...]:
    """The registry key of a model and its options (as ``ScorerOptions.model_dump`` gives them)."""
    return (model_name_or_path, _freeze(settings))


def clear_scorers() -> None:
    """Forget every shared scorer (their models are freed once nothing else holds them)."""
    with _lock:
        _scorers.clear()
