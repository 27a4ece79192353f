"""crossrank for LangChain: a cross-encoder reranker (document compressor) and a two-stage FAISS retriever.

``CrossEncoderReranker`` needs ``langchain-core`` only. The retriever and the FAISS helpers load on
first access and need ``langchain-classic`` (plus ``langchain-community``, ``langchain-huggingface``
and ``faiss-cpu`` to build or load an index): ``pip install "crossrank[faiss]"``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .compressor import CrossEncoderReranker

if TYPE_CHECKING:
    from .retriever import (
        RerankRetriever,
        build_rerank_retriever,
        load_rerank_retriever,
        save_rerank_retriever,
    )

_LAZY = {
    "RerankRetriever": ".retriever",
    "build_rerank_retriever": ".retriever",
    "load_rerank_retriever": ".retriever",
    "save_rerank_retriever": ".retriever",
}

__all__ = [
    "CrossEncoderReranker",
    "RerankRetriever",
    "build_rerank_retriever",
    "load_rerank_retriever",
    "save_rerank_retriever",
]


def __getattr__(name: str) -> Any:
    """Import the retriever module on first access, so ``import langchain_rerank`` stays light."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
