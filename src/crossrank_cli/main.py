"""The ``crossrank`` command: ``eval``, ``bench``, ``export-onnx`` and ``serve``."""

from __future__ import annotations

import typer

from .bench import bench_command
from .eval_cmd import eval_command
from .export_cmd import export_command
from .serve_cmd import serve_command

app = typer.Typer(
    name="crossrank",
    help=(
        "Measure cross-encoder reranking: retrieval quality (eval), speed against the usual tools (bench); "
        "export a model to ONNX (export-onnx); serve a model over HTTP on Ray Serve (serve)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("eval")(eval_command)
app.command("bench")(bench_command)
app.command("export-onnx")(export_command)
app.command("serve")(serve_command)


def main() -> None:
    """Entry point of the ``crossrank`` console script."""
    app()
