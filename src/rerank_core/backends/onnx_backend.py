"""ONNX Runtime backend: runs a cross-encoder graph with ``onnxruntime`` and ``tokenizers`` only (no torch).

The graph comes from the model's folder (``model.onnx`` or ``onnx/model.onnx``) or a cached export (see
:mod:`rerank_core.backends.onnx_files`). ``precision="int8"`` runs a graph whose encoder weights are int8
(:func:`rerank_core.backends.onnx_export.quantize_int8`); on the real MiniLM cross-encoder over SciFact BM25 top-30
it keeps a mean top-10 overlap of at least 0.95 with fp32 (tests/integration/test_onnx_quality.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from rerank_core.backends.cpu import usable_cores
from rerank_core.backends.graph_model import check_inputs, graph_spec, logits_output
from rerank_core.backends.onnx_files import model_files
from rerank_core.backends.precision import resolve_precision
from rerank_core.engine.model_spec import ModelSpec
from rerank_core.errors import DeviceUnavailableError, InvalidArgumentError, ModelLoadError

if TYPE_CHECKING:
    from rerank_core.options import ScorerOptions

logger = logging.getLogger(__name__)

_CUDA = "CUDAExecutionProvider"
_CPU = "CPUExecutionProvider"


class OnnxBackend:
    """An ONNX Runtime session over a cross-encoder graph, with the model's tokenizer and limits."""

    def __init__(
        self, session: ort.InferenceSession, tokenizer: Tokenizer, spec: ModelSpec, device: str, precision: str
    ) -> None:
        self.session = session
        self.input_names = check_inputs([(i.name, i.type, i.type == "tensor(int64)") for i in session.get_inputs()])
        outputs = session.get_outputs()
        self._output = outputs[
            logits_output([(o.name, o.type, len(o.shape), o.type == "tensor(float)") for o in outputs])
        ].name
        self.tokenizer = tokenizer
        self.spec = spec
        self.family = self.spec.family
        self.max_length = self.spec.max_length
        self.pad_token_id = self.spec.pad_token_id
        self.device = device
        self.precision = precision

    def forward(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Run the graph on one padded batch and return float32 logits ``(batch, num_labels)``."""
        (logits,) = self.session.run([self._output], {name: batch[name] for name in self.input_names})
        return np.asarray(logits, dtype=np.float32)


def load_onnx_backend(model_name_or_path: str, options: ScorerOptions) -> OnnxBackend:
    """Load a cross-encoder (ONNX folder, checkpoint folder or hub id) into an ONNX Runtime session.

    A hub id is downloaded into ``cache_folder`` (the hub's own cache when ``None``). A checkpoint without ONNX
    weights is exported once (needs PyTorch) into crossrank's user cache folder; ``trust_remote_code`` applies to
    that export only.
    """
    device, precision, threads, max_length = options.device, options.precision, options.threads, options.max_length
    trust_remote_code, model_kwargs, family = options.trust_remote_code, options.model_kwargs, options.family
    if model_kwargs:
        raise InvalidArgumentError(
            "model_kwargs are passed to the torch backend's from_pretrained; backend='onnx' runs an ONNX graph "
            "and takes none. Export the model with the options you need, then load that folder."
        )
    resolved, providers = _resolve_device(device)
    chosen, reason = resolve_precision(precision, backend="onnx", device=resolved)
    graph, folder, family_name = model_files(
        model_name_or_path, chosen, trust_remote_code, family, cache_folder=options.cache_folder
    )
    session_options = ort.SessionOptions()
    session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session_options.intra_op_num_threads = threads or usable_cores()
    try:
        session = ort.InferenceSession(str(graph), sess_options=session_options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own Fail / InvalidGraph / InvalidProtobuf types
        raise ModelLoadError(
            f"ONNX Runtime cannot load {graph} ({type(exc).__name__}: {exc}). The file is damaged or not an ONNX "
            "graph: download or export it again (crossrank export-onnx MODEL OUT_DIR)."
        ) from exc
    if resolved.startswith("cuda") and _CUDA not in session.get_providers():
        if device is not None:
            raise DeviceUnavailableError(
                f"device={device!r} was requested but ONNX Runtime's CUDA provider could not start (no usable "
                "GPU, or CUDA / cuDNN libraries missing). Use device='cpu', or install the CUDA libraries that "
                "onnxruntime-gpu needs."
            )
        resolved = "cpu"  # device=None: the CUDA provider is installed but unusable here, so the session runs on CPU

    tokenizer, spec = graph_spec(model_name_or_path, folder, max_length, family_name)
    backend = OnnxBackend(session, tokenizer, spec, resolved, chosen)
    logger.info(
        "Loaded %s from %s with ONNX Runtime on %s (%s, %s; %d intra-op threads; max_length=%d)",
        model_name_or_path,
        graph,
        session.get_providers()[0],
        chosen,
        reason,
        session_options.intra_op_num_threads,
        backend.max_length,
    )
    return backend


def _resolve_device(device: str | None) -> tuple[str, list[str | tuple[str, dict[str, Any]]]]:
    """The device name and ONNX Runtime providers: CUDA when asked or (for ``None``) when available."""
    available = ort.get_available_providers()
    if device is None:
        device = "cuda" if _CUDA in available else "cpu"
    if device.startswith("cuda"):
        if _CUDA not in available:
            raise DeviceUnavailableError(
                f"device={device!r} was requested but this onnxruntime has no CUDA execution provider "
                f"(it has {', '.join(available)}). Use device='cpu', or replace onnxruntime with onnxruntime-gpu "
                "(pip uninstall onnxruntime && pip install onnxruntime-gpu)."
            )
        _, _, index = device.partition(":")
        return device, [(_CUDA, {"device_id": int(index or 0)}), _CPU]
    if device != "cpu":
        raise InvalidArgumentError(f"backend='onnx' runs on 'cpu' or 'cuda[:N]', got device={device!r}.")
    return device, [_CPU]
