"""Hostile texts cost what ordinary ones cost: peak memory per call, measured in a fresh process.

The figures come from ``hostile_text_probe.py`` (the real cross-encoder at a 64-token window, so that the
model's own activations do not hide what tokenizing costs). Before tokenizing was bounded in tokens, 20
texts of 1 MB led by 10 KB of spaces took +1.4 GB, and each 5 MB text +464 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_text_probe import BASELINE
from transformers import AutoTokenizer

from rerank_core.engine.chunking import ChunkPlan
from rerank_core.engine.encoding import PairEncoder

PROBE = Path(__file__).with_name("hostile_text_probe.py")
ALLOWED_MIB = 64
"""The most a hostile shape's peak may exceed that of ordinary full-window pairs of the same number."""


@pytest.fixture(scope="module")
def growth(ce_model_path) -> dict[str, float]:
    command = [sys.executable, str(PROBE), ce_model_path, "--max-length", "64"]
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(finished.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("shape", sorted(BASELINE))
def test_a_hostile_shape_costs_what_ordinary_pairs_cost(growth, shape):
    baseline = growth[BASELINE[shape]]
    assert growth[shape] <= baseline + ALLOWED_MIB, f"{shape}: +{growth[shape]:.0f} MiB against {baseline:.0f} MiB"


def test_max_chunk_scores_at_most_the_window_cap(ce_model_path):
    tokenizer = AutoTokenizer.from_pretrained(ce_model_path).backend_tokenizer
    encoder = PairEncoder(tokenizer, max_length=64)
    huge = "zebrafish heart cells regenerate " * 200_000  # 6.6 MB, about a million tokens
    pairs = encoder.encode("what regenerates", [huge, "short"], ChunkPlan())
    assert pairs.owners.count(0) == ChunkPlan().max_chunks and pairs.owners.count(1) == 1
    assert pairs.truncated == 1
