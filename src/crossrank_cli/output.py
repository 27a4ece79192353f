"""Writing a command's results to the file named by ``--out``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def write_json(report: dict[str, Any], path: Path) -> None:
    """Write ``report`` as indented JSON to ``path`` (creating its folder) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"Results written to {path}")
