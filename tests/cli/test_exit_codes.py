"""One exit-code convention, stated in every command's --help: 0 success, 2 a wrong request, 1 a failed run.

A missing model exits 2 in every command (test_eval_bad_data, test_bench, test_export_onnx) and so does
serve's bad configuration (test_serve_cmd); here: the help, the mapping itself and the failed runs.
"""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from crossrank_cli.exit_codes import EXIT_CODES_HELP, reported_errors
from crossrank_cli.main import app
from crossrank_harness.bench import run as bench_run
from crossrank_harness.data import BeirFormatError
from rerank_core import InvalidArgumentError, MissingDependencyError, ModelLoadError, ModelNotFoundError, RerankError

WIDE = {"COLUMNS": "250"}
"""A terminal wide enough that no help line wraps inside its panel."""
COMMANDS = {
    "eval": ("DATA_DIR", ["CROSSRANK_MODEL", "CROSSRANK_EMBED_MODEL", "RAY_ADDRESS"]),
    "bench": ("DATA_DIR", ["CROSSRANK_MODEL"]),
    "export-onnx": ("MODEL OUT_DIR", []),
    "serve": ("", ["CROSSRANK_MODEL", "RAY_ADDRESS"]),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_help_states_the_exit_codes_the_arguments_and_the_model_variables(command):
    arguments, variables = COMMANDS[command]
    result = CliRunner().invoke(app, [command, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert " ".join(EXIT_CODES_HELP.split()) in text
    assert f"Usage: crossrank {command} [OPTIONS] {arguments}".strip() in text
    for variable in variables:
        assert f"env var: {variable}" in text
    assert "<bool>" not in text and "{" not in text


def test_the_top_level_help_states_them_too():
    text = " ".join(CliRunner().invoke(app, ["--help"], env=WIDE).stdout.split())
    assert " ".join(EXIT_CODES_HELP.split()) in text and "<bool>" not in text


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (BeirFormatError("corpus.jsonl, line 2: not valid JSON"), 2),
        (ModelNotFoundError("/nowhere"), 2),
        (ModelLoadError("not a cross-encoder"), 2),
        (InvalidArgumentError("batch_size must be positive"), 2),
        (MissingDependencyError("ray[data]", "ray"), 1),
        (RerankError("the run broke"), 1),
        (RuntimeError("CUDA out of memory"), 1),
        (OSError("disk full"), 1),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_errors_print_one_line_and_exit_with_their_code(error, code, capsys):
    with pytest.raises(typer.Exit) as exited, reported_errors("eval"):
        raise error
    assert exited.value.exit_code == code
    assert capsys.readouterr().err == f"Error: {error}\n"


def test_a_module_missing_outside_crossranks_checks_names_the_extra(capsys):
    with pytest.raises(typer.Exit) as exited, reported_errors("eval"):
        raise ImportError("No module named 'bm25s'")
    assert exited.value.exit_code == 1
    assert (
        capsys.readouterr().err == "Error: No module named 'bm25s'. Install it with: pip install \"crossrank[eval]\"\n"
    )


def test_typers_own_exits_pass_through():
    with pytest.raises(typer.Exit) as exited, reported_errors("eval"):
        raise typer.Exit(0)
    assert exited.value.exit_code == 0


def test_an_eval_that_fails_while_running_exits_1(scifact_slice_dir, tiny_model_dir, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    args = ["eval", str(scifact_slice_dir), *"--queries 2 --k 5 --no-progress".split(), "--model", tiny_model_dir]
    result = CliRunner().invoke(app, [*args, "--plot", str(blocker / "windows.png")])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith(f"Error: [Errno 17] File exists: '{blocker}'")
    assert "Traceback" not in result.output


def test_a_bench_row_that_fails_exits_1(scifact_slice_dir, tiny_model_dir, monkeypatch):
    monkeypatch.setattr(bench_run, "run_worker", lambda spec, *_: {"error": f"{spec.key} broke"})
    args = ["bench", str(scifact_slice_dir), "--quick", "--device", "cpu", "--model", tiny_model_dir]
    result = CliRunner().invoke(app, [*args, "--rows", "core-torch-fp32"])
    assert result.exit_code == 1
    assert "failed: core-torch-fp32 broke" in result.stdout
    assert "Error: some rows failed; their errors are in the table." in result.stderr
