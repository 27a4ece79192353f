"""``crossrank eval``'s work: first stages over a BEIR folder (or long documents built from it), reranking by the
chosen routes and scorings, ranx metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from crossrank_harness.data import (
    BeirDataset,
    Bm25Retriever,
    DenseRetriever,
    EmbeddingCache,
    build_long_corpus,
    evaluate_runs,
    load_beir,
)
from crossrank_harness.data.metrics import metrics_for_depth, ranking_to_run
from crossrank_harness.routes.base import RerankRoute
from crossrank_harness.routes.crossrank import via_route
from crossrank_harness.stats import latency_summary
from crossrank_harness.system_info import environment
from rerank_core import InvalidArgumentError, ScorerOptions, get_scorer
from rerank_core.backends.cpu import cpu_info
from rerank_core.options import CHUNK_OPTIONS, option_choices
from rerank_core.validation import validated

from .candidates import Candidates, reranked_first

FIRST_STAGES: tuple[str, ...] = ("bm25", "dense")
CORPORA: tuple[str, ...] = ("original", "long")
"""``original``: the folder's documents; ``long``: :func:`~crossrank_harness.data.build_long_corpus` of them."""
LONG_CORPUS_K = 50
"""The candidates per query the command line takes by default with ``corpus="long"``."""
AS_RUN, AS_REQUESTED = "as run", "as requested"
"""How the report's runtime was recorded: from the loaded scorer, or the options the Ray actors were given."""


@dataclass(frozen=True)
class EvalSettings:
    """What ``crossrank eval`` runs."""

    data_dir: Path
    split: str
    first_stages: tuple[str, ...]
    k: int
    model: str
    embed_model: str
    vias: tuple[str, ...]
    rank_window_sizes: tuple[int, ...]
    """Candidates reranked per query; the rest keep their first-stage order below them."""
    queries: int | None = None
    """Evaluate only the first N judged queries (``None``: all)."""
    batch_size: int = 32
    backend: str = "torch"
    precision: str = "auto"
    family: str | None = None
    instruction: str | None = None
    device: str | None = None
    engine: str = "local"
    """``local`` (this process, through each of ``vias``) or ``ray`` (one Ray Data job per window)."""
    actors: int = 1
    """Ray actors of ``engine="ray"``."""
    num_gpus: float = 0.0
    """GPUs each Ray actor reserves (with ``device="cuda"``)."""
    address: str | None = None
    """The Ray cluster of ``engine="ray"`` (``None``: ``$RAY_ADDRESS`` or a new local Ray)."""
    corpus: str = "original"
    """One of :data:`CORPORA`."""
    seed: int = 0
    """The seed of ``corpus="long"``'s documents."""
    long_documents: tuple[str, ...] = ()
    """The scorer's ``long_documents`` modes compared (``()``: its default; with ``corpus="long"``, every mode)."""
    chunkings: tuple[str, ...] = ()
    """The ``chunking`` strategies of ``max_chunk`` compared (``()``: the scorer's default; with ``corpus="long"``,
    every strategy)."""
    chunk_sizes: tuple[int, ...] = ()
    """The ``chunk_size`` values of ``max_chunk`` compared (``()``: the scorer's default, the room the query leaves)."""
    chunk_options: dict[str, int] = field(default_factory=dict)
    """``chunk_overlap``, ``sentence_overlap`` and ``max_chunks_per_doc`` where given, for each ``max_chunk``
    scoring they apply to."""
    progress: bool = True

    @property
    def scorer_options(self) -> dict[str, Any]:
        """The cross-encoder options every route uses."""
        return {
            "backend": self.backend,
            "precision": self.precision,
            "device": self.device,
            "batch_size": self.batch_size,
            "family": self.family,
            "instruction": self.instruction,
        }

    def scorings(self) -> list[dict[str, Any]]:
        """The scorer options of each scoring compared, beside :attr:`scorer_options`: a ``long_documents`` mode,
        and for ``max_chunk`` each chunking and chunk size with the chunk options that apply to it.

        Raises :class:`~rerank_core.InvalidArgumentError` for a chunk option that no scoring takes.
        """
        every = self.corpus == "long"
        modes = self.long_documents or (option_choices("long_documents") if every else (_default("long_documents"),))
        chunkings = self.chunkings or (option_choices("chunking") if every else (_default("chunking"),))
        scorings: list[dict[str, Any]] = []
        for mode in modes:
            if mode != "max_chunk":
                scorings.append({"long_documents": mode})
                continue
            for chunking in chunkings:
                for size in self.chunk_sizes or (None,):
                    scoring: dict[str, Any] = {"long_documents": mode, "chunking": chunking}
                    scoring.update({} if size is None else {"chunk_size": size})
                    # chunk_overlap cuts window and word chunks, sentence_overlap sentence ones.
                    scoring.update(
                        (name, value)
                        for name, value in self.chunk_options.items()
                        if name == "max_chunks_per_doc" or (name == "sentence_overlap") == (chunking == "sentence")
                    )
                    scorings.append(scoring)
        given = set(self.chunk_options)
        given.update(
            name for name, values in (("chunking", self.chunkings), ("chunk_size", self.chunk_sizes)) if values
        )
        unused = sorted(given - {name for scoring in scorings for name in scoring})
        if unused:
            raise InvalidArgumentError(
                f"{', '.join(unused)} set(s) no scoring compared here: chunk options apply to long_documents "
                "'max_chunk', chunk_overlap to the chunkings 'window' and 'word', sentence_overlap to 'sentence'."
            )
        return scorings


def _default(option: str) -> Any:
    return ScorerOptions.model_fields[option].default


def scoring_record(settings: EvalSettings, scoring: dict[str, Any]) -> dict[str, Any]:
    """The options a scoring runs with (its ``long_documents`` mode; for ``max_chunk`` every chunk option, the
    defaults filled in), checked by :class:`~rerank_core.ScorerOptions` (JSON-ready)."""
    options = validated(ScorerOptions, {**settings.scorer_options, **scoring})
    names = ("long_documents", *CHUNK_OPTIONS) if options.long_documents == "max_chunk" else ("long_documents",)
    return {name: getattr(options, name) for name in names}


def load_dataset(settings: EvalSettings) -> tuple[BeirDataset, dict[str, Any]]:
    """The BEIR folder's split (or, with ``corpus="long"``, the long corpus built from all of it), cut to its
    first ``queries`` if set; and how the corpus was made (JSON-ready)."""
    dataset = load_beir(settings.data_dir, settings.split)
    made: dict[str, Any] = {"corpus": settings.corpus}
    if settings.corpus == "long":
        long_corpus = build_long_corpus(dataset, settings.seed)
        dataset = long_corpus.dataset
        made["long_documents"] = long_corpus.summary()
    elif settings.corpus != "original":
        raise ValueError(f"Unknown corpus {settings.corpus!r}; choose one of {', '.join(CORPORA)}.")
    return (dataset if settings.queries is None else dataset.first_queries(settings.queries)), made


def first_stage(kind: str, dataset: BeirDataset, settings: EvalSettings) -> tuple[Candidates, dict[str, Any]]:
    """Run one first stage for every query: the candidates and a description (timings, cache use)."""
    doc_ids = list(dataset.corpus)
    texts = [dataset.doc_text(d) for d in doc_ids]
    started = time.perf_counter()
    info: dict[str, Any] = {}
    retriever: Bm25Retriever | DenseRetriever
    if kind == "bm25":
        retriever = Bm25Retriever(doc_ids, texts)
    elif kind == "dense":
        cache = EmbeddingCache()
        retriever = DenseRetriever(settings.embed_model, doc_ids, texts, cache=cache, show_progress=settings.progress)
        info["embedding_cache"] = "hit" if retriever.cache_hit else "miss"
        info["embedding_cache_dir"] = str(cache.root)
        info["embed_model"] = settings.embed_model
    else:
        raise ValueError(f"Unknown first stage {kind!r}; choose one of {', '.join(FIRST_STAGES)}.")
    built = time.perf_counter()
    query_ids = list(dataset.queries)
    hits = retriever.search([dataset.queries[q] for q in query_ids], settings.k)
    searched = time.perf_counter()
    info["index_seconds"] = built - started
    info["search_ms_per_query"] = 1000 * (searched - built) / max(len(query_ids), 1)
    return {q: [doc for doc, _ in row] for q, row in zip(query_ids, hits, strict=True)}, info


def rerank_candidates(
    route: RerankRoute,
    dataset: BeirDataset,
    candidates: Candidates,
    window: int,
    *,
    description: str,
    progress: bool,
) -> tuple[dict[str, list[str]], list[float]]:
    """Rerank the first ``window`` candidates of each query; the rankings and the time per query (ms).

    Candidates beyond the window, and any the route did not return, follow in first-stage order.
    """
    rankings: dict[str, list[str]] = {}
    times: list[float] = []
    for query_id in tqdm(candidates, desc=description, unit="query", disable=not progress):
        query, doc_ids = dataset.queries[query_id], candidates[query_id]
        head = doc_ids[:window]
        prepared = route.prepare(query, head, [dataset.doc_text(d) for d in head])
        started = time.perf_counter()
        reranked = route.rerank(query, prepared)
        times.append(1000 * (time.perf_counter() - started))
        rankings[query_id] = reranked_first(reranked, doc_ids)
    return rankings, times


def warm_up(route: RerankRoute, dataset: BeirDataset, candidates: Candidates) -> None:
    """One untimed call on the first query's top candidates, so loading the model is not timed."""
    for query_id, doc_ids in candidates.items():
        if doc_ids:
            head = doc_ids[:8]
            query = dataset.queries[query_id]
            route.rerank(query, route.prepare(query, head, [dataset.doc_text(d) for d in head]))
            return


def reranker_runtime(settings: EvalSettings, scoring: dict[str, Any]) -> dict[str, Any]:
    """What reranks: engine, backend, precision and device, and this machine's CPU (JSON-ready).

    In this process the cross-encoder is loaded here, with ``scoring`` (the first compared), before any first
    stage (so a wrong --model fails in seconds; every local route, the adapters included, shares this process-wide
    instance), and the precision and device it resolved are recorded (:data:`AS_RUN`). On Ray the actors load it and
    resolve ``auto`` and the device themselves, so the requested values are recorded (:data:`AS_REQUESTED`).
    """
    if settings.engine == "local":
        scorer = get_scorer(settings.model, **settings.scorer_options, **scoring).load()
        resolved = {
            "precision": scorer.precision_used,
            "device": scorer.device_used,
            "family": scorer.family_used,
            "recorded": AS_RUN,
        }
    else:
        resolved = {
            "precision": settings.precision,
            "device": settings.device or "auto",
            "family": settings.family or "auto",
            "recorded": AS_REQUESTED,
        }
    return {"engine": settings.engine, "backend": settings.backend, **resolved, "cpu": cpu_info().to_json()}


def run_eval(settings: EvalSettings) -> dict[str, Any]:
    """Evaluate every (first stage, route, scoring, window) combination; the report as a JSON-ready dict.

    The metrics are :func:`crossrank_harness.data.metrics.metrics_for_depth` of ``k``: none at a cutoff beyond
    the candidates.
    """
    scorings = [(scoring, scoring_record(settings, scoring)) for scoring in settings.scorings()]
    dataset, made = load_dataset(settings)
    runtime = reranker_runtime(settings, scorings[0][0])
    metrics = metrics_for_depth(settings.k)
    windows = sorted(set(settings.rank_window_sizes)) or [settings.k]
    first_stages: dict[str, Any] = {}
    reranked: list[dict[str, Any]] = []
    for kind in settings.first_stages:
        candidates, info = first_stage(kind, dataset, settings)
        base = evaluate_runs(dataset.qrels, {q: ranking_to_run(docs) for q, docs in candidates.items()}, metrics)
        first_stages[kind] = {"metrics": base, **info}
        rows = _ray_rows if settings.engine == "ray" else _local_rows
        for row, rankings in rows(settings, dataset, candidates, windows, kind, scorings):
            after = evaluate_runs(dataset.qrels, {q: ranking_to_run(docs) for q, docs in rankings.items()}, metrics)
            row.update(metrics=after, lift={name: after[name] - base[name] for name in after})
            reranked.append(row)
    return {
        "command": "eval",
        "settings": _settings_json(settings, windows),
        "runtime": runtime,
        "dataset": {
            "queries": len(dataset.queries),
            "documents": len(dataset.corpus),
            "judgements": sum(len(judged) for judged in dataset.qrels.values()),
            **made,
        },
        "first_stages": first_stages,
        "reranked": reranked,
        "environment": environment(),
    }


Rows = Iterator[tuple[dict[str, Any], dict[str, list[str]]]]
"""(report row without its metrics, rankings) for each reranking run."""
Scorings = Sequence[tuple[dict[str, Any], dict[str, Any]]]
"""Each scoring's options (:meth:`EvalSettings.scorings`) and its record (:func:`scoring_record`)."""


def _local_rows(
    settings: EvalSettings,
    dataset: BeirDataset,
    candidates: Candidates,
    windows: Sequence[int],
    kind: str,
    scorings: Scorings,
) -> Rows:
    """Rerank in this process through each ``--via`` route with each scoring, timing every query."""
    for via in settings.vias:
        for scoring, record in scorings:
            route = via_route(via, settings.model, **settings.scorer_options, **scoring)
            warm_up(route, dataset, candidates)
            for window in windows:
                scored = f"{scoring_label(record)} (chunk size {chunk_size_label(record)})"
                description = f"Reranking {kind} via {via}, {scored}, window {window}"
                rankings, times = rerank_candidates(
                    route, dataset, candidates, window, description=description, progress=settings.progress
                )
                row = {
                    "first_stage": kind,
                    "via": via,
                    "scoring": record,
                    "rank_window_size": window,
                    "ms_per_query": latency_summary(times),
                }
                yield row, rankings


def _ray_rows(
    settings: EvalSettings,
    dataset: BeirDataset,
    candidates: Candidates,
    windows: Sequence[int],
    kind: str,
    scorings: Scorings,
) -> Rows:
    """Rerank every query at once on a Ray Data actor pool; the job's throughput replaces per-query times."""
    from .ray_engine import ray_session, rerank_on_ray

    with ray_session(settings.progress, settings.address) as ray:
        for (scoring, record), window in ((s, w) for s in scorings for w in windows):
            rankings, seconds, pairs = rerank_on_ray(
                ray,
                dataset,
                candidates,
                window,
                model=settings.model,
                actors=settings.actors,
                num_gpus=settings.num_gpus,
                scorer_options={**settings.scorer_options, **scoring},
            )
            row = {
                "first_stage": kind,
                "via": f"ray ({settings.actors} actors)",
                "scoring": record,
                "rank_window_size": window,
                "ms_per_query": latency_summary([]),
                "ray": {"actors": settings.actors, "seconds": seconds, "pairs_per_second": pairs / seconds},
            }
            yield row, rankings


def scoring_label(record: dict[str, Any]) -> str:
    """A scoring's mode: ``truncate``, or ``max_chunk`` and its chunking (``max_chunk window``)."""
    mode = str(record["long_documents"])
    return f"{mode} {record['chunking']}" if mode == "max_chunk" else mode


def chunk_size_label(record: dict[str, Any]) -> str:
    """A scoring's chunk size: ``-`` without chunks, ``room`` for the room the query leaves, else the tokens."""
    if record["long_documents"] != "max_chunk":
        return "-"
    return "room" if record["chunk_size"] is None else str(record["chunk_size"])


def _settings_json(settings: EvalSettings, windows: Sequence[int]) -> dict[str, Any]:
    values = asdict(settings)
    values.update(
        data_dir=str(settings.data_dir),
        first_stages=list(settings.first_stages),
        vias=list(settings.vias),
        rank_window_sizes=list(windows),
        long_documents=list(settings.long_documents),
        chunkings=list(settings.chunkings),
        chunk_sizes=list(settings.chunk_sizes),
    )
    del values["progress"]
    return values
