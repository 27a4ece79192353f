"""The software behind the numbers: Python, platform and the versions of the packages that decide them."""

from __future__ import annotations

import platform
from typing import Any


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
