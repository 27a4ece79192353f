"""Retrieval-augmented answering with LlamaIndex: FAISS finds candidates, a cross-encoder reranks them.

Run: ``python examples/llamaindex_rag.py [--question "..."] [--persist-dir DIR]``.

Same corpus, question and settings as ``examples/langchain_rag.py``, so both print the same
reranked context:

- Corpus: BEIR SciFact from the folder in ``CROSSRANK_SCIFACT``, when set. Sub-corpus: the
  abstracts judged relevant to the first query of ``qrels/test.tsv`` plus 200 other abstracts
  drawn with seed 0. Each document
  is ``title + " " + text`` with its BEIR id as id, indexed whole (no chunking).
  Without SciFact: the small corpus of ``sample_corpus.py``.
- Question: the text of the first query in ``qrels/test.tsv`` (built-in corpus: the one below).
- First stage: FAISS, cosine similarity over normalised ``CROSSRANK_EMBED_MODEL`` embeddings
  (default ``sentence-transformers/all-MiniLM-L6-v2``), top 20.
- Reranker: ``CROSSRANK_MODEL`` (default ``rerank_core.DEFAULT_MODEL``), top 3.

No LLM is reachable here, so the query engine answers with LlamaIndex's ``MockLLM``, which echoes
the prompt it receives: its "answer" shows the reranked context a real LLM would read. Pass any
LlamaIndex LLM as ``llm=`` to ``build_rerank_query_engine`` for real answers.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from llama_index.core.llms import MockLLM
from llama_index.core.schema import TextNode
from sample_corpus import sample_dataset

from llamaindex_rerank import (
    DEFAULT_EMBED_MODEL,
    build_faiss_index,
    build_rerank_query_engine,
    load_faiss_index,
)
from rerank_core import DEFAULT_MODEL

OTHER_ABSTRACTS = 200


def node(doc_id: str, title: str, text: str) -> TextNode:
    """One whole document; the title is kept as metadata but not added again to what is embedded or read."""
    return TextNode(
        id_=doc_id,
        text=f"{title} {text}".strip(),
        metadata={"title": title},
        excluded_embed_metadata_keys=["title"],
        excluded_llm_metadata_keys=["title"],
    )


def load_corpus() -> tuple[list[TextNode], str, set[str], str]:
    """Nodes, the question (the corpus's first claim), the ids judged relevant to it, and a label."""
    data, label = sample_dataset(queries=1, others=OTHER_ABSTRACTS)
    qid, question = next(iter(data.queries.items()))
    nodes = [node(d, data.corpus[d]["title"], data.corpus[d]["text"]) for d in data.corpus]
    return nodes, question, set(data.qrels[qid]), label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--question", help="ask this instead of the corpus's sample question")
    parser.add_argument("--k", type=int, default=20, help="FAISS candidates to rerank")
    parser.add_argument("--top-n", type=int, default=3, help="passages passed to the LLM")
    parser.add_argument(
        "--persist-dir", type=Path, help="reload the index from here if saved before, else build and save it"
    )
    args = parser.parse_args()

    nodes, question, relevant, label = load_corpus()
    question = args.question or question
    embed_model = os.environ.get("CROSSRANK_EMBED_MODEL", DEFAULT_EMBED_MODEL)
    rerank_model = os.environ.get("CROSSRANK_MODEL", DEFAULT_MODEL)
    print(f"Corpus: {label}\nFirst stage: FAISS over {embed_model}\nReranker: {rerank_model}")

    start = time.perf_counter()
    if args.persist_dir and (args.persist_dir / "docstore.json").is_file():
        index = load_faiss_index(args.persist_dir, embed_model=embed_model)
        print(f"Loaded the index from {args.persist_dir} in {time.perf_counter() - start:.1f}s\n")
    else:
        index = build_faiss_index(nodes, embed_model=embed_model, persist_dir=args.persist_dir)
        saved = f", saved to {args.persist_dir}" if args.persist_dir else ""
        print(f"Indexed {len(nodes)} documents in {time.perf_counter() - start:.1f}s{saved}\n")

    # MockLLM: no LLM is reachable here (see the module docstring).
    rag = build_rerank_query_engine(index, model=rerank_model, similarity_top_k=args.k, top_n=args.top_n, llm=MockLLM())
    first_stage = [n.node.node_id for n in rag.retriever.retrieve(question)]
    response = rag.query_engine.query(question)

    print(f"Question: {question}")
    print(f"Reranked context (top {args.top_n} of {len(first_stage)} FAISS candidates):")
    for rank, item in enumerate(response.source_nodes, start=1):
        doc_id = item.node.node_id
        mark = "*" if doc_id in relevant and not args.question else " "
        title = item.node.metadata.get("title", "")[:80]
        faiss_rank = first_stage.index(doc_id) + 1
        print(f" {mark}{rank}. [{item.score:.3f}] [{doc_id}] (FAISS #{faiss_rank}) {title}")
    if not args.question:
        print("(* = judged relevant)")
    print(f"\nMockLLM answer (it echoes its prompt; the context above is in it):\n{str(response)[:400]}...")


if __name__ == "__main__":
    main()
