"""``crossrank serve``: a cross-encoder behind ``POST /rerank`` on Ray Serve."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any

import typer

from rerank_core import DEFAULT_MODEL

from .exit_codes import reported_errors
from .options import (
    AddressOption,
    BackendChoice,
    BackendOption,
    DeviceOption,
    FamilyOption,
    InstructionOption,
    ModelOption,
    NumGpusOption,
    PrecisionChoice,
    PrecisionOption,
)


def serve_command(
    model: ModelOption = DEFAULT_MODEL,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="HTTP port.")] = 8000,
    replicas: Annotated[
        int, typer.Option(min=1, help="Replicas, each a Ray actor with its own copy of the model.")
    ] = 1,
    min_replicas: Annotated[
        int | None, typer.Option(min=1, help="Autoscale from this many replicas (with --max-replicas).")
    ] = None,
    max_replicas: Annotated[
        int | None, typer.Option(min=1, help="Autoscale up to this many replicas (with --min-replicas).")
    ] = None,
    max_batch_pairs: Annotated[
        int, typer.Option(min=1, help="Most (query, document) pairs merged from concurrent requests into one batch.")
    ] = 1024,
    batch_wait_ms: Annotated[
        float, typer.Option(min=0, help="How long a request waits for others to share its batch.")
    ] = 10.0,
    max_ongoing_requests: Annotated[
        int, typer.Option(min=1, help="Requests a replica holds at once (waiting for a batch or being scored).")
    ] = 64,
    max_documents: Annotated[int, typer.Option(min=1, help="Documents per request; more get 413.")] = 1000,
    max_body_mb: Annotated[float, typer.Option(min=0.001, help="Request body size limit; larger get 413.")] = 16.0,
    num_cpus: Annotated[
        float, typer.Option(min=0, help="CPUs each Ray actor reserves (PyTorch uses as many threads).")
    ] = 1.0,
    num_gpus: NumGpusOption = 0.0,
    backend: BackendOption = BackendChoice.torch,
    precision: PrecisionOption = PrecisionChoice.auto,
    family: FamilyOption = None,
    instruction: InstructionOption = None,
    device: DeviceOption = None,
    address: AddressOption = None,
) -> None:
    """Serve a cross-encoder on Ray Serve: POST /rerank (query, documents, top_n, ...) and GET /health."""
    with reported_errors("ray"):
        from rerank_core.rerank_api import ServeLimits
        from rerank_core.serving import build_app

        app = build_app(
            model,
            replicas=replicas,
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            max_batch_pairs=max_batch_pairs,
            batch_wait_ms=batch_wait_ms,
            max_ongoing_requests=max_ongoing_requests,
            limits=ServeLimits(max_documents=max_documents, max_body_bytes=int(max_body_mb * 1024 * 1024)),
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            backend=backend.value,
            precision=precision.value,
            family=None if family is None else family.value,
            instruction=instruction,
            device=device,
        )
        serve_until_stopped(app, model=model, host=host, port=port, address=address)


def serve_until_stopped(app: Any, *, model: str, host: str, port: int, address: str | None) -> None:
    """Start Ray (at ``address``) and Serve on ``host:port``, run ``app`` until Ctrl-C or SIGTERM, stop both."""
    import ray
    from ray import serve

    ray.init(address=address)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # after ray.init, which installs a handler that aborts
    try:
        serve.start(http_options={"host": host, "port": port})
        serve.run(app, route_prefix="/")
        typer.echo(f"Serving {model} at http://{host}:{port} (POST /rerank, GET /health). Ctrl-C stops.")
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        typer.echo("Stopping.")
        serve.shutdown()
        ray.shutdown()
