"""The deployment layer: the wire schemas, the HTTP client, the Ray Serve app and Ray Data batch scoring.

Install it with ``pip install "crossrank[serve]"`` (Ray Serve, FastAPI) or ``"crossrank[ray]"`` (Ray Data).
Every name below is imported on first use, so ``import rerank_core.serving`` needs neither Ray nor httpx.

- :mod:`~rerank_core.serving.wire`: every schema served (TEI, Cohere, crossrank), and ``ServeLimits``;
- :mod:`~rerank_core.serving.metrics`: the Prometheus metrics of ``GET /metrics``;
- :mod:`~rerank_core.serving.client`: :class:`RemoteScorer`, a :class:`rerank_core.Scorer` over HTTP;
- :mod:`~rerank_core.serving.app`: ``build_app`` and ``serve_start_options`` for Ray Serve;
- :mod:`~rerank_core.serving.proxy_guard`: the connection bounds loaded into Ray Serve's HTTP proxy;
- :mod:`~rerank_core.serving.ray_runtime`: where the Ray of ``crossrank serve`` listens, and its main loop;
- :mod:`~rerank_core.serving.batch`: ``score_dataset`` and ``rank_scored`` on Ray Data.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rerank_core.serving.app import build_app, serve_start_options
    from rerank_core.serving.batch import rank_scored, score_dataset
    from rerank_core.serving.client import RemoteScorer
    from rerank_core.serving.wire import ServeLimits

_LAZY = {
    "RemoteScorer": "client",
    "ServeLimits": "wire",
    "build_app": "app",
    "serve_start_options": "app",
    "rank_scored": "batch",
    "score_dataset": "batch",
}

__all__ = ["RemoteScorer", "ServeLimits", "build_app", "rank_scored", "score_dataset", "serve_start_options"]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first access."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
