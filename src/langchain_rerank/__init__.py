"""LangChain adapter for crossrank (see issue: the compressor and FAISS retriever)."""
