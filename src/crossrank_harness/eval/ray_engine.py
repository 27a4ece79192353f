"""``crossrank eval --engine ray``: every query's candidates reranked in one Ray Data job."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from crossrank_harness.data import BeirDataset
from rerank_core import MissingDependencyError

from .candidates import Candidates, reranked_first


@contextmanager
def ray_session(progress: bool, address: str | None = None) -> Iterator[Any]:
    """Ray, connected to the cluster at ``address`` (``None``: ``$RAY_ADDRESS``) or started locally.

    A Ray started here stops at the end; one already running in this process is used as it is. Ray
    Data's progress bars follow ``progress``; its informational log lines are kept off the terminal.
    """
    try:
        import ray
    except ImportError as exc:
        raise MissingDependencyError("ray", "ray", "--engine ray runs on Ray Data.") from exc

    started = not ray.is_initialized()
    if started:
        ray.init(address=address, configure_logging=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = progress
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def rerank_on_ray(
    ray: Any,
    dataset: BeirDataset,
    candidates: Candidates,
    window: int,
    *,
    model: str,
    actors: int,
    num_gpus: float,
    scorer_options: dict[str, Any],
) -> tuple[Candidates, float, int]:
    """Rerank the first ``window`` candidates of every query on ``actors`` Ray actors (``num_gpus`` each).

    Returns the rankings (reranked candidates first, the rest in first-stage order), the seconds the
    Ray job took from the rows to the rankings, and the number of (query, document) pairs it scored.
    """
    from rerank_core.serving.batch import rank_scored, score_dataset

    rows = [
        {"query_id": query_id, "query": dataset.queries[query_id], "doc_id": doc_id, "text": dataset.doc_text(doc_id)}
        for query_id, doc_ids in candidates.items()
        for doc_id in doc_ids[:window]
    ]
    started = time.perf_counter()
    scored = score_dataset(ray.data.from_items(rows), model, actors=actors, num_gpus=num_gpus, **scorer_options)
    ranked = rank_scored(scored, partitions=max(2, actors)).to_pandas()
    seconds = time.perf_counter() - started
    by_query = {
        query_id: group.sort_values("rank")["doc_id"].tolist() for query_id, group in ranked.groupby("query_id")
    }
    rankings = {query: reranked_first(by_query.get(query, []), doc_ids) for query, doc_ids in candidates.items()}
    return rankings, seconds, len(rows)
