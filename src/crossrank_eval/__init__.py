"""Evaluation support for crossrank: BEIR data, first stages, an embedding cache and ranking metrics."""

from rerank_core.engine.cache_dir import CACHE_DIR_ENV, default_cache_dir

from .beir import BeirDataset, BeirFormatError, join_title_text, load_beir, load_corpus, load_queries
from .embedding_cache import EmbeddingCache
from .first_stage import Bm25Retriever, DenseRetriever
from .metrics import evaluate_runs

__all__ = [
    "CACHE_DIR_ENV",
    "BeirDataset",
    "BeirFormatError",
    "Bm25Retriever",
    "DenseRetriever",
    "EmbeddingCache",
    "default_cache_dir",
    "evaluate_runs",
    "join_title_text",
    "load_beir",
    "load_corpus",
    "load_queries",
]
