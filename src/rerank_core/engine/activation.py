"""Turn a model's raw logits into one relevance score per pair."""

from __future__ import annotations

from typing import Literal

import numpy as np

from rerank_core.errors import ModelLoadError

Activation = Literal["sigmoid", "none", "calibrated"]
ACTIVATIONS: tuple[str, ...] = ("sigmoid", "none", "calibrated")


def relevance_scores(logits: np.ndarray, activation: Activation, shift: float | None = None) -> np.ndarray:
    """Map logits of shape ``(n, num_labels)`` to float32 relevance scores of shape ``(n,)``.

    - One logit: ``sigmoid`` gives ``1 / (1 + exp(-logit))``; ``none`` gives the logit.
    - Two labels (negative, positive): ``sigmoid`` gives the softmax probability of the positive
      class (label 1), which equals ``sigmoid(l1 - l0)``; ``none`` gives the margin ``l1 - l0``.

    - ``calibrated`` (families whose authors publish a calibration, such as mxbai-rerank-v2): the sigmoid
      of the raw score minus ``shift``.

    Every choice preserves the order of the raw model output.
    """
    logits = np.asarray(logits, dtype=np.float32)
    if logits.ndim == 1:
        logits = logits[:, None]
    num_labels = logits.shape[1]
    if num_labels == 1:
        raw = logits[:, 0]
    elif num_labels == 2:
        raw = logits[:, 1] - logits[:, 0]
    else:
        raise ModelLoadError(
            f"The model has {num_labels} output labels; a reranker needs a model with one relevance "
            "logit or two labels (not relevant, relevant)."
        )
    if activation == "none":
        return raw.astype(np.float32, copy=False)
    if activation == "calibrated":
        if shift is None:
            raise ModelLoadError("activation='calibrated' needs a model family that publishes a calibration.")
        raw = raw - np.float32(shift)
    # A numerically stable sigmoid for large negative logits.
    out = np.empty_like(raw)
    pos = raw >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-raw[pos]))
    exp = np.exp(raw[~pos])
    out[~pos] = exp / (1.0 + exp)
    return out
