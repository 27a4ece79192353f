"""Where the ONNX backend gets its graph: the model's folder, the hub, or an export cached per model.

A folder (or hub repo) that ships ``model.onnx`` or ``onnx/model.onnx`` is used as it is. A checkpoint
without ONNX weights is exported once (PyTorch needed that one time) into the user cache folder, keyed by
the checkpoint's files (path, size, modification time) and the export options; int8 graphs are quantized
into the same cache. Nothing is written beside the model or into the project.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from rerank_core.backends import onnx_export
from rerank_core.engine.cache_dir import default_cache_dir
from rerank_core.engine.cache_files import build_atomically, fingerprint, slug
from rerank_core.engine.families import CROSS_ENCODER as CROSS_ENCODER_FAMILY
from rerank_core.engine.families import detect_family
from rerank_core.engine.model_loading import CROSS_ENCODER, loading_model
from rerank_core.errors import ModelLoadError, ModelNotFoundError

logger = logging.getLogger(__name__)

_FORMAT = "crossrank-onnx-v1"
_OPSET = 17
_CONFIG_PATTERNS = ("*.json", "*.txt", "*.model")
"""Hub files besides the weights: configs, tokenizer, vocabulary, sentencepiece model."""


def model_files(
    model_name_or_path: str,
    precision: str,
    trust_remote_code: bool,
    family: str | None = None,
    cache_folder: str | None = None,
) -> tuple[Path, Path, str]:
    """The ONNX graph to run for ``precision``, the folder holding its tokenizer.json and config.json, and the
    model family whose inputs the graph takes (named, recorded beside an export, or detected).

    A hub id is downloaded into ``cache_folder`` (the hub's own cache when ``None``), or read from it offline.

    Raises:
        ModelNotFoundError: no local folder or (cached) hub repo by that name.
        MissingDependencyError: an export is needed and PyTorch is not installed.
    """
    folder = model_folder(model_name_or_path, trust_remote_code, cache_folder)
    chosen = graph_family(model_name_or_path, folder, family)
    label = slug(model_name_or_path)
    if precision == "int8" and (shipped := find_graph(folder, onnx_export.INT8_FILE)):
        return shipped, folder, chosen
    fp32 = find_graph(folder, onnx_export.ONNX_FILE)
    if fp32 is None:
        quantize: Literal["int8"] | None = "int8" if precision == "int8" else None
        key = [
            *fingerprint(folder),
            f"opset={_OPSET}",
            f"quantize={quantize}",
            f"remote={trust_remote_code}",
            f"family={chosen}",
        ]
        exported = cached_build(
            "onnx",
            label,
            key,
            lambda out: onnx_export.export_onnx(
                str(folder), out, quantize=quantize, opset=_OPSET, trust_remote_code=trust_remote_code, family=chosen
            ),
        )
        return exported / (onnx_export.INT8_FILE if quantize else onnx_export.ONNX_FILE), exported, chosen
    if precision == "int8":
        quantized = cached_build(
            "onnx",
            label,
            [*fingerprint(fp32), "quantize=int8"],
            lambda out: onnx_export.quantize_int8(fp32, out / onnx_export.INT8_FILE),
        )
        return quantized / onnx_export.INT8_FILE, folder, chosen
    return fp32, folder, chosen


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or ``{}`` when the file is absent."""
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Cannot read {path} ({exc}); fix or remove the file.") from exc
    return value if isinstance(value, dict) else {}


def graph_family(model_name_or_path: str, folder: Path, family: str | None = None) -> str:
    """The family whose inputs a graph in ``folder`` takes: ``family`` if named, else the one an export recorded,
    else the one detected from the config."""
    return family or _recorded_family(folder) or _detected_family(model_name_or_path, folder)


def _detected_family(model_name_or_path: str, folder: Path) -> str:
    """The family detected from the folder's config; a shipped graph without one is a pair classifier."""
    config = read_json(folder / "config.json")
    if not config.get("architectures") and find_graph(folder, onnx_export.ONNX_FILE) is not None:
        return CROSS_ENCODER_FAMILY.name
    return detect_family(model_name_or_path, config).name


def _recorded_family(folder: Path) -> str | None:
    """The family an export wrote beside its graph (``crossrank.json``), if any."""
    family = read_json(folder / onnx_export.FAMILY_FILE).get("family")
    return family if isinstance(family, str) else None


def find_graph(folder: Path, name: str, subfolder: str = "onnx") -> Path | None:
    """``folder/name`` or ``folder/subfolder/name`` (the layout of hub repos, FastEmbed and sentence-transformers),
    if present."""
    return next((path for path in (folder / name, folder / subfolder / name) if path.is_file()), None)


def model_folder(model_name_or_path: str, trust_remote_code: bool, cache_folder: str | None) -> Path:
    """The local folder, or the hub repo's snapshot (its ONNX weights if it has them, else its torch weights)."""
    path = Path(model_name_or_path).expanduser()
    if path.is_dir():
        return path.resolve()
    if path.exists():
        raise ModelLoadError(f"{model_name_or_path!r} is a file; pass the folder that holds the model.")
    with loading_model(model_name_or_path, CROSS_ENCODER):
        return _hub_snapshot(model_name_or_path, trust_remote_code, cache_folder)


def _hub_snapshot(repo_id: str, trust_remote_code: bool, cache_folder: str | None) -> Path:
    """Download what scoring needs from the hub into ``cache_folder``; offline or unreachable, use the snapshot
    cached there."""
    import httpx
    from huggingface_hub import list_repo_files, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError, RepositoryNotFoundError

    try:
        files = list_repo_files(repo_id)
    except (HFValidationError, RepositoryNotFoundError) as exc:
        raise ModelNotFoundError(repo_id, exc) from exc
    except (OSError, HfHubHTTPError, httpx.HTTPError) as exc:  # offline mode or no network
        try:
            return Path(snapshot_download(repo_id, local_files_only=True, cache_dir=cache_folder))
        except OSError:
            raise ModelNotFoundError(repo_id, exc) from exc
    graph = next((name for name in ("onnx/model.onnx", "model.onnx") if name in files), None)
    if graph:
        weights = [graph, f"{graph}_data", f"{graph}.data"]
    elif any(name.endswith(".safetensors") for name in files):
        weights = ["*.safetensors"]
    else:
        weights = ["pytorch_model*.bin"]
    patterns = [*_CONFIG_PATTERNS, *weights, *(["*.py"] if trust_remote_code else [])]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns, cache_dir=cache_folder))
    except (OSError, HfHubHTTPError, httpx.HTTPError) as exc:
        raise ModelNotFoundError(repo_id, exc) from exc


def cached_build(kind: str, label: str, key: list[str], build: Callable[[Path], object]) -> Path:
    """The cache folder of ``kind`` (``onnx``, ``openvino``) for ``key``, named after the model's ``label``;
    ``build`` fills it only once.

    The build fills a scratch folder that is renamed when complete, so a reader never sees half a graph.
    """
    digest = hashlib.sha256("\x00".join([_FORMAT, *key]).encode()).hexdigest()[:24]
    target = default_cache_dir() / kind / f"{label}-{digest}"
    if target.is_dir():
        logger.debug("Using the cached %s graph in %s", kind, target)
        return target

    def fill(folder: Path) -> None:
        folder.mkdir()
        build(folder)

    build_atomically(target, fill)
    logger.info("Cached the %s graph of %s in %s", kind, label, target)
    return target
