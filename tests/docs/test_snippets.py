"""Every Python and shell block of the project's Markdown files runs as written, against the real models.

The blocks name the hub models users would use (``cross-encoder/ms-marco-MiniLM-L6-v2``,
``sentence-transformers/all-MiniLM-L6-v2``); here, without the hub, those ids are read as the local
models of ``CROSSRANK_MODEL`` / ``CROSSRANK_EMBED_MODEL``, as the demo does. Blocks marked ``skip`` or
``flags`` (see ``snippets.py``) say why they are not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from snippets import FLAGS, SKIP, Snippet, commands, snippets

PROJECT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([*PROJECT.glob("*.md"), *PROJECT.glob("benchmarks/*.md"), *PROJECT.glob("docs/*.md")])
SNIPPETS = [snippet for path in DOCUMENTS for snippet in snippets(path)]
HUB_MODELS = {
    "cross-encoder/ms-marco-MiniLM-L6-v2": "CROSSRANK_MODEL",
    "sentence-transformers/all-MiniLM-L6-v2": "CROSSRANK_EMBED_MODEL",
}
HANG_GUARD_S = 1800
"""Fails a block that hangs; not a performance bound."""


@pytest.fixture(scope="module")
def snippet_env(ce_model_path, embed_model_path, scifact_dir) -> dict[str, str]:
    """The environment of ``scripts/demo``: local models and SciFact, no hub, the venv's commands first."""
    env = dict(os.environ)
    env.update(
        CROSSRANK_MODEL=ce_model_path,
        CROSSRANK_EMBED_MODEL=embed_model_path,
        CROSSRANK_SCIFACT=scifact_dir,
        HF_HUB_OFFLINE="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def _local_models(code: str, env: dict[str, str]) -> str:
    """``code`` with the hub ids of :data:`HUB_MODELS` replaced by the local models."""
    for hub_id, variable in HUB_MODELS.items():
        code = code.replace(hub_id, env[variable])
    return code


def test_the_documents_have_code_to_check():
    assert {p.name for p in DOCUMENTS} >= {"README.md"} and (PROJECT / "benchmarks" / "README.md") in DOCUMENTS
    assert sum(s.path.name == "README.md" and s.mode == "run" for s in SNIPPETS) >= 5


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.name for s in SNIPPETS])
def test_snippet(snippet: Snippet, snippet_env, tmp_path):
    if snippet.mode == SKIP:
        pytest.skip(snippet.reason)
    code = _local_models(snippet.code, snippet_env)
    if snippet.mode == FLAGS:
        _check_flags(snippet, code, snippet_env)
        return
    if snippet.language == "python":
        argv, cwd = [sys.executable, "-c", code], tmp_path  # files a block writes land in its own folder
    else:
        argv, cwd = ["bash", "-euo", "pipefail", "-c", code], PROJECT  # as a reader runs it, from the project root
    done = subprocess.run(
        argv, cwd=cwd, env=snippet_env, capture_output=True, text=True, timeout=HANG_GUARD_S, check=False
    )
    assert done.returncode == 0, f"{snippet.name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"


def _check_flags(snippet: Snippet, code: str, env: dict[str, str]) -> None:
    """Parse each ``crossrank`` command of the block with the real command line, without running it."""
    import click
    from typer.main import get_command

    from crossrank_cli.main import app

    group = get_command(app)
    found = commands(code)
    assert found and all(words[0] == "crossrank" for words in found), f"{snippet.name}: only crossrank commands"
    for name, *args in (words[1:] for words in found):
        command = group.get_command(click.Context(group), name)  # type: ignore[attr-defined]
        assert command is not None, f"{snippet.name}: unknown command {name!r}"
        command.make_context(name, [_expand(arg, env) for arg in args])


def _expand(word: str, env: dict[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` in ``word`` replaced from ``env``, as the shell would."""
    return re.sub(r"\$\{?(\w+)\}?", lambda match: env.get(match.group(1), ""), word)
