"""Option values shared by the commands."""

from __future__ import annotations

from enum import StrEnum


class BackendChoice(StrEnum):
    """``--backend`` values."""

    torch = "torch"
    onnx = "onnx"


class PrecisionChoice(StrEnum):
    """``--precision`` values: ``auto`` is the fastest precision that keeps the ranking on this machine."""

    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"
    fp16 = "fp16"
    int8 = "int8"
