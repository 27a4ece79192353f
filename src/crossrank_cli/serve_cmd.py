"""``crossrank serve``: a cross-encoder behind TEI's and Cohere's rerank routes on Ray Serve."""

from __future__ import annotations

from typing import Annotated

import typer

from rerank_core import DEFAULT_MODEL
from rerank_core.serving.ray_runtime import is_loopback, keep_ray_on_loopback, serve_until_stopped, starts_local_ray
from rerank_core.serving.wire import ServeLimits

from .exit_codes import reported_errors
from .options import (
    DEFAULT_BACKEND,
    DEFAULT_PRECISION,
    AddressOption,
    BackendOption,
    DeviceOption,
    FamilyOption,
    InstructionOption,
    ModelOption,
    NumGpusOption,
    PrecisionOption,
    scorer_flags,
)

MIB = 1024 * 1024
_LIMITS = ServeLimits()
"""The request bounds' defaults, which the flags take from the one place they are defined."""


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
    max_merged_pairs: Annotated[
        int, typer.Option(min=1, help="Most (query, document) pairs merged from concurrent requests into one batch.")
    ] = 1024,
    merge_wait_ms: Annotated[
        float, typer.Option(min=0, help="How long a request waits for others to share its batch.")
    ] = 10.0,
    max_ongoing_requests: Annotated[
        int, typer.Option(min=1, help="Requests a replica holds at once (waiting for a batch or being scored).")
    ] = 64,
    max_documents: Annotated[
        int, typer.Option(min=1, help="Documents per request; more get 413.")
    ] = _LIMITS.max_documents,
    max_pairs: Annotated[
        int, typer.Option(min=1, help="(query, document) pairs scored per request (the rank window); more get 413.")
    ] = _LIMITS.max_pairs,
    max_total_chars: Annotated[
        int,
        typer.Option(min=1, help="Characters scored per request, the query counted once per document; more get 413."),
    ] = _LIMITS.max_total_chars,
    max_body_mb: Annotated[
        float, typer.Option(min=0.001, help="Request body size limit; larger get 413 as soon as they pass it.")
    ] = _LIMITS.max_body_bytes / MIB,
    body_timeout_s: Annotated[
        float, typer.Option(min=0.001, help="Seconds for a request's body to arrive after its headers; else 408.")
    ] = _LIMITS.body_timeout_s,
    header_timeout_s: Annotated[
        float, typer.Option(min=0.001, help="Seconds for a request's headers to arrive; else 408.")
    ] = _LIMITS.header_timeout_s,
    max_inflight_mb: Annotated[
        float, typer.Option(min=0.001, help="Request bodies the HTTP proxy holds at once, all together; else 503.")
    ] = _LIMITS.max_inflight_bytes / MIB,
    num_cpus: Annotated[
        float, typer.Option(min=0, help="CPUs each Ray actor reserves (PyTorch uses as many threads).")
    ] = 1.0,
    num_gpus: NumGpusOption = 0.0,
    backend: BackendOption = DEFAULT_BACKEND,
    precision: PrecisionOption = DEFAULT_PRECISION,
    family: FamilyOption = None,
    instruction: InstructionOption = None,
    device: DeviceOption = None,
    address: AddressOption = None,
    api_key: Annotated[
        list[str] | None,
        typer.Option(
            envvar="CROSSRANK_API_KEY",
            help="Require 'Authorization: Bearer KEY' on every route but /health; repeat for several keys "
            "(CROSSRANK_API_KEY: keys separated by spaces).",
            show_envvar=True,
        ),
    ] = None,
) -> None:
    """Serve a cross-encoder on Ray Serve: TEI's POST /rerank, Cohere's POST /v2/rerank and /v1/rerank,
    GET /health, GET /metrics (Prometheus), GET /docs."""
    with reported_errors("ray"):
        if not api_key and not is_loopback(host):
            typer.echo(
                f"Warning: serving on {host} with no API key: anyone who can reach this port can use the model. "
                "Set --api-key or CROSSRANK_API_KEY.",
                err=True,
            )
        if starts_local_ray(address) and is_loopback(host):
            keep_ray_on_loopback()  # before ray is imported: Ray reads the setting then
        from rerank_core.serving.app import build_app

        limits = ServeLimits(
            max_documents=max_documents,
            max_pairs=max_pairs,
            max_total_chars=max_total_chars,
            max_body_bytes=int(max_body_mb * MIB),
            body_timeout_s=body_timeout_s,
            header_timeout_s=header_timeout_s,
            max_inflight_bytes=int(max_inflight_mb * MIB),
        )

        app = build_app(
            model,
            replicas=replicas,
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            max_merged_pairs=max_merged_pairs,
            merge_wait_ms=merge_wait_ms,
            max_ongoing_requests=max_ongoing_requests,
            limits=limits,
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            api_keys=api_key or [],
            **scorer_flags(backend, precision, family, instruction, device),
        )
        serve_until_stopped(app, model=model, host=host, port=port, address=address, limits=limits, say=typer.echo)
