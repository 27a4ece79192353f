"""The examples run end to end on the built-in corpus with the real models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("script", ["two_stage_demo.py", "langchain_rag.py", "llamaindex_rag.py", "ray_rerank.py"])
def test_example_runs_and_ranks_the_relevant_passage_first(script, ce_model_path, embed_model_path):
    env = {k: v for k, v in os.environ.items() if k != "CROSSRANK_SCIFACT"}
    env.update(CROSSRANK_MODEL=ce_model_path, CROSSRANK_EMBED_MODEL=embed_model_path, HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "small built-in corpus" in done.stdout
    # "*" marks passages judged relevant: the reranked list starts with one.
    reranked = done.stdout.split("Reranked")[1]
    first = next(line for line in reranked.splitlines() if line.strip()[:2] in ("1.", "*1"))
    assert first.strip().startswith("*1")
    if script == "two_stage_demo.py":
        _assert_demo_reads_well(done.stdout, done.stderr)


def _assert_demo_reads_well(stdout: str, stderr: str) -> None:
    """The legend comes before the results, a closing line says what to try next, no warning interrupts."""
    assert stdout.index("a * before the rank marks a passage judged relevant") < stdout.index("Claim ")
    assert stdout.rstrip().splitlines()[-4] == "Next steps:"
    assert "Reranking: 100%" in stderr  # the progress bar over the rerank loop
    noise = [line for line in stderr.replace("\r", "\n").splitlines() if "warn" in line.lower()]
    assert not noise, noise
