"""``crossrank eval --corpus long``: BM25 over SciFact's long documents, reranked by the real cross-encoder with
each scoring (truncate, max_chunk by window, sentence and word), on 2 queries with 4 candidates each.

Structure only (rows per scoring, metric ranges, the options recorded): 2 queries say nothing about quality.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crossrank_cli.main import app
from crossrank_cli.options import ChunkingChoice, LongDocumentsChoice
from crossrank_harness.data import build_long_corpus
from crossrank_harness.data.metrics import metrics_for_depth
from rerank_core import ScorerOptions
from rerank_core.options import CHUNK_OPTIONS, option_choices

SMALL = "--corpus long --queries 2 --k 4 --max-chunks-per-doc 8 --device cpu --no-progress"
"""2 queries, 4 candidates, at most 8 chunks per document: a few hundred pairs per run."""


def _eval(scifact_dir, model, out, *extra: str):
    args = ["eval", scifact_dir, *SMALL.split(), "--model", model, "--out", str(out), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout, json.loads(out.read_text())


@pytest.fixture(scope="module")
def every_scoring(scifact_dir, ce_model_path, tmp_path_factory):
    """The run with the default scorings of ``--corpus long``: its table and report."""
    return _eval(scifact_dir, ce_model_path, tmp_path_factory.mktemp("long") / "report.json")


def test_each_scoring_reranks_the_bm25_candidates_once(every_scoring):
    _, report = every_scoring
    modes = [(row["scoring"]["long_documents"], row["scoring"].get("chunking")) for row in report["reranked"]]
    assert modes == [("truncate", None), *(("max_chunk", chunking) for chunking in option_choices("chunking"))]
    assert {(row["first_stage"], row["via"], row["rank_window_size"]) for row in report["reranked"]} == {
        ("bm25", "core", 4)
    }
    assert list(report["first_stages"]) == ["bm25"]


def test_the_metrics_are_in_range_and_reranking_only_reorders_the_candidates(every_scoring):
    _, report = every_scoring
    alone = report["first_stages"]["bm25"]["metrics"]
    assert set(alone) == set(metrics_for_depth(4))
    for row in [{"metrics": alone}, *report["reranked"]]:
        assert all(0.0 <= value <= 1.0 for value in row["metrics"].values())
    for row in report["reranked"]:
        assert set(row["metrics"]) == set(alone)
        assert row["metrics"]["recall@4"] == pytest.approx(alone["recall@4"])
        assert row["lift"] == pytest.approx({name: row["metrics"][name] - alone[name] for name in alone})
        assert row["ms_per_query"]["p50"] > 0 and row["ms_per_query"]["p95"] >= row["ms_per_query"]["p50"]


def test_each_row_records_the_options_it_scored_with(every_scoring):
    _, report = every_scoring
    truncate, *chunked = [row["scoring"] for row in report["reranked"]]
    assert truncate == {"long_documents": "truncate"}
    defaults = {name: ScorerOptions.model_fields[name].default for name in CHUNK_OPTIONS}
    for scoring in chunked:
        assert set(scoring) == {"long_documents", *CHUNK_OPTIONS}
        assert scoring == {
            **defaults,
            "long_documents": "max_chunk",
            "chunking": scoring["chunking"],
            "max_chunks_per_doc": 8,
        }
    settings = report["settings"]
    assert (settings["corpus"], settings["seed"], settings["k"]) == ("long", 0, 4)
    assert settings["chunk_options"] == {"max_chunks_per_doc": 8}


def test_the_report_describes_the_long_corpus(every_scoring, scifact):
    stdout, report = every_scoring
    built = build_long_corpus(scifact, seed=0)
    dataset = report["dataset"]
    assert dataset["corpus"] == "long" and dataset["long_documents"] == json.loads(json.dumps(built.summary()))
    assert (dataset["queries"], dataset["documents"]) == (2, len(built.dataset.corpus))
    title, described = stdout.splitlines()[:2]
    assert f"2 queries, {len(built.dataset.corpus)} long documents, top 4 candidates" in title
    assert described.startswith("Long documents (seed 0): ")


def test_the_table_has_a_row_per_scoring(every_scoring):
    stdout, _ = every_scoring
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in stdout.splitlines() if line[:1] == "|"]
    assert cells[0][:5] == ["first stage", "reranked via", "scoring", "chunk size", "window"]
    reranked = [row[2:4] for row in cells if row[:2] == ["bm25", "core"]]
    assert reranked == [
        ["truncate", "-"],
        *([f"max_chunk {chunking}", "room"] for chunking in option_choices("chunking")),
    ]
    assert "at most 8 chunks per document" in stdout


def test_a_chunk_size_sweep_gives_a_point_per_size_and_a_plot(scifact_dir, ce_model_path, tmp_path):
    sweep = "--long-documents truncate --long-documents max_chunk --chunking window --chunk-size 64 --chunk-size 128"
    stdout, report = _eval(
        scifact_dir, ce_model_path, tmp_path / "report.json", *sweep.split(), "--plot", str(tmp_path / "sizes.png")
    )
    points = [(row["scoring"]["long_documents"], row["scoring"].get("chunk_size")) for row in report["reranked"]]
    assert points == [("truncate", None), ("max_chunk", 64), ("max_chunk", 128)]
    assert report["settings"]["chunk_sizes"] == [64, 128]
    assert (tmp_path / "sizes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Plot saved to" in stdout


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        ("--chunk-size 64", "chunk_size"),  # the original corpus scores by truncation alone
        ("--long-documents max_chunk --chunking window --sentence-overlap 2", "sentence_overlap"),
        ("--long-documents max_chunk --chunking sentence --chunk-overlap 8", "chunk_overlap"),
        ("--long-documents max_chunk --chunk-size 64 --chunk-overlap 64", "chunk_overlap=64"),
    ],
)
def test_chunk_options_no_scoring_takes_are_refused(scifact_dir, ce_model_path, flags, named):
    result = CliRunner().invoke(app, ["eval", scifact_dir, *flags.split(), "--model", ce_model_path, "--no-progress"])
    assert result.exit_code == 2 and named in result.output


def test_the_long_corpus_takes_50_candidates_by_default(scifact_dir):
    result = CliRunner().invoke(app, ["eval", scifact_dir, "--corpus", "long", "--rank-window-size", "51"])
    assert result.exit_code == 2 and "more than --k 50" in result.output


def test_the_scoring_choices_are_the_scorer_options():
    assert [choice.value for choice in LongDocumentsChoice] == list(option_choices("long_documents"))
    assert [choice.value for choice in ChunkingChoice] == list(option_choices("chunking"))
