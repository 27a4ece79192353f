"""The ``crossrank`` command: ``eval``, ``bench``, ``export-onnx``, ``export-openvino`` and ``serve``."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from .bench_cmd import bench_command
from .eval_cmd import eval_command
from .exit_codes import EXIT_CODES_HELP
from .export_cmd import export_command, export_openvino_command
from .serve_cmd import serve_command


class _UntypedFlags:
    """typer 0.29's rich help prints a ``<bool>`` type beside every flag (``--help`` too); this prints none."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The parameters, each flag with an empty metavar (what the help shows as its type)."""
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
        return params


class CrossrankGroup(_UntypedFlags, TyperGroup):
    """The ``crossrank`` group, with flags shown without a type."""


class CrossrankCommand(_UntypedFlags, TyperCommand):
    """A ``crossrank`` command: flags without a type, arguments as ``DATA_DIR`` (typer 0.29 writes ``{data_dir}``)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS]`` and the arguments' metavars."""
        options = [self.options_metavar] if self.options_metavar else []
        arguments = [p for p in self.get_params(ctx) if isinstance(p, TyperArgument)]
        return [*options, *(p.metavar or str(p.name).upper() for p in arguments)]


app = typer.Typer(
    name="crossrank",
    cls=CrossrankGroup,
    help=(
        "Measure cross-encoder reranking: retrieval quality (eval), speed against the usual tools (bench); "
        "export a model to ONNX (export-onnx) or OpenVINO (export-openvino); serve a model over HTTP on Ray Serve "
        "(serve)."
    ),
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for name, command in (
    ("eval", eval_command),
    ("bench", bench_command),
    ("export-onnx", export_command),
    ("export-openvino", export_openvino_command),
    ("serve", serve_command),
):
    app.command(name, cls=CrossrankCommand, epilog=EXIT_CODES_HELP)(command)


def main() -> None:
    """Entry point of the ``crossrank`` console script."""
    app()
