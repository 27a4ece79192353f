"""``llamaindex_rerank`` needs no LangChain, and loads FAISS, torch and embeddings only when used."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

BLOCKED_IMPORT_CHECK = textwrap.dedent(
    """
    import sys

    BLOCKED = {
        "langchain", "langchain_core", "langchain_classic", "langchain_community", "langchain_huggingface"
    }

    class Blocker:
        '''Behave as if no LangChain package were installed.'''

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    try:
        import langchain_core  # noqa: F401
    except ModuleNotFoundError:
        pass
    else:
        raise SystemExit("the blocker does not work")

    import llamaindex_rerank
    from llamaindex_rerank import CrossEncoderRerank, build_rerank_query_engine  # noqa: F401

    heavy = ("faiss", "torch", "sentence_transformers", "transformers",
             "llama_index.vector_stores.faiss", "llama_index.embeddings.huggingface")
    loaded = sorted(name for name in heavy if name in sys.modules)
    assert not loaded, f"importing llamaindex_rerank loaded {loaded}"

    from llama_index.core.schema import NodeWithScore, TextNode

    reranker = CrossEncoderRerank(model=sys.argv[1], device="cpu", top_n=1)
    nodes = [NodeWithScore(node=TextNode(id_=i, text=t)) for i, t in
             [("a", "Bananas are yellow."), ("b", "Aspirin reduced myocardial infarction in a trial.")]]
    best = reranker.postprocess_nodes(nodes, query_str="Aspirin prevents heart attacks.")
    assert [n.node.node_id for n in best] == ["b"], best
    assert not any(name.split(".")[0] in BLOCKED for name in sys.modules)
    print("ok")
    """
)


def test_imports_and_reranks_without_langchain(ce_model_path):
    result = subprocess.run(
        [sys.executable, "-c", BLOCKED_IMPORT_CHECK, ce_model_path],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
