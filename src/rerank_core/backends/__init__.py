"""Backends by name, imported only when used so optional dependencies stay optional."""

from __future__ import annotations

import importlib
from typing import Any

from rerank_core.backends.base import Backend
from rerank_core.errors import InvalidArgumentError, MissingDependencyError

_BACKENDS: dict[str, tuple[str, str, str]] = {
    # name: (module, loader function, extra that installs its dependencies)
    "torch": ("rerank_core.backends.torch_backend", "load_torch_backend", "torch"),
    "onnx": ("rerank_core.backends.onnx_backend", "load_onnx_backend", "onnx"),
}
BACKENDS: tuple[str, ...] = tuple(_BACKENDS)


def check_backend(name: str) -> str:
    """Return ``name`` if it is a known backend."""
    if name not in _BACKENDS:
        raise InvalidArgumentError(f"Unknown backend {name!r}; choose one of {', '.join(BACKENDS)}.")
    return name


def load_backend(name: str, model_name_or_path: str, **options: Any) -> Backend:
    """Import backend ``name`` and load the model with it.

    Every loader takes ``model_name_or_path`` and the keyword options ``device``, ``precision``,
    ``threads``, ``max_length``, ``trust_remote_code``, ``model_kwargs`` and ``family``.
    """
    module_name, loader, extra = _BACKENDS[check_backend(name)]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or module_name, extra) from exc
    return getattr(module, loader)(model_name_or_path, **options)


__all__ = ["BACKENDS", "Backend", "check_backend", "load_backend"]
