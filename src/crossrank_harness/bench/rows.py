"""The rows of ``crossrank bench``: the rerankers users would otherwise run, and crossrank on every backend.

Each row builds a :class:`~crossrank_harness.routes.base.RerankRoute` in its own worker process. Baselines
run the way their documentation shows, plus two references for crossrank's fast routes: plain
sentence-transformers in bf16 (the same computation done by hand) and FastEmbed's ``TextCrossEncoder``
on the very ONNX file crossrank's ONNX rows run. crossrank gets one row per backend the core knows
(``rerank_core.backends.BACKENDS``) and precision (:data:`MODES`) through the core and through both
adapters. Every row reads the same model, inputs and token limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from crossrank_harness.routes.base import RerankRoute
from crossrank_harness.routes.crossrank import VIAS, via_route
from crossrank_harness.routes.predict import PredictRoute
from rerank_core.backends import BACKENDS
from rerank_core.backends.cpu import this_cpu

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
    onnx_model: str | None = None
    """The model exported to ONNX once for the run: the ONNX rows and FastEmbed read this one file."""


@dataclass(frozen=True)
class RowSpec:
    """One row: its key, its label and how to build its rerank route."""

    key: str
    label: str
    kind: Literal["baseline", "reference", "crossrank"]
    build: Callable[[RowConfig], RerankRoute]
    options: dict[str, str] | None = None
    """For crossrank rows: ``via``, ``backend`` and ``precision``."""
    precision: str = "fp32"
    """The precision a baseline or reference row computes in (crossrank rows report the one they resolved)."""


def _langchain_baseline(config: RowConfig) -> RerankRoute:
    from langchain_classic.retrievers.document_compressors import CrossEncoderReranker
    from langchain_community.cross_encoders import HuggingFaceCrossEncoder

    from crossrank_harness.routes.langchain import LangChainRoute

    model = HuggingFaceCrossEncoder(
        model_name=config.model, model_kwargs={"device": config.device, "max_length": config.max_length}
    )
    return LangChainRoute(CrossEncoderReranker(model=model, top_n=config.top_n))


def _llamaindex_baseline(config: RowConfig) -> RerankRoute:
    from llama_index.core.postprocessor import SentenceTransformerRerank

    from crossrank_harness.routes.llamaindex import LlamaIndexRoute

    reranker = SentenceTransformerRerank(
        top_n=config.top_n, model=config.model, device=config.device, trust_remote_code=False
    )
    # It hard-codes a 512-token limit with no argument to change it: set its model's limit so it
    # reads the same tokens as every other row.
    reranker._model.max_seq_length = config.max_length
    return LlamaIndexRoute(reranker)


def _sentence_transformers(config: RowConfig, *, dtype: str | None = None) -> RerankRoute:
    import torch
    from sentence_transformers import CrossEncoder

    model_kwargs = {"dtype": getattr(torch, dtype)} if dtype else None
    model = CrossEncoder(config.model, device=config.device, max_length=config.max_length, model_kwargs=model_kwargs)
    return PredictRoute(model, BATCH_SIZE)


def _fastembed(config: RowConfig) -> RerankRoute:
    from crossrank_harness.routes.fastembed import fastembed_route

    if config.onnx_model is None:
        raise RuntimeError("No ONNX export of the model for this run (the export failed; see the ONNX rows).")
    return fastembed_route(config.onnx_model, config.max_length, BATCH_SIZE)


def _openvino_by_hand(config: RowConfig) -> RerankRoute:
    from crossrank_harness.routes.openvino import OpenVinoByHandRoute

    if config.onnx_model is None:
        raise RuntimeError("No ONNX export of the model for this run (the export failed; see the ONNX rows).")
    return OpenVinoByHandRoute(
        config.onnx_model, config.max_length, BATCH_SIZE, "bf16" if this_cpu().fast_bf16 else "f32"
    )


def model_for(config: RowConfig, backend: str) -> str:
    """The model a crossrank row loads: the run's ONNX export for the ONNX and OpenVINO backends (one export, the
    same graph), else the checkpoint."""
    if backend in ("onnx", "openvino") and config.onnx_model is not None:
        return config.onnx_model
    return config.model


def scorer_options(config: RowConfig, options: dict[str, str]) -> dict[str, Any]:
    """The scorer options of a crossrank row."""
    return {
        "backend": options["backend"],
        "precision": options["precision"],
        "device": config.device,
        "batch_size": BATCH_SIZE,
        "max_length": config.max_length,
    }


def _crossrank(config: RowConfig, *, via: str, backend: str, precision: str) -> RerankRoute:
    options = {"via": via, "backend": backend, "precision": precision}
    return via_route(via, model_for(config, backend), **scorer_options(config, options))


MODES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    # backend: ((precision, the routes it is benchmarked through), ...)
    "torch": (("auto", VIAS), ("fp32", VIAS)),
    "onnx": (("fp32", VIAS), ("int8", ("core",))),
    "openvino": (("auto", VIAS), ("fp32", ("core",)), ("int8", ("core",))),
}
"""What crossrank is benchmarked in: ``auto`` is the default, resolved per machine (its row says to what)."""

_VIA_LABELS = {
    "core": "crossrank core",
    "langchain": "crossrank LangChain CrossEncoderReranker",
    "llamaindex": "crossrank LlamaIndex CrossEncoderRerank",
}


def bench_rows() -> list[RowSpec]:
    """Every row: the baselines (the LangChain baseline leads), the references, then crossrank's."""
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
        RowSpec(
            "sentence-transformers-bf16",
            "sentence-transformers CrossEncoder.predict, bf16 weights",
            "reference",
            partial(_sentence_transformers, dtype="bfloat16"),
            precision="bf16",
        ),
        RowSpec("fastembed", "FastEmbed TextCrossEncoder (crossrank's ONNX export)", "reference", _fastembed),
        RowSpec(
            "openvino-by-hand",
            "OpenVINO by hand (crossrank's ONNX export, auto's precision)",
            "reference",
            _openvino_by_hand,
            precision="bf16" if this_cpu().fast_bf16 else "fp32",
        ),
    ]
    for backend in BACKENDS:
        for precision, vias in MODES.get(backend, (("auto", VIAS),)):
            for via in vias:
                rows.append(
                    RowSpec(
                        f"{via}-{backend}-{precision}",
                        f"{_VIA_LABELS[via]} ({backend} {precision})",
                        "crossrank",
                        partial(_crossrank, via=via, backend=backend, precision=precision),
                        {"via": via, "backend": backend, "precision": precision},
                    )
                )
    return rows
