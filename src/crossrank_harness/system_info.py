"""The machine and software behind the numbers: the CPU, Python, platform and the packages that decide them."""

from __future__ import annotations

import platform
from typing import Any

from rerank_core.backends.cpu import flags_text


def environment() -> dict[str, Any]:
    """Versions of the pieces that decide the numbers."""
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for package in (
        "crossrank",
        "torch",
        "transformers",
        "sentence-transformers",
        "langchain-core",
        "langchain-classic",
        "langchain-community",
        "llama-index-core",
        "ranx",
        "bm25s",
    ):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {"python": platform.python_version(), "platform": platform.platform(), "packages": versions}


def cpu_line(cpu: dict[str, Any]) -> str:
    """``CPU: model (N logical cores) | avx2 yes, ...`` from ``rerank_core.backends.cpu.CpuInfo.to_json()``."""
    return f"CPU: {cpu['model']} ({cpu['logical_cores']} logical cores) | {flags_text(cpu['flags'])}"
