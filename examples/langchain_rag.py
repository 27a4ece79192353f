"""Retrieval-augmented answering with LangChain: FAISS finds candidates, a cross-encoder reranks them.

Run: ``python examples/langchain_rag.py [--question "..."]`` (``scripts/demo`` sets up the environment).

The corpus is SciFact from the BEIR folder in ``CROSSRANK_SCIFACT``: the first judged test claim's
relevant abstracts plus a few hundred others, so indexing stays quick. Without it, the small corpus
of ``sample_corpus.py`` is used. Models come from ``CROSSRANK_EMBED_MODEL``
(default ``sentence-transformers/all-MiniLM-L6-v2``) and ``CROSSRANK_MODEL`` (default the library's
cross-encoder). The reranked passages are printed with their scores, then handed to a chat model in
an LCEL chain: the model named by ``CROSSRANK_CHAT_MODEL`` (for ``init_chat_model``, for example
``openai:gpt-4o-mini`` with its provider package installed), or a fake model when none is set.
"""

from __future__ import annotations

import argparse
import os
import time

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableParallel, RunnablePassthrough
from sample_corpus import sample_dataset

from langchain_rerank import build_rerank_retriever
from rerank_core import DEFAULT_EMBED_MODEL, DEFAULT_MODEL

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer the question using only the context. Cite passages by their [id]."),
        ("human", "Context:\n{context}\n\nQuestion: {question}"),
    ]
)


def load_corpus(others: int) -> tuple[list[Document], str, set[str], str]:
    """Documents, the question (the corpus's first claim), the ids judged relevant to it, and a label."""
    data, label = sample_dataset(queries=1, others=others)
    qid, question = next(iter(data.queries.items()))
    docs = [
        Document(page_content=data.doc_text(d), id=d, metadata={"title": data.corpus[d]["title"]}) for d in data.corpus
    ]
    return docs, question, set(data.qrels[qid]), label


def chat_model() -> BaseChatModel:
    """The chat model named by CROSSRANK_CHAT_MODEL, else a fake one that says how to configure one."""
    name = os.environ.get("CROSSRANK_CHAT_MODEL")
    if name:
        from langchain_classic.chat_models import init_chat_model

        return init_chat_model(name)
    return FakeListChatModel(
        responses=[
            "(fake chat model) Set CROSSRANK_CHAT_MODEL, for example openai:gpt-4o-mini, to have a real "
            "model answer from the reranked context above."
        ]
    )


def format_docs(docs: list[Document]) -> str:
    """The context block the chat model reads: one passage per paragraph, tagged with its id."""
    return "\n\n".join(f"[{doc.id}] {doc.page_content}" for doc in docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--question", help="ask this instead of the corpus's sample question")
    parser.add_argument("--k", type=int, default=20, help="FAISS candidates to rerank")
    parser.add_argument("--top-n", type=int, default=3, help="passages passed to the chat model")
    parser.add_argument("--others", type=int, default=200, help="SciFact abstracts indexed besides the relevant")
    args = parser.parse_args()

    docs, question, relevant, label = load_corpus(args.others)
    question = args.question or question
    embed_model = os.environ.get("CROSSRANK_EMBED_MODEL", DEFAULT_EMBED_MODEL)
    rerank_model = os.environ.get("CROSSRANK_MODEL", DEFAULT_MODEL)
    print(f"Corpus: {label}\nFirst stage: FAISS over {embed_model}\nReranker: {rerank_model}")

    start = time.perf_counter()
    retriever = build_rerank_retriever(docs, model=rerank_model, embeddings=embed_model, k=args.k, top_n=args.top_n)
    print(f"Indexed {len(docs)} documents in {time.perf_counter() - start:.1f}s\n")

    answer_chain = (
        RunnablePassthrough.assign(context=lambda x: format_docs(x["docs"])) | PROMPT | chat_model() | StrOutputParser()
    )
    chain = RunnableParallel(docs=retriever, question=RunnablePassthrough()).assign(answer=answer_chain)
    result = chain.invoke(question)

    candidates = min(args.k, len(docs))
    print(f"Question: {question}\nReranked context (top {args.top_n} of {candidates} FAISS candidates):")
    for rank, doc in enumerate(result["docs"], start=1):
        mark = "*" if doc.id in relevant and not args.question else " "
        print(f" {mark}{rank}. [{doc.metadata['relevance_score']:.3f}] [{doc.id}] {doc.metadata['title'][:90]}")
    if not args.question:
        print("(* = judged relevant)")
    print(f"\nAnswer: {result['answer']}")


if __name__ == "__main__":
    main()
