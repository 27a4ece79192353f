"""``crossrank bench`` on an LLM reranker (a causal LM: Qwen3-Reranker, mxbai-rerank-v2, bge-reranker-v2-gemma).

Cross-encoder baselines cannot load these models, so the rows compare three ways of computing the same
scores, each in bf16 and in fp32, on one query of DATA_DIR and its BM25 top passages (20 and 100 by default):

- ``recipe``: the model card's reference code, ``model(**inputs).logits[:, -1]`` (the whole vocabulary's
  logits at every position) on left-padded batches of 32 in input order, then the score tokens' columns.
  The cards score their whole list in one batch; for 100 passages of ~300 tokens those logits alone
  would take about 18 GB in fp32, so the batches are those of every other row;
- ``full-head``: crossrank's batching (length-sorted, right-padded, the last real token of each row) with
  every row of the LM head: what reading the score from full next-token logits costs;
- ``crossrank``: ``CrossEncoderScorer.score``: the same with only the score tokens' rows of the head.

Every route reads the tokens of crossrank's recipe for the family, which the test suite checks against
each family's published recipe. One worker process per precision loads the model once and times each route
after one untimed warm-up call; ratios are against the recipe row of the same precision.
"""

from __future__ import annotations

import fnmatch
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from crossrank_harness.system_info import cpu_line
from crossrank_harness.table import format_table, number

from .fresh_process import peak_rss_bytes, run_in_fresh_process
from .report import rank_agreement
from .workload import Request, build_workload

LLM_ROUTES = {
    "recipe": "model card recipe (full logits, every position)",
    "full-head": "full LM head, last token",
    "crossrank": "crossrank core (score rows of the head)",
}
"""The ways a score is computed, the recipe (the reference of its precision) first."""
LLM_PRECISIONS = ("bf16", "fp32")
BATCH_SIZE = 32
WARMUP_PASSAGES = 8
"""Passages of the untimed warm-up call of each route (another query's BM25 top)."""


@dataclass(frozen=True)
class LlmJob:
    """What one worker process runs: every chosen route in one precision."""

    model: str
    precision: str
    routes: tuple[str, ...]
    counts: tuple[int, ...]
    """Passages per timed call: the first ``count`` of the query's BM25 top."""
    max_length: int | None
    device: str
    warmup: Request
    request: Request


def llm_row_key(route: str, precision: str) -> str:
    """An LLM row's key: ``llm-{route}-{precision}``."""
    return f"llm-{route}-{precision}"


def llm_row_keys() -> list[str]:
    """Every LLM row's key, in report order."""
    return [llm_row_key(route, precision) for precision in LLM_PRECISIONS for route in LLM_ROUTES]


def select_llm_rows(patterns: Sequence[str] | None) -> dict[str, tuple[str, ...]]:
    """The chosen routes per precision: rows matching a shell-style pattern (all without), each with its recipe.

    Raises:
        ValueError: no row matches.
    """
    chosen: dict[str, tuple[str, ...]] = {}
    for precision in LLM_PRECISIONS:
        keys = {route: llm_row_key(route, precision) for route in LLM_ROUTES}
        routes = [p for p, key in keys.items() if not patterns or any(fnmatch.fnmatch(key, x) for x in patterns)]
        if routes:
            chosen[precision] = tuple(dict.fromkeys(["recipe", *routes]))
    if not chosen:
        raise ValueError(f"no row matches {', '.join(patterns or [])}; rows: {', '.join(llm_row_keys())}")
    return chosen


def run_llm_bench(
    data_dir: Path,
    model: str,
    *,
    counts: Sequence[int],
    chosen: dict[str, tuple[str, ...]],
    max_length: int | None,
    device: str,
    folder: Path,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run each precision's routes in its own worker process; the JSON-ready report section."""
    load = build_workload(data_dir, queries=0, passages=max(counts), repeats=1, warmup=1)
    warmup = Request(load.warmup[0].query, load.warmup[0].ids[:WARMUP_PASSAGES], load.warmup[0].texts[:WARMUP_PASSAGES])
    rows: list[dict[str, Any]] = []
    for number_, (precision, routes) in enumerate(chosen.items(), start=1):
        job = LlmJob(model, precision, routes, tuple(sorted(counts)), max_length, device, warmup, load.latency)
        if progress is not None:
            progress(f"[{number_}/{len(chosen)}] LLM reranker, {precision}: {', '.join(routes)} ...")
        started = time.perf_counter()
        result = run_in_fresh_process("crossrank_harness.bench.llm", asdict(job), folder, f"llm-{precision}")
        if progress is not None:
            outcome = "failed" if "error" in result else "done"
            progress(f"    {outcome} in {time.perf_counter() - started:.1f} s")
        rows.extend(_rows(job, result))
    return {
        "model": model,
        "query": load.latency.query,
        "passages": list(sorted(counts)),
        "batch_size": BATCH_SIZE,
        "max_length": max_length,
        "device": device,
        "rows": rows,
    }


def _rows(job: LlmJob, result: dict[str, Any]) -> list[dict[str, Any]]:
    """One summary per route of the job, with speed per passage count and agreement with the recipe."""
    rows = []
    for route in job.routes:
        row: dict[str, Any] = {"row": llm_row_key(route, job.precision), "label": LLM_ROUTES[route]}
        row["precision"] = job.precision
        if "error" in result:
            rows.append({**row, "error": result["error"]})
            continue
        reference, own = result["routes"]["recipe"], result["routes"][route]
        speed = {}
        for count in job.counts:
            seconds = own["seconds"][str(count)]
            speed[str(count)] = {
                "seconds": seconds,
                "passages_per_second": count / seconds,
                "vs_recipe": reference["seconds"][str(count)] / seconds,
            }
        ranking, expected = _ranking(own["scores"]), _ranking(reference["scores"])
        row.update(
            precision_used=result["precision_used"],
            mean_tokens=result["mean_tokens"],
            speed=speed,
            max_score_difference=float(np.max(np.abs(np.subtract(own["scores"], reference["scores"])))),
            agreement_with_recipe=rank_agreement([expected], [ranking]),
            peak_rss_mib=None if result["peak_rss_bytes"] is None else result["peak_rss_bytes"] / 2**20,
        )
        rows.append(row)
    return rows


def _ranking(scores: Sequence[float]) -> list[str]:
    return [str(i) for i in np.argsort(-np.asarray(scores), kind="stable")]


def llm_header(report: dict[str, Any]) -> str:
    """The lines above the LLM table: model and limits, machine, inputs and how rows compare."""
    section, machine = report["llm"], report["machine"]
    limit = section["max_length"] or "the family's own"
    return "\n".join(
        [
            f"crossrank bench, LLM reranker: {section['model']} | max length {limit} tokens | batch size "
            f"{section['batch_size']} | device {section['device']} | "
            f"torch threads {machine['torch_threads']}",
            cpu_line(machine["cpu"]),
            f"Inputs: the BM25 top {' and '.join(map(str, section['passages']))} passages of {section['query']!r} "
            f"from {report['settings']['data_dir']}, one untimed warm-up call per row",
            "Each precision runs in its own fresh process; peak RSS is that process's peak. x recipe, score "
            "difference and Kendall tau: against the recipe row of that precision, on raw scores (the logit "
            "difference whose sigmoid is the score).",
        ]
    )


def llm_text(report: dict[str, Any]) -> str:
    """What ``crossrank bench`` prints for an LLM reranker: the header and the rows' table."""
    return f"{llm_header(report)}\n{llm_table(report['llm'])}"


def llm_table(section: dict[str, Any]) -> str:
    """The LLM rows: passages/s and ratio to the recipe per passage count, score agreement, memory."""
    counts = [str(c) for c in section["passages"]]
    headers = ["row", "precision", "tokens/pair"]
    for count in counts:
        headers += [f"{count} passages/s", f"{count}: x recipe"]
    headers += ["max |score diff|", "Kendall tau", "peak RSS MiB"]
    rows = []
    for s in section["rows"]:
        if "error" in s:
            last_line = (s["error"].strip().splitlines() or ["no message"])[-1]
            rows.append([s["label"], s["precision"], f"failed: {last_line[:60]}", *["-"] * (len(headers) - 3)])
            continue
        cells = [s["label"], s["precision_used"], number(s["mean_tokens"], 0)]
        for count in counts:
            cells += [number(s["speed"][count]["passages_per_second"], 2), number(s["speed"][count]["vs_recipe"], 2)]
        cells += [f"{s['max_score_difference']:.1e}", number(s["agreement_with_recipe"]["kendall_tau"], 3)]
        cells.append(number(s["peak_rss_mib"], 0))
        rows.append(cells)
    return format_table(headers, rows)


def measure(job: LlmJob) -> dict[str, Any]:
    """Load the model once in ``job.precision``; per route, one warm-up call, then the timed calls and raw scores."""
    import torch

    from rerank_core import CrossEncoderScorer
    from rerank_core.backends.torch_backend import TorchBackend
    from rerank_core.backends.torch_heads import ScoringModule
    from rerank_core.engine.activation import relevance_scores
    from rerank_core.engine.batching import length_sorted_batches, pad_batch

    scorer = CrossEncoderScorer(
        job.model,
        backend="torch",
        precision=job.precision,
        batch_size=BATCH_SIZE,
        device=job.device,
        max_length=job.max_length,
        activation="none",
    ).load()
    loaded, encoder = scorer._loaded_model()
    backend = cast(TorchBackend, loaded)  # backend="torch": the recipe rows run its Hugging Face model
    hf = backend.module.model
    columns = list(backend.spec.score_token_ids)
    device = next(hf.parameters()).device

    def encoded(request: Request, count: int) -> list[Any]:
        return encoder.encode(request.query, request.texts[:count], None).encodings

    @torch.inference_mode()
    def recipe(encodings: list[Any]) -> np.ndarray:
        out = []
        for start in range(0, len(encodings), BATCH_SIZE):
            ids, mask = _left_padded([e.ids for e in encodings[start : start + BATCH_SIZE]], backend.pad_token_id)
            logits = hf(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False).logits[:, -1]
            out.append(logits[:, columns].float().cpu().numpy())
        return relevance_scores(np.concatenate(out), "none")

    full = ScoringModule(hf, backend.family, backend.input_names, range(hf.config.vocab_size)).eval()

    @torch.inference_mode()
    def full_head(encodings: list[Any]) -> np.ndarray:
        scores = np.empty(len(encodings), dtype=np.float32)
        for rows in length_sorted_batches(encodings, BATCH_SIZE):
            batch = pad_batch(encodings, rows, backend.pad_token_id, backend.input_names)
            logits = full(*(torch.from_numpy(batch[name]).to(device) for name in backend.input_names))
            scores[rows] = relevance_scores(logits[:, columns].float().cpu().numpy(), "none")
        return scores

    routes: dict[str, Callable[[Request, int], np.ndarray]] = {
        "recipe": lambda request, count: recipe(encoded(request, count)),
        "full-head": lambda request, count: full_head(encoded(request, count)),
        "crossrank": lambda request, count: scorer.score(request.query, request.texts[:count]),
    }
    results: dict[str, Any] = {}
    for name in job.routes:
        routes[name](job.warmup, len(job.warmup.texts))
        seconds, scores = {}, None
        for count in job.counts:
            started = time.perf_counter()
            scores = routes[name](job.request, count)
            seconds[str(count)] = time.perf_counter() - started
        results[name] = {"seconds": seconds, "scores": np.asarray(scores, dtype=np.float64).tolist()}
    tokens = [len(e) for e in encoded(job.request, max(job.counts))]
    return {
        "precision_used": scorer.precision_used,
        "mean_tokens": float(np.mean(tokens)),
        "routes": results,
        "peak_rss_bytes": peak_rss_bytes(),
    }


def _left_padded(rows: list[list[int]], pad: int) -> tuple[Any, Any]:
    """``input_ids`` and ``attention_mask`` with padding on the left, as the model cards' tokenizers pad."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r) :] = torch.tensor(r)
        mask[i, width - len(r) :] = 1
    return ids, mask


def main(argv: list[str]) -> None:
    """``python -m crossrank_harness.bench.llm JOB.json RESULT.json``: run one precision's routes."""
    job_path, result_path = (Path(arg) for arg in argv)
    data = json.loads(job_path.read_text(encoding="utf-8"))
    data.update(
        routes=tuple(data["routes"]),
        counts=tuple(data["counts"]),
        warmup=Request(**data["warmup"]),
        request=Request(**data["request"]),
    )
    result_path.write_text(json.dumps(measure(LlmJob(**data))), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
