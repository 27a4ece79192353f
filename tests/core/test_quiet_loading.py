"""Silent by default: loading a model prints nothing unless progress or logging is asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

LOAD = """
import logging, sys
from rerank_core import CrossEncoderScorer
if "{mode}" == "logging":
    logging.basicConfig(level=logging.INFO)
scorer = CrossEncoderScorer(sys.argv[1], precision="fp32")
scorer.score("a query", ["a text"], show_progress={show})
from transformers.utils import logging as hf_logging
print("bars afterwards:", hf_logging.is_progress_bar_enabled())
"""


def _run(model: str, mode: str) -> subprocess.CompletedProcess[str]:
    code = LOAD.format(mode=mode, show=mode == "progress")
    return subprocess.run([sys.executable, "-c", code, model], capture_output=True, text=True, timeout=300, check=True)


def test_loading_prints_nothing_by_default(tiny_model_dir):
    done = _run(tiny_model_dir, "quiet")
    assert done.stderr == ""
    assert done.stdout == "bars afterwards: True\n"  # transformers' own switch is put back


@pytest.mark.parametrize("mode", ["progress", "logging"])
def test_load_bars_show_when_asked_for(tiny_model_dir, mode):
    assert "Loading weights" in _run(tiny_model_dir, mode).stderr


def test_faiss_builders_load_the_bi_encoder_quietly(tiny_model_dir, embed_model_path):
    code = (
        "import sys\n"
        "from langchain_core.documents import Document\n"
        "from langchain_rerank import build_rerank_retriever\n"
        "from llamaindex_rerank import build_faiss_index\n"
        "from llama_index.core.schema import TextNode\n"
        "build_rerank_retriever([Document(page_content='a text')], model=sys.argv[1], embeddings=sys.argv[2])\n"
        "build_faiss_index([TextNode(text='a text')], embed_model=sys.argv[2])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, tiny_model_dir, embed_model_path],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stderr == ""
