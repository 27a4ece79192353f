"""``import langchain_rerank`` stays light: no LlamaIndex; the FAISS stack only once the helpers are used."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK_LLAMA_INDEX = """
import importlib.abc
import sys

class BlockLlamaIndex(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "llama_index" or name.startswith("llama_index."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None

sys.meta_path.insert(0, BlockLlamaIndex())
"""


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_LLAMA_INDEX + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_blocker_really_blocks_llama_index():
    result = run_python("import llama_index.core")
    assert result.returncode != 0
    assert "blocked" in result.stderr


def test_imports_and_runs_without_llama_index(tiny_model_dir):
    result = run_python(
        f"""
        import sys
        from langchain_core.documents import Document
        import langchain_rerank
        from langchain_rerank import CrossEncoderReranker

        heavy = ("langchain_classic", "langchain_community", "langchain_huggingface", "torch", "llama_index")
        assert not [m for m in sys.modules if m.split(".")[0] in heavy], sorted(sys.modules)

        reranker = CrossEncoderReranker(model={tiny_model_dir!r}, top_n=1)
        docs = [Document(page_content="fish"), Document(page_content="tree")]
        out = reranker.compress_documents(docs, "fish")
        assert len(out) == 1 and "relevance_score" in out[0].metadata

        from langchain_rerank import RerankRetriever, build_rerank_retriever
        assert "langchain_classic" in sys.modules
        assert not [m for m in sys.modules if m.startswith("llama_index")]
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
