"""``crossrank bench``'s inputs: real queries with their BM25 top passages (realistic passage lengths)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from crossrank_harness.data import BeirFormatError, Bm25Retriever, join_title_text, load_corpus, load_queries


@dataclass(frozen=True)
class Request:
    """One reranking call: a query and its passages (ids are the passages' positions, as strings)."""

    query: str
    ids: list[str]
    texts: list[str]


@dataclass(frozen=True)
class Workload:
    """Untimed warm-up calls, one call repeated for latency, and many distinct calls for throughput."""

    warmup: list[Request]
    latency: Request
    repeats: int
    throughput: list[Request]

    def to_json(self) -> dict:
        """A JSON-ready dict (the workers read it back with :meth:`from_json`)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Workload:
        """Rebuild a workload written by :meth:`to_json`."""
        return cls(
            warmup=[Request(**r) for r in data["warmup"]],
            latency=Request(**data["latency"]),
            repeats=data["repeats"],
            throughput=[Request(**r) for r in data["throughput"]],
        )


def build_workload(data_dir: Path, *, queries: int, passages: int, repeats: int, warmup: int) -> Workload:
    """Take queries in ``queries.jsonl`` order: ``warmup`` for warm-up, the next for the latency call
    (repeated ``repeats`` times), the next ``queries`` for throughput; each with its BM25 top ``passages``
    documents (title + " " + text) over the whole corpus.
    """
    corpus = load_corpus(data_dir)
    all_queries = list(load_queries(data_dir).values())
    needed = warmup + 1 + queries
    if len(all_queries) < needed:
        raise BeirFormatError(
            f"{Path(data_dir) / 'queries.jsonl'} holds {len(all_queries)} queries; the benchmark needs {needed}."
        )
    if len(corpus) < passages:
        raise BeirFormatError(
            f"{Path(data_dir) / 'corpus.jsonl'} holds {len(corpus)} documents; the benchmark needs {passages}."
        )
    doc_ids = list(corpus)
    texts = {d: join_title_text(corpus[d]) for d in doc_ids}
    chosen = all_queries[:needed]
    hits = Bm25Retriever(doc_ids, [texts[d] for d in doc_ids]).search(chosen, passages)
    requests = [
        Request(query=query, ids=[str(i) for i in range(len(row))], texts=[texts[d] for d, _ in row])
        for query, row in zip(chosen, hits, strict=True)
    ]
    return Workload(
        warmup=requests[:warmup], latency=requests[warmup], repeats=repeats, throughput=requests[warmup + 1 :]
    )
