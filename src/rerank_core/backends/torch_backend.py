"""PyTorch backend: loads the checkpoint with transformers and runs its family's scoring module."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

from rerank_core.backends.onnx_export import MODEL_INPUTS
from rerank_core.backends.precision import resolve_precision
from rerank_core.backends.torch_heads import ScoringModule
from rerank_core.engine.model_loading import CROSS_ENCODER, loading_model
from rerank_core.engine.model_spec import ModelSpec, model_spec
from rerank_core.errors import DeviceUnavailableError, InvalidArgumentError, ModelLoadError

if TYPE_CHECKING:
    from rerank_core.options import ScorerOptions

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
    """A reranking checkpoint run in inference mode on one device, through its family's :class:`ScoringModule`."""

    def __init__(self, model: Any, hf_tokenizer: Any, spec: ModelSpec, precision: str, device: str) -> None:
        model.eval()
        if precision in _DTYPES:
            model.to(_DTYPES[precision])
        self.precision = _precision_of(model)
        backend_tokenizer = getattr(hf_tokenizer, "backend_tokenizer", None)
        if not isinstance(backend_tokenizer, Tokenizer):
            raise ModelLoadError(
                "The checkpoint has no fast tokenizer (tokenizer.json); crossrank needs one to build pairs."
            )
        self.tokenizer = backend_tokenizer
        self.hf_tokenizer = hf_tokenizer
        self.spec = spec
        self.family = spec.family
        self.max_length = spec.max_length
        self.pad_token_id = spec.pad_token_id
        self.input_names = tuple(name for name in hf_tokenizer.model_input_names if name in MODEL_INPUTS)
        self.module = ScoringModule(model, spec.family, self.input_names, spec.score_token_ids).to(device).eval()
        self.device = str(device)

    @torch.inference_mode()
    def forward(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Run the model on one padded batch and return float32 logits ``(batch, num_labels)``."""
        arrays = [torch.from_numpy(batch[name]).to(self.device) for name in self.input_names]
        return self.module(*arrays).float().cpu().numpy()


def load_torch_backend(model_name_or_path: str, options: ScorerOptions) -> TorchBackend:
    """Load a reranking checkpoint (hub id or local folder) for the torch backend.

    The family (see :mod:`rerank_core.engine.families`) decides the model class: a sequence classifier, or a causal
    LM whose score reads a few vocabulary rows. A hub id is fetched into (or read offline from) ``cache_folder``,
    the hub's own cache when ``None``. ``precision="auto"`` keeps a ``dtype`` given in
    ``model_kwargs``; otherwise it casts the weights to the precision
    :func:`rerank_core.backends.precision.resolve_precision` picks for this device and CPU.
    """
    device, precision, threads, max_length = options.device, options.precision, options.threads, options.max_length
    trust_remote_code, model_kwargs, family = options.trust_remote_code, options.model_kwargs, options.family
    hub: dict[str, Any] = {"trust_remote_code": trust_remote_code, "cache_dir": options.cache_folder}
    if threads is not None:
        raise InvalidArgumentError(
            "threads applies to backend='onnx'; the torch backend uses PyTorch's process-wide thread "
            "count, set with torch.set_num_threads()."
        )
    for keyword, option in _HUB_KEYWORDS.items():
        if keyword in model_kwargs:
            raise InvalidArgumentError(
                f"model_kwargs sets {keyword}, which the {option} option sets for the config, the tokenizer and the "
                f"weights alike; pass {option}=... instead."
            )
    resolved = resolve_device(device)
    dtype_given = model_kwargs is not None and any(key in model_kwargs for key in ("dtype", "torch_dtype"))
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
        config = AutoConfig.from_pretrained(model_name_or_path, **hub)
        hf_tokenizer = AutoTokenizer.from_pretrained(model_name_or_path, **hub)
        spec = model_spec(
            model_name_or_path,
            config.to_dict(),
            hf_tokenizer.backend_tokenizer,
            hf_tokenizer.special_tokens_map,
            tokenizer_limit=getattr(hf_tokenizer, "model_max_length", None),
            max_length=max_length,
            family=family,
        )
        model_class = AutoModelForCausalLM if spec.family.head == "token-logits" else AutoModelForSequenceClassification
        model = model_class.from_pretrained(model_name_or_path, config=config, **hub, **dict(model_kwargs or {}))
    backend = TorchBackend(model, hf_tokenizer, spec, chosen, resolved)
    logger.info(
        "Loaded %s on %s (torch %s, %s; family %s; max_length=%d)",
        model_name_or_path,
        backend.device,
        backend.precision,
        reason,
        spec.family.name,
        backend.max_length,
    )
    return backend


_HUB_KEYWORDS = {"trust_remote_code": "trust_remote_code", "cache_dir": "cache_folder"}
"""``from_pretrained`` keywords that scorer options set, so ``model_kwargs`` may not: keyword -> option."""

_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def _precision_of(model: torch.nn.Module) -> str:
    """The precision name of the model's floating-point weights."""
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    return next((name for name, known in _DTYPES.items() if known == dtype), str(dtype).removeprefix("torch."))
