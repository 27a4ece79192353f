"""Load a BEIR-format folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from rerank_core.errors import RerankError


class BeirFormatError(RerankError, ValueError):
    """A BEIR file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class BeirDataset:
    """A BEIR corpus with the queries of one split that have relevance judgements."""

    corpus: dict[str, dict[str, str]]
    """doc id -> {"title": ..., "text": ...}"""
    queries: dict[str, str]
    """query id -> text, only queries judged in ``qrels``, in qrels order."""
    qrels: dict[str, dict[str, int]]
    """query id -> {doc id: relevance}"""

    def doc_text(self, doc_id: str) -> str:
        """Title and text joined by a space, the way BEIR baselines index a document."""
        doc = self.corpus[doc_id]
        return f"{doc['title']} {doc['text']}".strip()

    def first_queries(self, n: int) -> BeirDataset:
        """The same corpus with only the first ``n`` judged queries."""
        ids = list(self.queries)[:n]
        return BeirDataset(self.corpus, {q: self.queries[q] for q in ids}, {q: self.qrels[q] for q in ids})

    def sub_corpus(self, others: int, seed: int = 0) -> BeirDataset:
        """Keep the documents relevant to these queries plus ``others`` random ones (fixed seed)."""
        relevant = {d for judged in self.qrels.values() for d in judged if d in self.corpus}
        pool = sorted(set(self.corpus) - relevant)
        extra = set(random.Random(seed).sample(pool, min(others, len(pool))))
        keep = [d for d in self.corpus if d in relevant or d in extra]
        return BeirDataset({d: self.corpus[d] for d in keep}, self.queries, self.qrels)


def _read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict]:
    if not path.is_file():
        raise BeirFormatError(f"{path} is missing: a BEIR folder needs corpus.jsonl, queries.jsonl and qrels/.")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BeirFormatError(f"{path}, line {number}: not valid JSON ({exc.msg}).") from exc
            if not isinstance(row, dict) or any(key not in row for key in required):
                raise BeirFormatError(f"{path}, line {number}: each line needs the fields {', '.join(required)}.")
            rows.append(row)
    return rows


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise BeirFormatError(f"{path} is missing: pass a split that has a qrels file.")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").split("\t")
            if number == 1 and parts[0] in ("query-id", "query_id", "qid"):
                continue
            if not line.strip():
                continue
            if len(parts) != 3:
                raise BeirFormatError(f"{path}, line {number}: expected 'query-id<TAB>corpus-id<TAB>score'.")
            try:
                score = int(parts[2])
            except ValueError as exc:
                raise BeirFormatError(f"{path}, line {number}: score {parts[2]!r} is not an integer.") from exc
            qrels.setdefault(parts[0], {})[parts[1]] = score
    if not qrels:
        raise BeirFormatError(f"{path} holds no judgements.")
    return qrels


def load_beir(data_dir: str | Path, split: str = "test") -> BeirDataset:
    """Load a BEIR folder; raise :class:`BeirFormatError` naming the file and line on bad input."""
    root = Path(data_dir)
    if not root.is_dir():
        raise BeirFormatError(f"{root} is not a folder: pass a BEIR folder (corpus.jsonl, queries.jsonl, qrels/).")
    corpus_rows = _read_jsonl(root / "corpus.jsonl", ("_id", "text"))
    corpus = {str(r["_id"]): {"title": str(r.get("title") or ""), "text": str(r["text"])} for r in corpus_rows}
    all_queries = {str(r["_id"]): str(r["text"]) for r in _read_jsonl(root / "queries.jsonl", ("_id", "text"))}
    qrels_path = root / "qrels" / f"{split}.tsv"
    qrels = _read_qrels(qrels_path)
    missing = [q for q in qrels if q not in all_queries]
    if missing:
        raise BeirFormatError(
            f"{qrels_path} judges {len(missing)} queries that are not in queries.jsonl (first: {missing[0]!r})."
        )
    return BeirDataset(corpus, {q: all_queries[q] for q in qrels}, qrels)
