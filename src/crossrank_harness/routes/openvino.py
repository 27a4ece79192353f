"""OpenVINO by hand, as a reference for crossrank's OpenVINO rows: the same ONNX graph compiled with the same
precision hint, the same tokens, length-sorted batches of the same size; no crossrank code on the scoring path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


class OpenVinoByHandRoute:
    """``tokenizers`` pair encoding (truncated to the window), length-sorted right-padded batches, one infer request
    of an OpenVINO model compiled for the CPU, then a sort."""

    def __init__(self, onnx_dir: str, max_length: int, batch_size: int, precision_hint: str) -> None:
        import openvino as ov
        from tokenizers import Tokenizer

        folder = Path(onnx_dir)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.pad_id = int((self.tokenizer.padding or {}).get("pad_id", 0))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length)
        config = {"INFERENCE_PRECISION_HINT": precision_hint, "PERFORMANCE_HINT": "LATENCY"}
        compiled = ov.Core().compile_model(str(folder / "model.onnx"), "CPU", config)
        self.inputs = [port.any_name for port in compiled.inputs]
        self.request = compiled.create_infer_request()
        self.output = compiled.outputs[0]
        self.batch_size = batch_size

    def prepare(self, query: str, doc_ids: Sequence[str], texts: Sequence[str]) -> tuple[list[str], list[str]]:
        """The ids and the texts."""
        return list(doc_ids), list(texts)

    def rerank(self, query: str, prepared: tuple[list[str], list[str]]) -> list[str]:
        """Encode every pair, score them in length-sorted batches and sort best first (ties keep input order)."""
        doc_ids, texts = prepared
        encodings = self.tokenizer.encode_batch([(query, text) for text in texts])
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        scores = np.empty(len(texts), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            scores[rows] = self._forward([encodings[i] for i in rows])
        return [doc_ids[i] for i in np.argsort(-scores, kind="stable")]

    def _forward(self, batch: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in batch)
        names = ("input_ids", "attention_mask", "token_type_ids")
        arrays = {name: np.zeros((len(batch), width), dtype=np.int64) for name in names}
        arrays["input_ids"].fill(self.pad_id)
        for row, encoding in enumerate(batch):
            n = len(encoding.ids)
            arrays["input_ids"][row, :n] = encoding.ids
            arrays["attention_mask"][row, :n] = 1
            arrays["token_type_ids"][row, :n] = encoding.type_ids
        logits = self.request.infer({name: arrays[name] for name in self.inputs})[self.output]
        return np.asarray(logits, dtype=np.float32)[:, -1]
