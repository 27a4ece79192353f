"""The data side of evaluation: BEIR folders, long documents built from them, first stages (BM25, dense FAISS),
corpus embedding cache, ranx metrics."""

from .beir import BeirDataset, BeirFormatError, join_title_text, load_beir, load_corpus, load_queries
from .embedding_cache import EmbeddingCache
from .first_stage import Bm25Retriever, DenseRetriever
from .long_documents import LongCorpus, LongDocument, build_long_corpus
from .metrics import evaluate_runs

__all__ = [
    "BeirDataset",
    "BeirFormatError",
    "Bm25Retriever",
    "DenseRetriever",
    "EmbeddingCache",
    "LongCorpus",
    "LongDocument",
    "build_long_corpus",
    "evaluate_runs",
    "join_title_text",
    "load_beir",
    "load_corpus",
    "load_queries",
]
