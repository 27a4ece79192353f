"""Running a served reranker on a Ray of this process: where Ray listens, and ``crossrank serve``'s main loop."""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from rerank_core.serving.wire import ServeLimits


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def starts_local_ray(address: str | None) -> bool:
    """Whether ``ray.init(address=address)`` starts a new Ray here rather than joining a running one."""
    return (address or os.environ.get("RAY_ADDRESS") or "local") == "local"


def keep_ray_on_loopback() -> None:
    """Make the Ray started by this process listen on 127.0.0.1 only (GCS, raylet, workers, agents).

    Ray binds its own ports to every interface unless the node's address is the loopback one, which it picks
    where clusters are off: ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (what Ray does on macOS and Windows).
    Ray reads it when imported, so this is set first (and on Ray's constant if Ray is already imported).
    """
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None:
        setattr(constants, "ENABLE_RAY_CLUSTER", False)  # noqa: B010 (a constant of Ray's, not in its type hints)


def serve_until_stopped(
    app: Any,
    *,
    model: str,
    host: str,
    port: int,
    address: str | None,
    limits: ServeLimits | None = None,
    say: Callable[[str], object] = print,
) -> None:
    """Start Ray (at ``address``, without its dashboard) and Serve on ``host:port`` with the proxy guard of
    ``limits``; run ``app`` until Ctrl-C or SIGTERM, then stop both. ``say`` prints the two status lines."""
    import ray
    from ray import serve

    from rerank_core.serving.app import serve_start_options

    if starts_local_ray(address):
        ray.init(address=address, include_dashboard=False)
    else:
        ray.init(address=address)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # after ray.init, which installs a handler that aborts
    try:
        serve.start(**serve_start_options(host, port, limits))
        serve.run(app, route_prefix="/")
        routes = "POST /rerank, /v2/rerank, /v1/rerank; GET /health, /metrics, /docs"
        say(f"Serving {model} at http://{host}:{port} ({routes}). Ctrl-C stops.")
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        say("Stopping.")
        serve.shutdown()
        ray.shutdown()
