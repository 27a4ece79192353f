"""Numeric precision: which ones each backend and device run, and what ``"auto"`` picks.

``"auto"`` is the fastest precision that keeps the ranking: fp16 on CUDA; on CPU, bf16 where the
CPU multiplies bf16 in hardware (AMX or AVX-512 BF16) and fp32 elsewhere (torch and OpenVINO alike).
ONNX Runtime runs fp32 unless int8 is asked for: int8 changes rankings more than bf16 does, so nothing
picks it implicitly.
"""

from __future__ import annotations

from typing import Literal, get_args

from rerank_core.backends import supported_precisions
from rerank_core.backends.cpu import CpuInfo, this_cpu
from rerank_core.errors import InvalidArgumentError

Precision = Literal["auto", "fp32", "bf16", "fp16", "int8"]
PRECISIONS: tuple[Precision, ...] = get_args(Precision)


def check_precision(precision: object) -> Precision:
    """Return ``precision`` if it is one of :data:`PRECISIONS`."""
    for known in PRECISIONS:
        if precision == known:
            return known
    raise InvalidArgumentError(f"precision must be one of {PRECISIONS}, got {precision!r}.")


def resolve_precision(
    precision: Precision, *, backend: str, device: str, cpu: CpuInfo | None = None
) -> tuple[str, str]:
    """The concrete precision for ``backend`` on ``device`` and the reason, for the load log.

    Raises:
        InvalidArgumentError: the backend cannot run that precision on that device (the message
            says which can).
    """
    device_type = device.split(":", 1)[0]
    supported = supported_precisions(backend, device_type)
    if precision != "auto":
        if precision not in supported:
            raise InvalidArgumentError(
                f"precision={precision!r} is not available for backend={backend!r} on {device_type}; "
                f"choose one of {('auto', *supported)}."
                + (" int8 runs on backend='onnx' or 'openvino'." if precision == "int8" else "")
            )
        return precision, "requested"
    if device_type == "cuda" and "fp16" in supported:
        return "fp16", "auto: CUDA runs fp16 tensor cores"
    if device_type == "cpu" and "bf16" in supported:
        info = cpu or this_cpu()
        if info.fast_bf16:
            found = [flag for flag in ("amx_bf16", "avx512_bf16") if info.flags.get(flag)]
            return "bf16", f"auto: the CPU has {' and '.join(found)}"
        return "fp32", "auto: the CPU has no bf16 instructions (AMX or AVX-512 BF16)"
    return "fp32", "auto"
