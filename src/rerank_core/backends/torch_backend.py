"""PyTorch backend: loads the model with ``sentence_transformers.CrossEncoder``."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from sentence_transformers import CrossEncoder
from tokenizers import Tokenizer

from ..errors import DeviceUnavailableError, InvalidArgumentError, ModelLoadError
from ..limits import own_max_length
from ..model_loading import CROSS_ENCODER, loading_model
from ..precision import Precision, resolve_precision

logger = logging.getLogger(__name__)


def resolve_device(device: str | None) -> str:
    """``None`` picks ``cuda`` when a GPU is visible, else ``cpu``; a CUDA request needs a GPU."""
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceUnavailableError(
            f"device={device!r} was requested but PyTorch sees no CUDA GPU on this machine. "
            "Use device='cpu' (or device=None to pick automatically), or install a CUDA build of torch."
        )
    return device


class TorchBackend:
    """A sentence-transformers ``CrossEncoder`` run in inference mode on one device."""

    def __init__(self, cross_encoder: CrossEncoder, max_length: int | None, precision: str) -> None:
        self.model = cross_encoder.model
        if self.model is None:
            raise ModelLoadError("The checkpoint has no transformers model to run as a cross-encoder.")
        self.model.eval()
        if precision in _DTYPES:
            self.model.to(_DTYPES[precision])
        self.precision = _precision_of(self.model)
        hf_tokenizer = cross_encoder.tokenizer
        backend_tokenizer = getattr(hf_tokenizer, "backend_tokenizer", None)
        if not isinstance(backend_tokenizer, Tokenizer):
            raise ModelLoadError(
                "The checkpoint has no fast tokenizer (tokenizer.json); crossrank needs one to build pairs."
            )
        self.tokenizer = backend_tokenizer
        self.max_length = max_length or own_max_length(
            getattr(hf_tokenizer, "model_max_length", None), getattr(self.model.config, "max_position_embeddings", None)
        )
        self.pad_token_id = _pad_token_id(hf_tokenizer)
        self.input_names = tuple(hf_tokenizer.model_input_names)
        self.device = str(cross_encoder.device)

    @torch.inference_mode()
    def forward(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Run the model on one padded batch and return float32 logits ``(batch, num_labels)``."""
        inputs = {name: torch.from_numpy(array).to(self.device) for name, array in batch.items()}
        logits = self.model(**inputs).logits
        return logits.float().cpu().numpy()


def load_torch_backend(
    model_name_or_path: str,
    *,
    device: str | None,
    precision: Precision,
    threads: int | None,
    max_length: int | None,
    trust_remote_code: bool,
    model_kwargs: dict[str, Any] | None,
) -> TorchBackend:
    """Load a cross-encoder checkpoint (hub id or local folder) for the torch backend.

    ``precision="auto"`` keeps a ``dtype`` given in ``model_kwargs``; otherwise it casts the weights to
    the precision :func:`rerank_core.precision.resolve_precision` picks for this device and CPU.
    """
    if threads is not None:
        raise InvalidArgumentError(
            "threads applies to backend='onnx'; the torch backend uses PyTorch's process-wide thread "
            "count, set with torch.set_num_threads()."
        )
    resolved = resolve_device(device)
    dtype_given = bool(model_kwargs) and any(key in model_kwargs for key in ("dtype", "torch_dtype"))
    if dtype_given and precision != "auto":
        raise InvalidArgumentError(
            f"precision={precision!r} and a dtype in model_kwargs both set the precision; give only one."
        )
    chosen, reason = (
        ("as loaded", "model_kwargs dtype")
        if dtype_given
        else resolve_precision(precision, backend="torch", device=resolved)
    )
    with loading_model(model_name_or_path, CROSS_ENCODER):
        cross_encoder = CrossEncoder(
            model_name_or_path,
            device=resolved,
            trust_remote_code=trust_remote_code,
            model_kwargs=dict(model_kwargs) if model_kwargs else None,
        )
    backend = TorchBackend(cross_encoder, max_length, chosen)
    logger.info(
        "Loaded %s on %s (torch %s, %s; max_length=%d)",
        model_name_or_path,
        backend.device,
        backend.precision,
        reason,
        backend.max_length,
    )
    return backend


_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def _precision_of(model: torch.nn.Module) -> str:
    """The precision name of the model's floating-point weights."""
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    return next((name for name, known in _DTYPES.items() if known == dtype), str(dtype).removeprefix("torch."))


def _pad_token_id(hf_tokenizer: Any) -> int:
    """The pad token, or EOS / UNK for tokenizers that define none (padding is masked anyway)."""
    for name in ("pad_token_id", "eos_token_id", "unk_token_id"):
        value = getattr(hf_tokenizer, name, None)
        if isinstance(value, int):
            return value
    return 0
