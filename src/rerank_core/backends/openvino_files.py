"""Where the OpenVINO backend finds an IR: in the model's folder (or its ``openvino/``), or, for int8, in crossrank's
cache, quantized once from the built-in calibration pairs."""

from __future__ import annotations

import logging
from pathlib import Path

from rerank_core.backends.onnx_files import find_graph, graph_family, model_files, model_folder
from rerank_core.engine.cache_files import fingerprint, slug

logger = logging.getLogger(__name__)

IR_FILE = "openvino_model.xml"
"""The IR's file name, as optimum-intel and hub repos use it (its weights are the ``.bin`` beside it)."""
INT8_IR_FILE = "openvino_model_int8.xml"
"""A statically quantized IR, as ``crossrank export-openvino --quantize int8`` writes it."""
INT8_IR_FILES = (INT8_IR_FILE, "openvino_model_qint8_quantized.xml")
"""int8 IR names looked for: crossrank's, then sentence-transformers' (``export_static_quantized_openvino_model``)."""


def ir_files(
    model_name_or_path: str, precision: str, trust_remote_code: bool, family: str | None, cache_folder: str | None
) -> tuple[Path, Path, str] | None:
    """The IR to run for ``precision``, the folder holding its tokenizer.json and config.json, and its family;
    ``None`` when the model ships no IR and ``precision`` is not int8 (the ONNX graph is run then).

    A local folder is searched (``folder/NAME`` and ``folder/openvino/NAME``); a hub id uses its ONNX weights or
    an export. For int8 without a quantized IR, the fp32 IR (or the ONNX graph) is quantized once into the cache.
    """
    if precision == "int8":
        folder = model_folder(model_name_or_path, trust_remote_code, cache_folder)
        chosen = graph_family(model_name_or_path, folder, family)
        shipped = next((path for name in INT8_IR_FILES if (path := find_graph(folder, name, "openvino"))), None)
        if shipped is not None:
            return shipped, folder, chosen
        source = find_graph(folder, IR_FILE, "openvino")
        if source is None:
            source, folder, chosen = model_files(model_name_or_path, "fp32", trust_remote_code, family, cache_folder)
        return _cached_int8(model_name_or_path, source, folder, chosen), folder, chosen
    path = Path(model_name_or_path).expanduser()
    if not path.is_dir():
        return None
    ir = find_graph(path.resolve(), IR_FILE, "openvino")
    return None if ir is None else (ir, path.resolve(), graph_family(model_name_or_path, path.resolve(), family))


def _cached_int8(model_name_or_path: str, source: Path, folder: Path, family: str) -> Path:
    """An int8 IR of ``source`` quantized with the built-in calibration pairs, made once into the cache."""
    from rerank_core.backends.onnx_files import cached_build
    from rerank_core.backends.openvino_export import quantize_openvino

    logger.info(
        "No int8 OpenVINO IR in %s: quantizing %s once with the built-in calibration pairs (crossrank "
        "export-openvino --quantize int8 --calibration FILE calibrates on your own pairs)",
        folder,
        source.name,
    )
    built = cached_build(
        "openvino",
        slug(model_name_or_path),
        [*_weights_fingerprint(source), f"family={family}", "quantize=int8", "calibration=built-in"],
        lambda out: quantize_openvino(source, folder, out / INT8_IR_FILE, family=family),
    )
    return built / INT8_IR_FILE


def _weights_fingerprint(graph: Path) -> list[str]:
    """:func:`fingerprint` of a graph and of the weights file beside it (an IR's ``.bin``), if any."""
    weights = graph.with_suffix(".bin")
    return [*fingerprint(graph), *(fingerprint(weights) if weights.is_file() else [])]
