"""One exit-code convention for every ``crossrank`` command, and the helper that applies it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from crossrank_harness.data.beir import BeirFormatError
from rerank_core import (
    DeviceUnavailableError,
    InvalidArgumentError,
    InvalidQueryError,
    InvalidTextError,
    MissingDependencyError,
    ModelLoadError,
    RerankError,
)

RUN_FAILED = 1
"""The run itself failed: a runtime error, a missing optional dependency, a bench row that failed."""
BAD_REQUEST = 2
"""The request is wrong: what typer and click use for usage errors and bad option values too."""

EXIT_CODES_HELP = (
    "Exit status: 0 success; 2 the request is wrong (a usage error, a bad option value, a data folder or "
    "model that cannot be found or read); 1 the run itself failed (a runtime error, a missing optional "
    "dependency, a bench row that failed)."
)
"""The epilog of every command's --help."""

BAD_REQUEST_ERRORS: tuple[type[Exception], ...] = (
    BeirFormatError,
    ModelLoadError,  # ModelNotFoundError too
    InvalidArgumentError,
    InvalidQueryError,
    InvalidTextError,
    DeviceUnavailableError,
)
RUN_ERRORS: tuple[type[Exception], ...] = (RerankError, ImportError, OSError, RuntimeError)


def fail(message: str, code: int = RUN_FAILED) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code``."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def reported_errors(extra: str) -> Iterator[None]:
    """Run the block; its errors become ``Error: ...`` on stderr and exit code 2 (the request) or 1 (the run).

    A plain ``ImportError`` (a module missing outside crossrank's own checks) gets the hint to install
    ``crossrank[extra]``. typer's own exits pass through (``typer.Exit`` is a ``RuntimeError``), and so does
    ``typer.BadParameter``: typer prints it with the usage and exits 2.
    """
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except BAD_REQUEST_ERRORS as exc:
        fail(str(exc), BAD_REQUEST)
    except ImportError as exc:
        hint = "" if isinstance(exc, MissingDependencyError) else f'. Install it with: pip install "crossrank[{extra}]"'
        fail(f"{exc}{hint}")
    except RUN_ERRORS as exc:
        fail(str(exc))
