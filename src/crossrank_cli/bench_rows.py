"""The rows of ``crossrank bench``: the rerankers users would otherwise run, and crossrank on every backend.

Each row builds a :class:`~crossrank_cli.rerank_paths.RerankPath` in its own worker process. Baselines
run the way their documentation shows; crossrank gets one row per backend the core knows
(``rerank_core.backends.BACKENDS``) through the core and through both adapters, so a new backend
shows up here without changes. Every row reads the same model, inputs and token limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from rerank_core.backends import BACKENDS

from .rerank_paths import PredictPath, RerankPath, via_path

BATCH_SIZE = 32
"""Pairs per forward pass in every row: the fixed default of the LangChain and LlamaIndex baselines."""

BASELINE_KEY = "langchain-baseline"
"""The row every other row is compared with."""


@dataclass(frozen=True)
class RowConfig:
    """What every row shares."""

    model: str
    max_length: int
    device: str
    top_n: int
    """Passages per query: every row returns its full ranking."""


@dataclass(frozen=True)
class RowSpec:
    """One row: its key, its label and how to build its reranking path."""

    key: str
    label: str
    kind: Literal["baseline", "crossrank"]
    build: Callable[[RowConfig], RerankPath]


def _langchain_baseline(config: RowConfig) -> RerankPath:
    from langchain_classic.retrievers.document_compressors import CrossEncoderReranker
    from langchain_community.cross_encoders import HuggingFaceCrossEncoder

    from .langchain_path import LangChainPath

    model = HuggingFaceCrossEncoder(
        model_name=config.model, model_kwargs={"device": config.device, "max_length": config.max_length}
    )
    return LangChainPath(CrossEncoderReranker(model=model, top_n=config.top_n))


def _llamaindex_baseline(config: RowConfig) -> RerankPath:
    from llama_index.core.postprocessor import SentenceTransformerRerank

    from .llamaindex_path import LlamaIndexPath

    reranker = SentenceTransformerRerank(
        top_n=config.top_n, model=config.model, device=config.device, trust_remote_code=False
    )
    # It hard-codes a 512-token limit with no argument to change it: set its model's limit so it
    # reads the same tokens as every other row.
    reranker._model.max_seq_length = config.max_length
    return LlamaIndexPath(reranker)


def _sentence_transformers(config: RowConfig) -> RerankPath:
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(config.model, device=config.device, max_length=config.max_length)
    return PredictPath(model, BATCH_SIZE)


def _crossrank(config: RowConfig, *, via: str, backend: str) -> RerankPath:
    return via_path(
        via,
        config.model,
        backend=backend,
        device=config.device,
        batch_size=BATCH_SIZE,
        max_length=config.max_length,
    )


def bench_rows() -> list[RowSpec]:
    """Every row, baselines first (the LangChain baseline leads)."""
    rows = [
        RowSpec(
            BASELINE_KEY,
            "LangChain CrossEncoderReranker + HuggingFaceCrossEncoder",
            "baseline",
            _langchain_baseline,
        ),
        RowSpec("llamaindex-baseline", "LlamaIndex SentenceTransformerRerank", "baseline", _llamaindex_baseline),
        RowSpec(
            "sentence-transformers",
            "sentence-transformers CrossEncoder.predict",
            "baseline",
            _sentence_transformers,
        ),
    ]
    for backend in BACKENDS:
        rows += [
            RowSpec(
                f"core-{backend}",
                f"crossrank core ({backend})",
                "crossrank",
                partial(_crossrank, via="core", backend=backend),
            ),
            RowSpec(
                f"langchain-{backend}",
                f"crossrank LangChain CrossEncoderReranker ({backend})",
                "crossrank",
                partial(_crossrank, via="langchain", backend=backend),
            ),
            RowSpec(
                f"llamaindex-{backend}",
                f"crossrank LlamaIndex CrossEncoderRerank ({backend})",
                "crossrank",
                partial(_crossrank, via="llamaindex", backend=backend),
            ),
        ]
    return rows
