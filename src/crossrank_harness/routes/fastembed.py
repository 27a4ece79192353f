"""FastEmbed's ``TextCrossEncoder`` on a local ONNX folder, as a bench reference on identical weights."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import RerankRoute

_NAME = "crossrank-bench/local-cross-encoder"
"""The name the local folder is registered under (FastEmbed loads custom models by name)."""


class FastEmbedRoute:
    """``TextCrossEncoder.rerank(query, texts)`` sorted best first."""

    def __init__(self, model: Any, batch_size: int) -> None:
        self.model = model
        self.batch_size = batch_size

    def prepare(self, query: str, doc_ids: Sequence[str], texts: Sequence[str]) -> tuple[list[str], list[str]]:
        """The ids and texts as lists."""
        return list(doc_ids), list(texts)

    def rerank(self, query: str, prepared: tuple[list[str], list[str]]) -> list[str]:
        """Score every text and sort best first (ties keep input order)."""
        doc_ids, texts = prepared
        scores = np.fromiter(self.model.rerank(query, texts, batch_size=self.batch_size), dtype=np.float64)
        return [doc_ids[i] for i in np.argsort(-scores, kind="stable")]


def fastembed_route(onnx_dir: str, max_length: int, batch_size: int) -> RerankRoute:
    """Register ``onnx_dir`` (model.onnx + tokenizer files) as a FastEmbed custom model and load it from there.

    FastEmbed reads the token limit from the folder's ``tokenizer_config.json``; a folder whose limit
    differs from ``max_length`` is refused, so the comparison stays on the same tokens.
    """
    import json

    from fastembed.common.model_description import ModelSource
    from fastembed.rerank.cross_encoder import TextCrossEncoder

    config = json.loads((Path(onnx_dir) / "tokenizer_config.json").read_text(encoding="utf-8"))
    if config.get("model_max_length") != max_length:
        raise RuntimeError(
            f"FastEmbed would read {config.get('model_max_length')} tokens per pair from {onnx_dir}, "
            f"the other rows {max_length}."
        )
    if _NAME not in {m["model"] for m in TextCrossEncoder.list_supported_models()}:
        TextCrossEncoder.add_custom_model(model=_NAME, sources=ModelSource(hf=_NAME), model_file="model.onnx")
    model = TextCrossEncoder(model_name=_NAME, specific_model_path=onnx_dir, cuda=False)
    return FastEmbedRoute(model, batch_size)
