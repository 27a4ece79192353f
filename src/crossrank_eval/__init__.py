"""Evaluation support for crossrank: BEIR data, first-stage retrievers and ranking metrics."""

from .beir import BeirDataset, BeirFormatError, load_beir
from .first_stage import Bm25Retriever, DenseRetriever
from .metrics import evaluate_runs

__all__ = ["BeirDataset", "BeirFormatError", "Bm25Retriever", "DenseRetriever", "evaluate_runs", "load_beir"]
