"""Batch reranking on Ray Data: score a dataset of (query, text) rows on a pool of actors, then rank per query.

Every actor loads the model once, through the :class:`CrossEncoderScorer` the rest of the library uses
(any backend and option), and scores each batch of rows with :meth:`CrossEncoderScorer.score_groups`, so
rows of several queries share model batches. Runs the same on a laptop (``ray.init()``) and on a cluster
(``ray.init(address="auto")``, ``num_gpus=1`` with ``device="cuda"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rerank_core.errors import InvalidArgumentError, InvalidQueryError, InvalidTextError, MissingDependencyError
from rerank_core.ranking import RankSpec, rank_spec
from rerank_core.scorer import DEFAULT_MODEL, CrossEncoderScorer
from rerank_core.validation import check_positive_int

if TYPE_CHECKING:
    import pandas as pd
    from ray.data import Dataset

ROW_COLUMNS: tuple[str, ...] = ("query_id", "query", "doc_id", "text")
"""The columns :func:`score_dataset` reads; any others are carried through."""


def score_dataset(
    dataset: Dataset,
    model: str = DEFAULT_MODEL,
    *,
    actors: int = 1,
    rows_per_batch: int = 256,
    num_cpus: float = 1.0,
    num_gpus: float = 0.0,
    **scorer_options: Any,
) -> Dataset:
    """Return ``dataset`` with a float32 ``score`` column, scored on a fixed pool of ``actors``.

    Args:
        dataset: Rows with ``query_id``, ``query``, ``doc_id`` and ``text`` (other columns are kept).
        model: A Hugging Face model id or a folder every worker can read.
        actors: Actors in the pool, each with its own copy of the model.
        rows_per_batch: Rows handed to an actor at a time (its scorer batches them by ``batch_size``).
        num_cpus: CPUs per actor; PyTorch in the actor uses that many threads.
        num_gpus: GPUs per actor (with ``device="cuda"`` in ``scorer_options``).
        **scorer_options: :class:`CrossEncoderScorer` options (``backend``, ``precision``, ``batch_size``, ...).

    The result is lazy, like every Ray Data transform: it runs when consumed. A row whose query or text
    is not a usable string fails the run: the actor raises :class:`InvalidQueryError` /
    :class:`InvalidTextError` naming the row's ``query_id`` and ``doc_id``, which reaches the caller as
    Ray Data reports every failure of a transform, a ``ray.exceptions.UserCodeException`` carrying that
    message. Missing columns and bad options raise here, before anything runs.
    """
    ray_data = _ray_data()
    check_positive_int("actors", actors)
    check_positive_int("rows_per_batch", rows_per_batch)
    CrossEncoderScorer(model, **scorer_options)  # a bad option fails here, not in an actor
    missing = [name for name in ROW_COLUMNS if name not in (dataset.columns() or [])]
    if missing:
        raise InvalidArgumentError(
            f"The dataset lacks the column(s) {', '.join(missing)}; score_dataset needs {', '.join(ROW_COLUMNS)}."
        )
    return dataset.map_batches(
        _ScoreRows,
        fn_constructor_kwargs={"model": model, "options": scorer_options},
        batch_size=rows_per_batch,
        batch_format="pandas",
        compute=ray_data.ActorPoolStrategy(size=actors),
        num_cpus=num_cpus,
        num_gpus=num_gpus,
    )


def rank_scored(
    dataset: Dataset, *, top_n: int | None = None, min_score: float | None = None, partitions: int | None = None
) -> Dataset:
    """Per-query rankings of :func:`score_dataset`'s rows: each row gains its 1-based ``rank``.

    Within a query, rows are ordered by score, best first (ties by ``doc_id``); rows below ``min_score``
    are dropped, then all but the first ``top_n``, as in :func:`rerank_core.select`. ``partitions`` sets
    the shuffle's partitions (Ray's default suits large datasets; a few suit small ones).
    """
    _ray_data()
    spec = rank_spec(top_n=top_n, min_score=min_score)
    if "score" not in (dataset.columns() or []):
        raise InvalidArgumentError("The dataset has no score column; pass it through score_dataset first.")
    if partitions is not None:
        check_positive_int("partitions", partitions)
    return dataset.groupby("query_id", num_partitions=partitions).map_groups(
        # Ray types a UDF as taking any batch format and no keywords; batch_format="pandas" passes a DataFrame.
        _rank_group,  # type: ignore[arg-type]
        fn_kwargs={"spec": spec},
        batch_format="pandas",
    )


def _rank_group(group: pd.DataFrame, *, spec: RankSpec) -> pd.DataFrame:
    rows = group.sort_values("doc_id", kind="stable").reset_index(drop=True)
    ranked = spec.select(rows["score"].to_numpy())
    kept = rows.iloc[[hit.index for hit in ranked]].reset_index(drop=True)
    return kept.assign(rank=np.arange(1, len(kept) + 1, dtype=np.int64))


class _ScoreRows:
    """A Ray Data actor: one loaded scorer, scoring batches of rows query by query in shared model batches."""

    def __init__(self, model: str, options: dict[str, Any]) -> None:
        self.scorer = CrossEncoderScorer(model, **options).load()

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        queries, texts = batch["query"].tolist(), batch["text"].tolist()
        for i, (query, text) in enumerate(zip(queries, texts)):
            if not isinstance(query, str) or not query.strip():
                raise InvalidQueryError(f"Row {_row_name(batch, i)} has no query text (got {query!r}).")
            if not isinstance(text, str):
                kind = "no text (a missing value)" if _missing(text) else f"a {type(text).__name__} as text"
                raise InvalidTextError(f"Row {_row_name(batch, i)} has {kind}, not a string.")
        rows_of: dict[str, list[int]] = {}
        for i, query in enumerate(queries):
            rows_of.setdefault(query, []).append(i)
        groups = [(query, [texts[i] for i in rows]) for query, rows in rows_of.items()]
        scores = np.empty(len(batch), dtype=np.float32)
        for rows, group_scores in zip(rows_of.values(), self.scorer.score_groups(groups)):
            scores[rows] = group_scores
        return batch.assign(score=scores)


def _missing(value: Any) -> bool:
    """Whether a cell's ``value`` is how pandas marks a missing one (``None``, ``NaN``, ``pd.NA``)."""
    import pandas as pd

    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def _row_name(batch: pd.DataFrame, i: int) -> str:
    return f"query_id={batch['query_id'].iloc[i]!r}, doc_id={batch['doc_id'].iloc[i]!r}"


def _ray_data() -> Any:
    try:
        import ray.data
    except ImportError as exc:
        raise MissingDependencyError("ray[data]", "ray", "Batch reranking runs on Ray Data.") from exc
    return ray.data
