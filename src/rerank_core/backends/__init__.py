"""Backends by name, imported only when used so optional dependencies stay optional."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rerank_core.backends.base import Backend
from rerank_core.errors import InvalidArgumentError, MissingDependencyError

if TYPE_CHECKING:
    from rerank_core.options import ScorerOptions


@dataclass(frozen=True)
class BackendEntry:
    """Where a backend lives and what it runs: adding a backend is its module plus one entry in :data:`_BACKENDS`."""

    module: str
    """The module that defines the loader."""
    loader: str
    """The loader function: ``(model_name_or_path, **options) -> Backend``."""
    extra: str
    """The crossrank extra that installs its dependencies."""
    precisions: Mapping[str, tuple[str, ...]]
    """Device type (``cpu``, ``cuda``) -> the precisions it runs there, the first being the default."""


_BACKENDS: dict[str, BackendEntry] = {
    "torch": BackendEntry(
        "rerank_core.backends.torch_backend",
        "load_torch_backend",
        "torch",
        {"cpu": ("fp32", "bf16"), "cuda": ("fp32", "bf16", "fp16")},
    ),
    "onnx": BackendEntry(
        "rerank_core.backends.onnx_backend", "load_onnx_backend", "onnx", {"cpu": ("fp32", "int8"), "cuda": ("fp32",)}
    ),
    "openvino": BackendEntry(
        "rerank_core.backends.openvino_backend", "load_openvino_backend", "openvino", {"cpu": ("fp32", "bf16", "int8")}
    ),
}
BACKENDS: tuple[str, ...] = tuple(_BACKENDS)


def check_backend(name: str) -> str:
    """Return ``name`` if it is a known backend."""
    if name not in _BACKENDS:
        raise InvalidArgumentError(f"Unknown backend {name!r}; choose one of {', '.join(BACKENDS)}.")
    return name


def load_backend(model_name_or_path: str, options: ScorerOptions) -> Backend:
    """Import the backend ``options.backend`` names and load the model with it.

    Every loader takes ``(model_name_or_path, options)`` and reads the options it uses (device, precision,
    threads, max_length, trust_remote_code, model_kwargs, family), refusing those that do not apply to it.
    """
    entry = _BACKENDS[check_backend(options.backend)]
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or entry.module, entry.extra) from exc
    loader: Callable[[str, ScorerOptions], Backend] = getattr(module, entry.loader)
    return loader(model_name_or_path, options)


def supported_precisions(name: str, device_type: str) -> tuple[str, ...]:
    """The precisions backend ``name`` runs on ``device_type`` (fp32 on a device it does not list)."""
    return _BACKENDS[check_backend(name)].precisions.get(device_type, ("fp32",))


__all__ = ["BACKENDS", "Backend", "BackendEntry", "check_backend", "load_backend", "supported_precisions"]
