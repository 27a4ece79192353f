"""What the graph backends (ONNX Runtime, OpenVINO) share: the tokenizer and model spec saved beside a graph, and
the check that a graph takes a cross-encoder's inputs and gives its logits."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

from rerank_core.backends.onnx_export import MODEL_INPUTS
from rerank_core.backends.onnx_files import read_json
from rerank_core.engine.model_spec import ModelSpec, model_spec
from rerank_core.errors import ModelLoadError

_EXPORT_HINT = "Export the cross-encoder with crossrank export-onnx MODEL OUT_DIR (or export-openvino)."


def graph_spec(
    model_name_or_path: str, folder: Path, max_length: int | None, family: str | None
) -> tuple[Tokenizer, ModelSpec]:
    """The fast tokenizer saved in ``folder`` and the model's spec from the config and tokenizer files there."""
    tokenizer = load_tokenizer(folder)
    special_tokens = read_json(folder / "special_tokens_map.json") | read_json(folder / "tokenizer_config.json")
    spec = model_spec(
        model_name_or_path,
        read_json(folder / "config.json"),
        tokenizer,
        special_tokens,
        tokenizer_limit=special_tokens.get("model_max_length"),
        max_length=max_length,
        family=family,
    )
    return tokenizer, spec


def load_tokenizer(folder: Path) -> Tokenizer:
    """The fast tokenizer saved with the model."""
    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ModelLoadError(
            f"{folder} has no tokenizer.json; the graph backends build pairs with the fast tokenizer. Save it beside "
            "the graph (AutoTokenizer.from_pretrained(checkpoint).save_pretrained(folder)) or export the model "
            "with crossrank export-onnx MODEL OUT_DIR, which writes it."
        )
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a plain Exception on a malformed file
        raise ModelLoadError(f"Cannot read {path} ({exc}); save the tokenizer again.") from exc


def check_inputs(inputs: Sequence[tuple[str, str, bool]]) -> tuple[str, ...]:
    """The names of a graph's inputs ``(name, type, is int64)``, if they are a cross-encoder's (token ids and mask,
    maybe token types)."""
    names = tuple(name for name, _, _ in inputs)
    unusable = [name for name, _, int64 in inputs if name not in MODEL_INPUTS or not int64]
    if unusable or "input_ids" not in names or "attention_mask" not in names:
        raise ModelLoadError(
            f"The graph takes {', '.join(f'{name} ({kind})' for name, kind, _ in inputs)}; a cross-encoder graph "
            f"takes int64 input_ids, attention_mask and optionally token_type_ids. {_EXPORT_HINT}"
        )
    return names


def logits_output(outputs: Sequence[tuple[str, str, int, bool]]) -> int:
    """The position of the output holding ``(batch, num_labels)`` float logits, among ``(name, type, rank, is
    float32)``: ``logits`` if named so, else the only output."""
    named = [i for i, (name, _, _, _) in enumerate(outputs) if name == "logits"]
    chosen = named[0] if named else 0 if len(outputs) == 1 else None
    if chosen is None or outputs[chosen][2] != 2 or not outputs[chosen][3]:
        found = ", ".join(f"{name} {kind}" for name, kind, _, _ in outputs)
        raise ModelLoadError(
            f"The graph outputs {found}; a cross-encoder graph outputs float logits of shape (batch, labels). "
            f"This looks like another kind of model (an embedding model?). {_EXPORT_HINT}"
        )
    return chosen
