"""``crossrank export-onnx`` and ``export-openvino``: write a cross-encoder as a self-contained ONNX or OpenVINO
folder."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rerank_core.backends.onnx_export import INT8_FILE, ONNX_FILE, OPSETS, export_onnx
from rerank_core.backends.openvino_files import INT8_IR_FILE, IR_FILE

from .exit_codes import reported_errors
from .options import MODEL_HELP

TrustRemoteCode = Annotated[
    bool, typer.Option("--trust-remote-code", help="Run code shipped with the checkpoint (only if you trust it).")
]


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
    trust_remote_code: TrustRemoteCode = False,
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
    _wrote(folder, "onnx", ONNX_FILE, INT8_FILE if quantize else None)


def export_openvino_command(
    model: Annotated[str, typer.Argument(metavar="MODEL", help=MODEL_HELP)],
    out_dir: Annotated[
        Path, typer.Argument(metavar="OUT_DIR", help=f"Folder to write {IR_FILE}, the tokenizer and config into.")
    ],
    quantize: Annotated[
        QuantizeChoice | None,
        typer.Option(help=f"Also write {INT8_IR_FILE} (static int8, calibrated; faster, less exact)."),
    ] = None,
    calibration: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help='With --quantize: calibration pairs, JSON Lines of {"query": ..., "text": ...} (a few hundred of '
            "your domain); default: the built-in generic pairs.",
        ),
    ] = None,
    trust_remote_code: TrustRemoteCode = False,
) -> None:
    """Export a cross-encoder to an OpenVINO IR, for backend="openvino" (PyTorch is needed this once if the model
    ships no ONNX graph)."""
    from rerank_core.backends.openvino_export import export_openvino, read_calibration

    with reported_errors("openvino"):
        if calibration is not None and quantize is None:
            raise typer.BadParameter("--calibration calibrates --quantize int8; give both.", param_hint="--calibration")
        pairs = None if calibration is None else read_calibration(calibration)
        folder = export_openvino(
            model,
            out_dir,
            quantize=quantize.value if quantize else None,
            calibration=pairs,
            trust_remote_code=trust_remote_code,
        )
    _wrote(folder, "openvino", IR_FILE, INT8_IR_FILE if quantize else None)


def _wrote(folder: Path, backend: str, graph: str, int8_graph: str | None) -> None:
    """Say what was written and how to load it."""
    written = graph + (f" and {int8_graph}" if int8_graph else "")
    typer.echo(f"Wrote {written} with the tokenizer and config to {folder}")
    precision = ', precision="int8"' if int8_graph else ""
    typer.echo(f'Load it with CrossEncoderScorer("{folder}", backend="{backend}"{precision})')
