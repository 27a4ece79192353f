"""A bad DATA_DIR stops ``crossrank eval`` before any model loads, with an error naming the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crossrank_cli.main import app

CORPUS = [
    {"_id": "d1", "title": "Aspirin", "text": "Aspirin lowers the risk of colorectal cancer."},
    {"_id": "d2", "title": "", "text": "Zebrafish regenerate heart tissue."},
]
QUERIES = [
    {"_id": "q1", "text": "Does aspirin prevent cancer?"},
    {"_id": "q2", "text": "Can fish hearts regrow?"},
]
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n"


def _folder(root: Path, *, corpus: str | None = None, queries: str | None = None, qrels: str | None = None) -> Path:
    """A valid BEIR folder, with the given file contents swapped in (``""`` removes the file)."""
    files = {
        "corpus.jsonl": "".join(json.dumps(row) + "\n" for row in CORPUS) if corpus is None else corpus,
        "queries.jsonl": "".join(json.dumps(row) + "\n" for row in QUERIES) if queries is None else queries,
        "qrels/test.tsv": QRELS if qrels is None else qrels,
    }
    for name, content in files.items():
        if content:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(content, encoding="utf-8")
    return root


def _run(folder: Path, *extra: str):
    # The model does not exist: a run that got past the data would fail on it instead.
    args = ["eval", str(folder), "--model", "/nonexistent/model", "--no-progress", *extra]
    return CliRunner().invoke(app, args)


CASES = {
    "missing corpus": ({"corpus": ""}, "corpus.jsonl is missing"),
    "missing queries": ({"queries": ""}, "queries.jsonl is missing"),
    "corpus line not JSON": (
        {"corpus": json.dumps(CORPUS[0]) + "\n" + '{"_id": "d2", "text": "unterminated\n'},
        "corpus.jsonl, line 2: not valid JSON",
    ),
    "corpus line without text": (
        {"corpus": json.dumps(CORPUS[0]) + "\n\n" + json.dumps({"_id": "d2", "title": "t"}) + "\n"},
        "corpus.jsonl, line 3: each line needs the fields _id, text",
    ),
    "corpus text not a string": (
        {"corpus": json.dumps({"_id": "d1", "text": None}) + "\n"},
        "corpus.jsonl, line 1: 'text' must be a string",
    ),
    "repeated corpus id": (
        {"corpus": "".join(json.dumps(row) + "\n" for row in [*CORPUS, CORPUS[0]])},
        "corpus.jsonl, line 3: id 'd1' repeats the id of line 1",
    ),
    "query without _id": (
        {"queries": json.dumps(QUERIES[0]) + "\n" + json.dumps({"text": "no id"}) + "\n"},
        "queries.jsonl, line 2: each line needs the fields _id, text",
    ),
    "blank query": (
        {"queries": json.dumps(QUERIES[0]) + "\n" + json.dumps({"_id": "q2", "text": "  "}) + "\n"},
        "queries.jsonl, line 2: query 'q2' has no text",
    ),
    "judged query not in queries.jsonl": (
        {"qrels": QRELS + "q9\td1\t1\n"},
        "test.tsv, line 4: query 'q9' is judged here but is not in",
    ),
    "qrels line with two columns": ({"qrels": "q1\td1\t1\nq2 d2\t1\n"}, "test.tsv, line 2: expected"),
    "qrels score not an integer": ({"qrels": QRELS + "q1\td2\thigh\n"}, "test.tsv, line 4: score 'high'"),
    "empty qrels": ({"qrels": "query-id\tcorpus-id\tscore\n"}, "test.tsv holds no judgements"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_files_name_the_file_and_line(case, tmp_path):
    swaps, message = CASES[case]
    result = _run(_folder(tmp_path, **swaps))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_split_names_its_qrels_file(tmp_path):
    result = _run(_folder(tmp_path), "--split", "dev")
    assert result.exit_code == 2
    assert str(tmp_path / "qrels" / "dev.tsv") in result.stderr


def test_a_path_that_is_not_a_folder_is_named(tmp_path):
    result = _run(tmp_path / "nowhere")
    assert result.exit_code == 2
    assert f"{tmp_path / 'nowhere'} is not a folder" in result.stderr


def test_a_missing_model_is_named_before_any_first_stage_runs(tmp_path):
    result = _run(_folder(tmp_path))
    assert result.exit_code == 2
    assert "Cannot find the cross-encoder '/nonexistent/model'" in result.stderr
    assert "Traceback" not in result.output
