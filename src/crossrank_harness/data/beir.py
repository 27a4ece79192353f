"""Load a BEIR-format folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv.

Every error is a :class:`BeirFormatError` whose message names the file and, where there is one,
the line.
"""

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
        return join_title_text(self.corpus[doc_id])

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


def join_title_text(doc: dict[str, str]) -> str:
    """``title + " " + text``, stripped (documents without a title give their text)."""
    return f"{doc['title']} {doc['text']}".strip()


def _read_jsonl(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """The rows of a JSON-lines file with their line numbers; each needs string ``required`` fields."""
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
            if not isinstance(row["text"], str):
                raise BeirFormatError(f"{path}, line {number}: 'text' must be a string, got {row['text']!r}.")
            rows.append((number, row))
    if not rows:
        raise BeirFormatError(f"{path} is empty.")
    return rows


def _unique_ids(path: Path, rows: list[tuple[int, dict]]) -> None:
    seen: dict[str, int] = {}
    for number, row in rows:
        key = str(row["_id"])
        if key in seen:
            raise BeirFormatError(f"{path}, line {number}: id {key!r} repeats the id of line {seen[key]}.")
        seen[key] = number


def load_corpus(data_dir: str | Path) -> dict[str, dict[str, str]]:
    """``corpus.jsonl`` of a BEIR folder: doc id -> {"title", "text"}, in file order."""
    path = _folder(data_dir) / "corpus.jsonl"
    rows = _read_jsonl(path, ("_id", "text"))
    _unique_ids(path, rows)
    return {str(r["_id"]): {"title": str(r.get("title") or ""), "text": r["text"]} for _, r in rows}


def load_queries(data_dir: str | Path) -> dict[str, str]:
    """``queries.jsonl`` of a BEIR folder: query id -> text, in file order (every split)."""
    path = _folder(data_dir) / "queries.jsonl"
    rows = _read_jsonl(path, ("_id", "text"))
    _unique_ids(path, rows)
    for number, row in rows:
        if not row["text"].strip():
            raise BeirFormatError(f"{path}, line {number}: query {row['_id']!r} has no text.")
    return {str(r["_id"]): r["text"] for _, r in rows}


def _read_qrels(path: Path) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Judgements per query and the line where each query is first judged."""
    if not path.is_file():
        raise BeirFormatError(f"{path} is missing: pass a split that has a qrels file.")
    qrels: dict[str, dict[str, int]] = {}
    first_line: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.rstrip("\r\n").split("\t")
            if number == 1 and parts[0] in ("query-id", "query_id", "qid"):
                continue
            if not line.strip():
                continue
            if len(parts) != 3 or not parts[0] or not parts[1]:
                raise BeirFormatError(f"{path}, line {number}: expected 'query-id<TAB>corpus-id<TAB>score'.")
            try:
                score = int(parts[2])
            except ValueError as exc:
                raise BeirFormatError(f"{path}, line {number}: score {parts[2]!r} is not an integer.") from exc
            qrels.setdefault(parts[0], {})[parts[1]] = score
            first_line.setdefault(parts[0], number)
    if not qrels:
        raise BeirFormatError(f"{path} holds no judgements.")
    return qrels, first_line


def load_beir(data_dir: str | Path, split: str = "test") -> BeirDataset:
    """Load a BEIR folder; raise :class:`BeirFormatError` naming the file and line on bad input.

    Queries judged in ``qrels/<split>.tsv`` must all be in ``queries.jsonl``; queries of other
    splits are ignored.
    """
    root = _folder(data_dir)
    corpus = load_corpus(root)
    all_queries = load_queries(root)
    qrels_path = root / "qrels" / f"{split}.tsv"
    qrels, first_line = _read_qrels(qrels_path)
    for query_id in qrels:
        if query_id not in all_queries:
            raise BeirFormatError(
                f"{qrels_path}, line {first_line[query_id]}: query {query_id!r} is judged here but is not in "
                f"{root / 'queries.jsonl'}."
            )
    return BeirDataset(corpus, {q: all_queries[q] for q in qrels}, qrels)


def _folder(data_dir: str | Path) -> Path:
    root = Path(data_dir)
    if not root.is_dir():
        raise BeirFormatError(f"{root} is not a folder: pass a BEIR folder (corpus.jsonl, queries.jsonl, qrels/).")
    return root
