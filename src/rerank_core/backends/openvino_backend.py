"""OpenVINO backend: runs a cross-encoder with ``openvino`` and ``tokenizers`` only (no torch at inference).

The model is an OpenVINO IR in the model's folder (``openvino_model.xml`` there or under ``openvino/``, as
optimum-intel and hub repos ship it, or what ``crossrank export-openvino`` writes), else the ONNX graph the ONNX
backend runs (the folder's own, or crossrank's cached export). It is compiled once per scorer for the CPU, with
the inference precision of ``precision``:

- ``bf16``: matrix products in bf16 (AMX or AVX-512 BF16); ``precision="auto"`` picks it where the CPU has them;
- ``fp32``: everything in fp32 (set explicitly, since OpenVINO itself defaults to bf16 on such CPUs);
- ``int8``: a statically quantized IR (``openvino_model_int8.xml``, or ``openvino_model_qint8_quantized.xml`` as
  sentence-transformers names it), made by :func:`rerank_core.backends.openvino_export.quantize_openvino` from
  calibration pairs; without one in the folder, it is made once from the built-in calibration pairs into
  crossrank's cache. Its other layers run in fp32. Nothing picks int8 implicitly.

Every family the ONNX export covers runs here (the graph is the family's scoring module, see
:mod:`rerank_core.backends.onnx_export`): encoder classifiers, decoder classifiers and LLM rerankers.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import openvino as ov
from tokenizers import Tokenizer

from rerank_core.backends.cpu import usable_cores
from rerank_core.backends.graph_model import check_inputs, graph_spec, logits_output
from rerank_core.backends.onnx_files import model_files
from rerank_core.backends.openvino_files import ir_files
from rerank_core.backends.precision import resolve_precision
from rerank_core.engine.model_spec import ModelSpec
from rerank_core.errors import InvalidArgumentError, ModelLoadError

if TYPE_CHECKING:
    from rerank_core.options import ScorerOptions

logger = logging.getLogger(__name__)

INFERENCE_PRECISION = {"fp32": "f32", "bf16": "bf16", "int8": "f32"}
"""OpenVINO's ``INFERENCE_PRECISION_HINT`` for each precision (int8: the layers left unquantized)."""


class OpenVinoBackend:
    """A cross-encoder compiled by OpenVINO for the CPU, with the model's tokenizer and limits.

    One compiled model per scorer; each thread that scores gets its own infer request (requests are not
    thread-safe), so concurrent calls never share buffers.
    """

    def __init__(self, compiled: ov.CompiledModel, tokenizer: Tokenizer, spec: ModelSpec, precision: str) -> None:
        self.compiled = compiled
        self.input_names = check_inputs(
            [(port.any_name, str(port.element_type), port.element_type == ov.Type.i64) for port in compiled.inputs]
        )
        outputs = compiled.outputs
        described = [
            (
                port.any_name,
                str(port.element_type),
                port.partial_shape.rank.get_length(),
                port.element_type == ov.Type.f32,
            )
            for port in outputs
        ]
        self._output = outputs[logits_output(described)]
        self.tokenizer = tokenizer
        self.spec = spec
        self.family = spec.family
        self.max_length = spec.max_length
        self.pad_token_id = spec.pad_token_id
        self.device = "cpu"
        self.precision = precision
        self._requests = threading.local()

    def forward(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Run the model on one padded batch and return float32 logits ``(batch, num_labels)``."""
        request = getattr(self._requests, "request", None)
        if request is None:
            request = self._requests.request = self.compiled.create_infer_request()
        result = request.infer({name: batch[name] for name in self.input_names})
        return np.array(result[self._output], dtype=np.float32)


def load_openvino_backend(model_name_or_path: str, options: ScorerOptions) -> OpenVinoBackend:
    """Load a cross-encoder (OpenVINO IR folder, ONNX folder, checkpoint folder or hub id) and compile it for the
    CPU with OpenVINO.

    A checkpoint without an IR or ONNX graph is exported to ONNX once (needs PyTorch) into crossrank's cache, as
    for ``backend="onnx"``; ``trust_remote_code`` applies to that export only.
    """
    device, precision, threads, max_length = options.device, options.precision, options.threads, options.max_length
    if options.model_kwargs:
        raise InvalidArgumentError(
            "model_kwargs are passed to the torch backend's from_pretrained; backend='openvino' runs an exported "
            "model and takes none. Export the model with the options you need, then load that folder."
        )
    if device not in (None, "cpu"):
        raise InvalidArgumentError(
            f"backend='openvino' runs on the CPU (device='cpu' or None), got device={device!r}; use backend='torch' "
            "or 'onnx' for CUDA."
        )
    chosen, reason = resolve_precision(precision, backend="openvino", device="cpu")
    found = ir_files(model_name_or_path, chosen, options.trust_remote_code, options.family, options.cache_folder)
    if found is None:  # no IR: the ONNX graph (the folder's, or crossrank's export)
        graph, folder, family = model_files(
            model_name_or_path, "fp32", options.trust_remote_code, options.family, cache_folder=options.cache_folder
        )
    else:
        graph, folder, family = found
    tokenizer, spec = graph_spec(model_name_or_path, folder, max_length, family)
    config = {
        "INFERENCE_PRECISION_HINT": INFERENCE_PRECISION[chosen],
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_NUM_THREADS": threads or usable_cores(),
    }
    model = _compiled(graph, config)
    if chosen == "bf16" and model.get_property("INFERENCE_PRECISION_HINT") != ov.Type.bf16:
        logger.warning("OpenVINO runs bf16 only on CPUs with AMX or AVX-512 BF16; this one runs %s in fp32", graph)
        chosen, reason = "fp32", "bf16 asked, but this CPU has no bf16 instructions"
    backend = OpenVinoBackend(model, tokenizer, spec, chosen)
    logger.info(
        "Loaded %s from %s with OpenVINO %s on CPU (%s, %s; %d threads; max_length=%d)",
        model_name_or_path,
        graph,
        ov.get_version(),
        chosen,
        reason,
        config["INFERENCE_NUM_THREADS"],
        backend.max_length,
    )
    return backend


def _compiled(graph: Path, config: dict[str, Any]) -> ov.CompiledModel:
    """``graph`` (IR or ONNX) read and compiled for the CPU with ``config``."""
    core = ov.Core()
    try:
        model = core.read_model(str(graph))
    except Exception as exc:  # OpenVINO raises RuntimeError subclasses of its own for unreadable files
        raise ModelLoadError(
            f"OpenVINO cannot read {graph} ({type(exc).__name__}: {' '.join(str(exc).split())}). The file is damaged "
            "or not a model: "
            "download or export it again (crossrank export-openvino MODEL OUT_DIR)."
        ) from exc
    return core.compile_model(model, "CPU", config)
