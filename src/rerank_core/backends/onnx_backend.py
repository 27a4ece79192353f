"""ONNX Runtime backend: runs a cross-encoder graph with ``onnxruntime`` and ``tokenizers`` only (no torch).

The graph comes from the model's folder (``model.onnx`` or ``onnx/model.onnx``) or a cached export (see
:mod:`rerank_core.backends.onnx_files`). ``precision="int8"`` runs a graph whose encoder weights are int8
(:func:`rerank_core.backends.onnx_export.quantize_int8`); on the real MiniLM cross-encoder over SciFact BM25 top-30
it keeps a mean top-10 overlap of at least 0.95 with fp32 (tests/integration/test_onnx_quality.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from rerank_core.backends.onnx_export import MODEL_INPUTS
from rerank_core.backends.onnx_files import model_files, read_json
from rerank_core.backends.precision import resolve_precision
from rerank_core.engine.model_spec import ModelSpec, model_spec
from rerank_core.errors import DeviceUnavailableError, InvalidArgumentError, ModelLoadError

if TYPE_CHECKING:
    from rerank_core.options import ScorerOptions

logger = logging.getLogger(__name__)

_CUDA = "CUDAExecutionProvider"
_CPU = "CPUExecutionProvider"


class OnnxBackend:
    """An ONNX Runtime session over a cross-encoder graph, with the model's tokenizer and limits."""

    def __init__(
        self,
        session: ort.InferenceSession,
        folder: Path,
        spec_for: Callable[[Tokenizer, dict[str, Any], dict[str, Any]], ModelSpec],
        device: str,
        precision: str,
    ) -> None:
        self.session = session
        self.input_names = _check_inputs(session)
        self._output = _logits_output(session)
        self.tokenizer = _load_tokenizer(folder)
        special_tokens = read_json(folder / "special_tokens_map.json") | read_json(folder / "tokenizer_config.json")
        self.spec = spec_for(self.tokenizer, read_json(folder / "config.json"), special_tokens)
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
    session_options.intra_op_num_threads = threads or _cores()
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

    def spec_for(tokenizer: Tokenizer, config: dict[str, Any], special_tokens: dict[str, Any]) -> ModelSpec:
        return model_spec(
            model_name_or_path,
            config,
            tokenizer,
            special_tokens,
            tokenizer_limit=special_tokens.get("model_max_length"),
            max_length=max_length,
            family=family_name,
        )

    backend = OnnxBackend(session, folder, spec_for, resolved, chosen)
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


def _cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _check_inputs(session: ort.InferenceSession) -> tuple[str, ...]:
    """The graph's inputs, if they are a cross-encoder's (token ids and mask, maybe token types)."""
    inputs = session.get_inputs()
    names = tuple(node.name for node in inputs)
    unusable = [
        f"{node.name} ({node.type})" for node in inputs if node.name not in MODEL_INPUTS or node.type != "tensor(int64)"
    ]
    if unusable or "input_ids" not in names or "attention_mask" not in names:
        raise ModelLoadError(
            f"The ONNX graph takes {', '.join(f'{n.name} ({n.type})' for n in inputs)}; a cross-encoder graph takes "
            "int64 input_ids, attention_mask and optionally token_type_ids. Export the cross-encoder with "
            "crossrank export-onnx MODEL OUT_DIR."
        )
    return names


def _logits_output(session: ort.InferenceSession) -> str:
    """The output holding ``(batch, num_labels)`` logits: ``logits`` if named so, else the only output."""
    outputs = session.get_outputs()
    chosen = next((node for node in outputs if node.name == "logits"), outputs[0] if len(outputs) == 1 else None)
    if chosen is None or len(chosen.shape) != 2 or chosen.type != "tensor(float)":
        found = ", ".join(f"{node.name} {node.type} {node.shape}" for node in outputs)
        raise ModelLoadError(
            f"The ONNX graph outputs {found}; a cross-encoder graph outputs float logits of shape (batch, labels). "
            "This looks like another kind of model (an embedding model?): export the cross-encoder with "
            "crossrank export-onnx MODEL OUT_DIR."
        )
    return chosen.name


def _load_tokenizer(folder: Path) -> Tokenizer:
    """The fast tokenizer saved with the model."""
    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ModelLoadError(
            f"{folder} has no tokenizer.json; the ONNX backend builds pairs with the fast tokenizer. Save it beside "
            "the graph (AutoTokenizer.from_pretrained(checkpoint).save_pretrained(folder)) or export the model "
            "with crossrank export-onnx MODEL OUT_DIR, which writes it."
        )
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a plain Exception on a malformed file
        raise ModelLoadError(f"Cannot read {path} ({exc}); save the tokenizer again.") from exc
