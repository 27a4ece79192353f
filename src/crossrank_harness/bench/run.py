"""``crossrank bench``'s run: the cross-encoder rows, or an LLM reranker's rows, each row in a fresh process."""

from __future__ import annotations

import fnmatch
import json
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from crossrank_harness.system_info import environment
from rerank_core import CrossEncoderScorer, RerankError
from rerank_core.backends.cpu import cpu_info
from rerank_core.engine.families import detect_family
from rerank_core.engine.model_loading import CROSS_ENCODER, loading_model

from .fresh_process import run_in_fresh_process
from .llm import run_llm_bench
from .peak import Work, cpu_clock_ghz, machine_peaks, throughput_work
from .report import summarise
from .rows import BASELINE_KEY, BATCH_SIZE, RowConfig, RowSpec
from .workload import Workload, build_workload

logger = logging.getLogger(__name__)

FULL = {"queries": 200, "k": 100, "repeats": 20, "warmup": 3}
"""The standard run: 1 query x 100 passages (latency) and 200 queries x 100 passages (throughput)."""
QUICK = {"queries": 2, "k": 20, "repeats": 2, "warmup": 1}
"""``--quick``: the same rows on a few short calls, to check the set-up in about a minute."""
LLM_PASSAGES = {"full": (20, 100), "quick": (2, 4)}
"""Passages per timed call of an LLM reranker's rows (``--k K`` times K instead)."""

Progress = Callable[[str], None] | None
"""Where the lines saying which row runs and how long it took go (``None``: nowhere)."""


@dataclass(frozen=True)
class BenchSettings:
    """What ``crossrank bench`` runs."""

    data_dir: Path
    model: str
    queries: int
    k: int
    """Passages per query: the BM25 top ``k``."""
    repeats: int
    warmup: int
    max_length: int | None = None
    """Tokens per pair in every row; ``None`` is the model's own limit."""
    device: str | None = None


def row_config_and_work(settings: BenchSettings, workload: Workload, device: str) -> tuple[RowConfig, Work | None]:
    """The rows' shared configuration (the token limit: ``settings.max_length``, else the one crossrank's engine
    scores the model at) and the matrix-product work of the throughput calls at that limit."""
    scorer = CrossEncoderScorer(settings.model, device="cpu", max_length=settings.max_length).load()
    limit = scorer.max_length_used
    assert limit is not None, "a loaded scorer knows its token limit"
    counts = [int(scorer.tokens_read(request.query, request.texts).sum()) for request in workload.throughput]
    config = RowConfig(model=settings.model, max_length=limit, device=device, top_n=settings.k)
    return config, throughput_work(settings.model, counts)


def is_llm_reranker(model: str) -> bool:
    """Whether ``model`` is a causal-LM reranker, whose rows are :mod:`crossrank_harness.bench.llm`'s.

    Raises:
        ModelNotFoundError, ModelLoadError: the model is missing, or is no reranker of a known family.
    """
    from transformers import AutoConfig

    with loading_model(model, CROSS_ENCODER):
        config = AutoConfig.from_pretrained(model).to_dict()
    return detect_family(model, config).head == "token-logits"


def run_worker(spec: RowSpec, config: RowConfig, workload_path: Path, folder: Path) -> dict[str, Any]:
    """Run one row in a fresh Python process; its result, or ``{"error": ...}`` with the end of its stderr."""
    job = {"row": spec.key, "config": asdict(config), "workload": str(workload_path)}
    return run_in_fresh_process("crossrank_harness.bench.worker", job, folder, spec.key)


def export_for_run(model: str, folder: Path) -> str | None:
    """Export ``model`` to ONNX once for the run (the ONNX rows and FastEmbed share it); ``None`` if it fails."""
    from rerank_core.backends.onnx_export import export_onnx

    try:
        return str(export_onnx(model, folder / "onnx"))
    except (RerankError, ImportError, RuntimeError, ValueError) as exc:
        logger.warning("ONNX export failed, so the ONNX and FastEmbed rows will fail: %s", exc)
        return None


def select_rows(specs: list[RowSpec], patterns: Sequence[str] | None) -> list[RowSpec]:
    """The rows whose key matches one of the shell-style ``patterns`` (all without), baseline always first.

    Raises:
        ValueError: no row but the baseline matches.
    """
    if not patterns:
        return specs
    chosen = [s for s in specs if s.key == BASELINE_KEY or any(fnmatch.fnmatch(s.key, p) for p in patterns)]
    if len(chosen) == 1:
        raise ValueError(f"no row matches {', '.join(patterns)}; rows: {', '.join(s.key for s in specs)}")
    return chosen


def run_bench(settings: BenchSettings, specs: list[RowSpec], progress: Progress = None) -> dict[str, Any]:
    """Build the workload, run every row in its own process, one after another; the JSON-ready report."""
    import torch

    from rerank_core.backends.torch_backend import resolve_device

    workload = build_workload(
        settings.data_dir,
        queries=settings.queries,
        passages=settings.k,
        repeats=settings.repeats,
        warmup=settings.warmup,
    )
    config, work = row_config_and_work(settings, workload, resolve_device(settings.device))
    needs_onnx = any(
        s.key in ("fastembed", "openvino-by-hand") or (s.options or {}).get("backend") in ("onnx", "openvino")
        for s in specs
    )
    cpu = cpu_info()
    clock = cpu_clock_ghz()
    peaks = machine_peaks(cpu, clock) if config.device == "cpu" else {}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="crossrank-bench-") as tmp:
        folder = Path(tmp)
        if needs_onnx:
            config = replace(config, onnx_model=export_for_run(settings.model, folder))
        workload_path = folder / "workload.json"
        workload_path.write_text(json.dumps(workload.to_json()), encoding="utf-8")
        for number, spec in enumerate(specs, start=1):
            if progress is not None:
                progress(f"[{number}/{len(specs)}] {spec.label} ...")
            started = time.perf_counter()
            results[spec.key] = run_worker(spec, config, workload_path, folder)
            if progress is not None:
                outcome = "failed" if "error" in results[spec.key] else "done"
                progress(f"    {outcome} in {time.perf_counter() - started:.1f} s")
    return {
        "command": "bench",
        "settings": {**_settings_json(settings), "batch_size": BATCH_SIZE},
        "row_config": asdict(config),
        "workload": _describe(workload),
        "machine": {"cpu": cpu.to_json(), "torch_threads": torch.get_num_threads(), "clock_ghz": clock},
        "memory_measure": "peak RSS of each row's own fresh process (imports, model load and the run)",
        "work": None if work is None else work.to_json(),
        "peaks": {precision: asdict(peak) for precision, peak in peaks.items()},
        "rows": summarise(specs, results, workload, work, peaks),
        "environment": environment(),
    }


def run_llm(
    settings: BenchSettings, counts: Sequence[int], chosen: dict[str, tuple[str, ...]], progress: Progress = None
) -> dict[str, Any]:
    """An LLM reranker's ``chosen`` rows (:func:`.llm.select_llm_rows`); the JSON-ready report."""
    import torch

    from rerank_core.backends.torch_backend import resolve_device

    with tempfile.TemporaryDirectory(prefix="crossrank-bench-") as tmp:
        section = run_llm_bench(
            settings.data_dir,
            settings.model,
            counts=counts,
            chosen=chosen,
            max_length=settings.max_length,
            device=resolve_device(settings.device),
            folder=Path(tmp),
            progress=progress,
        )
    return {
        "command": "bench",
        "settings": _settings_json(settings),
        "machine": {"cpu": cpu_info().to_json(), "torch_threads": torch.get_num_threads()},
        "memory_measure": "peak RSS of each precision's own fresh process (imports, model load and the run)",
        "llm": section,
        "environment": environment(),
    }


def failed_rows(report: dict[str, Any]) -> bool:
    """Whether any row of a bench report (cross-encoder or LLM) failed."""
    rows = report["llm"]["rows"] if "llm" in report else report["rows"]
    return any("error" in row for row in rows)


def _settings_json(settings: BenchSettings) -> dict[str, Any]:
    return {**asdict(settings), "data_dir": str(settings.data_dir)}


def _describe(workload: Workload) -> dict[str, Any]:
    return {
        "warmup_calls": len(workload.warmup),
        "latency": {"queries": 1, "passages": len(workload.latency.ids), "repeats": workload.repeats},
        "throughput": {
            "queries": len(workload.throughput),
            "passages_per_query": len(workload.throughput[0].ids) if workload.throughput else 0,
        },
    }
