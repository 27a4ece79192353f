"""``crossrank export-onnx``: write a cross-encoder as a self-contained ONNX folder."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rerank_core.backends.onnx_export import INT8_FILE, ONNX_FILE, OPSETS, export_onnx

from .exit_codes import reported_errors
from .options import MODEL_HELP


class QuantizeChoice(StrEnum):
    """``--quantize`` values."""

    int8 = "int8"


def export_command(
    model: Annotated[str, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
    out_dir: Annotated[
        Path, typer.Argument(metavar="OUT_DIR", help="Folder to write model.onnx, the tokenizer and config into.")
    ],
    quantize: Annotated[
        QuantizeChoice | None, typer.Option(help=f"Also write {INT8_FILE} (int8 weights; faster, less exact).")
    ] = None,
    opset: Annotated[
        int, typer.Option(min=OPSETS.start, max=OPSETS.stop - 1, help="ONNX opset of the exported graph.")
    ] = 17,
    trust_remote_code: Annotated[
        bool, typer.Option("--trust-remote-code", help="Run code shipped with the checkpoint (only if you trust it).")
    ] = False,
) -> None:
    """Export a cross-encoder to ONNX, for backend="onnx" and FastEmbed (needs PyTorch this once)."""
    with reported_errors("onnx"):
        folder = export_onnx(
            model,
            out_dir,
            quantize=quantize.value if quantize else None,
            opset=opset,
            trust_remote_code=trust_remote_code,
        )
    written = ONNX_FILE + (f" and {INT8_FILE}" if quantize else "")
    typer.echo(f"Wrote {written} with the tokenizer and config to {folder}")
    typer.echo(
        f'Load it with CrossEncoderScorer("{folder}", backend="onnx"' + (', precision="int8")' if quantize else ")")
    )
