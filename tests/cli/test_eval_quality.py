"""``crossrank eval`` with the real models on a SciFact slice: report shape, fidelity, lift and cache."""

from __future__ import annotations

import json

import pytest
from ranx import Qrels, Run, evaluate
from sentence_transformers import CrossEncoder
from typer.testing import CliRunner

from crossrank_cli.main import app
from crossrank_harness.data import DenseRetriever, EmbeddingCache

K = 10
METRICS = {"ndcg@10", "recall@10", "mrr@10"}  # no recall@100 from 10 candidates


@pytest.fixture(scope="module")
def dense_report(scifact_slice_dir, ce_model_path, embed_model_path, cli_env, tmp_path_factory):
    """One ``crossrank eval --first-stage dense`` run through the core: its CLI result and JSON report."""
    out = tmp_path_factory.mktemp("eval") / "report.json"
    args = ["eval", str(scifact_slice_dir), *f"--first-stage dense --k {K} --no-progress".split()]
    args += ["--model", ce_model_path, "--embed-model", embed_model_path, "--out", str(out)]
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 0, result.output
    return result, json.loads(out.read_text())


def test_report_has_every_section_and_metric(dense_report, scifact_slice, ce_model_path):
    result, report = dense_report
    assert report["command"] == "eval"
    assert report["settings"]["model"] == ce_model_path
    assert report["settings"]["rank_window_sizes"] == [K]
    assert report["dataset"] == {
        "corpus": "original",
        "queries": len(scifact_slice.queries),
        "documents": len(scifact_slice.corpus),
        "judgements": sum(len(j) for j in scifact_slice.qrels.values()),
    }
    dense = report["first_stages"]["dense"]
    assert set(dense["metrics"]) == METRICS
    assert dense["embedding_cache"] == "miss"  # the session's first dense run, on an empty cache
    (row,) = report["reranked"]
    assert (row["first_stage"], row["via"], row["rank_window_size"]) == ("dense", "core", K)
    assert set(row["metrics"]) == METRICS
    assert row["lift"]["ndcg@10"] == pytest.approx(row["metrics"]["ndcg@10"] - dense["metrics"]["ndcg@10"])
    assert 0 < row["ms_per_query"]["p50"] <= row["ms_per_query"]["p95"]
    assert "torch" in report["environment"]["packages"]
    table = result.stdout
    assert "nDCG@10" in table and "dense" in table and "core" in table
    assert f"{row['metrics']['ndcg@10']:.3f}" in table


def test_reranked_ndcg_equals_plain_sentence_transformers_with_ranx(
    dense_report, scifact_slice, ce_model_path, embed_model_path, cache_dir
):
    _, report = dense_report
    data = scifact_slice
    doc_ids = list(data.corpus)
    dense = DenseRetriever(
        embed_model_path, doc_ids, [data.doc_text(d) for d in doc_ids], cache=EmbeddingCache(cache_dir)
    )
    assert dense.cache_hit, "the eval run should have cached the corpus embeddings"
    query_ids = list(data.queries)
    candidates = dict(zip(query_ids, dense.search([data.queries[q] for q in query_ids], K), strict=True))
    qrels = Qrels({q: dict(judged) for q, judged in data.qrels.items()})

    first_stage = Run({q: {d: float(K - i) for i, (d, _) in enumerate(h)} for q, h in candidates.items()})
    reported = report["first_stages"]["dense"]["metrics"]["ndcg@10"]
    assert evaluate(qrels, first_stage, "ndcg@10") == pytest.approx(reported)

    model = CrossEncoder(ce_model_path, device="cpu")
    plain = {}
    for q, hits in candidates.items():
        scores = model.predict(
            [(data.queries[q], data.doc_text(d)) for d, _ in hits], batch_size=32, show_progress_bar=False
        )
        plain[q] = {d: float(s) for (d, _), s in zip(hits, scores, strict=True)}
    expected = evaluate(qrels, Run(plain), ["ndcg@10", "mrr@10"])
    (row,) = report["reranked"]
    assert row["metrics"]["ndcg@10"] == pytest.approx(expected["ndcg@10"], abs=1e-9)
    assert row["metrics"]["mrr@10"] == pytest.approx(expected["mrr@10"], abs=1e-9)


def test_reranking_beats_the_dense_first_stage(dense_report):
    _, report = dense_report
    (row,) = report["reranked"]
    dense = report["first_stages"]["dense"]["metrics"]["ndcg@10"]
    print(f"\nnDCG@10 on the slice: dense {dense:.3f} -> reranked {row['metrics']['ndcg@10']:.3f}")
    assert row["metrics"]["ndcg@10"] > dense


def test_a_second_run_reads_the_embeddings_from_the_cache(
    dense_report, scifact_slice_dir, ce_model_path, embed_model_path, cli_env, cache_dir, tmp_path
):
    files = sorted((cache_dir / "embeddings").glob("*.npy"))
    assert len(files) == 1
    written = files[0].stat().st_mtime_ns
    out = tmp_path / "again.json"
    args = [
        "eval",
        str(scifact_slice_dir),
        *"--first-stage dense --k 3 --queries 2 --no-progress".split(),
    ]
    args += ["--model", ce_model_path, "--embed-model", embed_model_path, "--out", str(out)]
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["first_stages"]["dense"]["embedding_cache"] == "hit"
    assert sorted((cache_dir / "embeddings").glob("*.npy")) == files
    assert files[0].stat().st_mtime_ns == written
