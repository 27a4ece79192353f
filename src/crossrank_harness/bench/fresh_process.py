"""Running one benchmark job in a fresh Python process, so that its peak memory is its own, and reading that peak."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_ERROR_TAIL = 2000


def run_in_fresh_process(module: str, job: dict[str, Any], folder: Path, name: str) -> dict[str, Any]:
    """``python -m module JOB.json RESULT.json`` with ``job`` written to ``folder/name.job.json``.

    Returns the result the module wrote, or ``{"error": ...}`` with the end of its stderr.
    """
    job_file, result_file = folder / f"{name}.job.json", folder / f"{name}.result.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    finished = subprocess.run(
        [sys.executable, "-m", module, str(job_file), str(result_file)], capture_output=True, text=True, check=False
    )
    if finished.returncode != 0 or not result_file.is_file():
        return {"error": finished.stderr[-_ERROR_TAIL:] or f"worker exited with status {finished.returncode}"}
    return json.loads(result_file.read_text(encoding="utf-8"))


def peak_rss_bytes() -> int | None:
    """This process's peak resident set size so far (``None`` where the OS does not report it)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
