"""LlamaIndex adapter for crossrank: a cross-encoder node postprocessor and a FAISS first stage.

``CrossEncoderRerank`` replaces ``SentenceTransformerRerank`` with a one-line change;
``build_rerank_query_engine`` gives a FAISS + cross-encoder query engine. Importing this package
loads neither LangChain nor FAISS, torch or the embedding model: those load when first used.
"""

from rerank_core import DEFAULT_EMBED_MODEL

from .faiss_pipeline import (
    RerankPipeline,
    build_faiss_index,
    build_rerank_query_engine,
    load_faiss_index,
    resolve_embed_model,
)
from .postprocessor import RETRIEVAL_SCORE_KEY, CrossEncoderRerank

__all__ = [
    "DEFAULT_EMBED_MODEL",
    "RETRIEVAL_SCORE_KEY",
    "CrossEncoderRerank",
    "RerankPipeline",
    "build_faiss_index",
    "build_rerank_query_engine",
    "load_faiss_index",
    "resolve_embed_model",
]
