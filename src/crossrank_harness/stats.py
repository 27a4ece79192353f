"""Summaries of timing samples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def latency_summary(milliseconds: Sequence[float]) -> dict[str, float]:
    """Mean, median and 95th percentile of per-call times, in milliseconds (NaN when there are none)."""
    if len(milliseconds) == 0:
        return {"mean": float("nan"), "p50": float("nan"), "p95": float("nan")}
    values = np.asarray(milliseconds, dtype=np.float64)
    return {
        "mean": float(values.mean()),
        "p50": float(np.percentile(values, 50)),
        "p95": float(np.percentile(values, 95)),
    }
