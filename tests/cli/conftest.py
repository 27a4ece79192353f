"""Fixtures for the command-line tests: a small SciFact slice in BEIR layout and a private embedding cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def write_beir(folder: Path, dataset, split: str = "test") -> Path:
    """Write ``dataset`` (a ``crossrank_harness.data.BeirDataset``) as a BEIR folder."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for doc_id, doc in dataset.corpus.items():
            handle.write(json.dumps({"_id": doc_id, "title": doc["title"], "text": doc["text"]}) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as handle:
        for query_id, text in dataset.queries.items():
            handle.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    with (folder / "qrels" / f"{split}.tsv").open("w", encoding="utf-8") as handle:
        handle.write("query-id\tcorpus-id\tscore\n")
        for query_id, judged in dataset.qrels.items():
            for doc_id, score in judged.items():
                handle.write(f"{query_id}\t{doc_id}\t{score}\n")
    return folder


@pytest.fixture(scope="session")
def scifact_slice(scifact):
    """The first 20 judged SciFact test queries over their relevant abstracts plus 200 others (seed 0)."""
    return scifact.first_queries(20).sub_corpus(200, seed=0)


@pytest.fixture(scope="session")
def scifact_slice_dir(scifact_slice, tmp_path_factory) -> Path:
    """:func:`scifact_slice` written as a BEIR folder."""
    return write_beir(tmp_path_factory.mktemp("scifact-slice"), scifact_slice)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """An embedding cache folder of the test session's own (never the user's cache)."""
    return tmp_path_factory.mktemp("crossrank-cache")


@pytest.fixture(scope="session")
def cli_env(cache_dir) -> dict[str, str]:
    """Environment for command runs: the private cache folder."""
    return {"CROSSRANK_CACHE_DIR": str(cache_dir)}
