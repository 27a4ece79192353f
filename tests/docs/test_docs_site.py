"""The API reference site builds from the docstrings with ``mkdocs build --strict`` and covers the public API."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
REFERENCE = PROJECT / "docs" / "reference"
DOCUMENTED = ("rerank_core", "rerank_core.serving", "langchain_rerank", "llamaindex_rerank")
"""The packages whose ``__all__`` the reference pages render, name by name."""
HANG_GUARD_S = 600
"""Fails a build that hangs; not a performance bound (a build takes about 10 s)."""


def _public_names(package: str) -> list[str]:
    """The ``__all__`` of ``package``, read from its source without importing it."""
    init = PROJECT / "src" / Path(*package.split(".")) / "__init__.py"
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"{init} has no __all__")


@pytest.mark.parametrize("package", DOCUMENTED)
def test_the_reference_renders_every_public_name(package):
    pages = "\n".join(page.read_text(encoding="utf-8") for page in REFERENCE.glob("*.md"))
    rendered = set(re.findall(r"^::: ([\w.]+)$", pages, re.MULTILINE))
    missing = [name for name in _public_names(package) if f"{package}.{name}" not in rendered]
    assert not missing, f"docs/reference has no '::: {package}.NAME' for {missing}"


def test_the_site_builds_without_warnings(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(PROJECT / "mkdocs.yml"), "-d", str(site)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}{result.stderr}"
    pages = {page.parent.name: page.read_text(encoding="utf-8") for page in (site / "reference").glob("*/index.html")}
    assert "CrossEncoderScorer" in pages["rerank_core"]
    rest = re.compile(r"\.\. code-block::|:[a-z]+:<code>")
    leftovers = sorted(name for name, html in pages.items() if rest.search(html))
    assert not leftovers, f"reST markup left unconverted (see docs/griffe_rest.py) in {leftovers}"
