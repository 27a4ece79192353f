"""Export a cross-encoder to an OpenVINO IR for ``backend="openvino"``, optionally statically quantized to int8.

The IR is converted from the ONNX graph the ONNX backend runs (the model's own, or crossrank's export: PyTorch is
needed that one time), with fp32 weights. int8 is NNCF's static post-training quantization: the matrix products of
the encoder get int8 weights and int8 activations whose ranges are calibrated on (query, text) pairs tokenized
exactly as scoring tokenizes them (the user's, or :mod:`rerank_core.backends.calibration_pairs`). NNCF's
transformer preset keeps the layers that hurt ranking when quantized in floating point (layer norms, softmax, the
attention score products, GELU) and quantizes weights per channel.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rerank_core.backends.calibration_pairs import calibration_pairs
from rerank_core.backends.graph_model import graph_spec
from rerank_core.backends.onnx_export import FAMILY_FILE
from rerank_core.backends.onnx_files import model_files
from rerank_core.backends.openvino_files import INT8_IR_FILE, IR_FILE
from rerank_core.engine.batching import pad_batch
from rerank_core.errors import InvalidArgumentError, MissingDependencyError

logger = logging.getLogger(__name__)

_SIDE_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")


def export_openvino(
    model_name_or_path: str,
    out_dir: str | Path,
    *,
    quantize: Literal["int8"] | None = None,
    calibration: Sequence[tuple[str, str]] | None = None,
    trust_remote_code: bool = False,
    family: str | None = None,
) -> Path:
    """Export a cross-encoder (hub id, checkpoint folder or ONNX folder) to a self-contained OpenVINO folder.

    ``out_dir`` receives ``openvino_model.xml`` / ``.bin`` (fp32 weights; bf16 or fp32 is chosen when loading),
    ``openvino_model_int8.xml`` / ``.bin`` with ``quantize="int8"`` (calibrated on ``calibration``, (query, text)
    pairs, or the built-in ones), the tokenizer and config files and ``crossrank.json`` (the family). It loads
    with ``CrossEncoderScorer(out_dir, backend="openvino")`` (``precision="int8"`` for the int8 IR).

    Raises:
        MissingDependencyError: OpenVINO (or NNCF for int8, PyTorch for a checkpoint without ONNX) is missing.
        ModelNotFoundError, ModelLoadError: as for ``backend="onnx"``.
        InvalidArgumentError: a bad ``quantize`` or empty ``calibration``.
    """
    if quantize not in (None, "int8"):
        raise InvalidArgumentError(f"quantize must be None or 'int8', got {quantize!r}.")
    if calibration is not None and not calibration:
        raise InvalidArgumentError("calibration must hold at least one (query, text) pair, or be None.")
    ov = _openvino()
    graph, folder, chosen = model_files(model_name_or_path, "fp32", trust_remote_code, family)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in _SIDE_FILES:
        if (folder / name).is_file():
            shutil.copyfile(folder / name, out / name)
    (out / FAMILY_FILE).write_text(json.dumps({"family": chosen}) + "\n", encoding="utf-8")
    ov.save_model(ov.convert_model(str(graph)), str(out / IR_FILE), compress_to_fp16=False)
    if quantize == "int8":
        quantize_openvino(out / IR_FILE, out, out / INT8_IR_FILE, family=chosen, pairs=calibration)
    logger.info("Exported %s to %s (OpenVINO IR%s)", model_name_or_path, out, ", int8" if quantize else "")
    return out


def quantize_openvino(
    source: Path,
    folder: Path,
    target: Path,
    *,
    family: str,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> None:
    """Write an int8 IR of ``source`` (an IR or ONNX graph) to ``target``, calibrated on ``pairs`` (default: the
    built-in ones) tokenized with the tokenizer and family of ``folder``."""
    ov = _openvino()
    try:
        import nncf
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or "nncf", "openvino", "int8 quantization needs NNCF.") from exc
    model = ov.Core().read_model(str(source))
    names = [port.any_name for port in model.inputs]
    items = calibration_inputs(folder, family, pairs or calibration_pairs(), names)
    quantized = nncf.quantize(
        model,
        nncf.Dataset(items),
        model_type=nncf.ModelType.TRANSFORMER,
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(items),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(target), compress_to_fp16=False)


def calibration_inputs(
    folder: Path, family: str, pairs: Sequence[tuple[str, str]], input_names: Sequence[str]
) -> list[dict[str, np.ndarray]]:
    """One model input per pair, tokenized and truncated exactly as scoring does (the family's pair template or
    prompt, the model's window)."""
    tokenizer, spec = graph_spec(str(folder), folder, None, family)
    encoder = spec.encoder(tokenizer)
    items = []
    for query, text in pairs:
        encodings = encoder.encode(query, [text], None).encodings
        items.append(pad_batch(encodings, np.arange(len(encodings)), spec.pad_token_id, input_names))
    return items


def read_calibration(path: str | Path) -> list[tuple[str, str]]:
    """Calibration pairs from a JSON Lines file of ``{"query": ..., "text": ...}`` objects (blank lines skipped)."""
    pairs = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row: Any = json.loads(line)
            except ValueError as exc:
                raise InvalidArgumentError(f"{path}, line {number}: not JSON ({exc}).") from exc
            if not isinstance(row, dict) or not all(isinstance(row.get(key), str) for key in ("query", "text")):
                raise InvalidArgumentError(f'{path}, line {number}: expected {{"query": str, "text": str}}.')
            pairs.append((row["query"], row["text"]))
    if not pairs:
        raise InvalidArgumentError(f"{path} holds no calibration pairs.")
    return pairs


def _openvino() -> Any:
    try:
        import openvino
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(exc.name or "openvino", "openvino") from exc
    return openvino
