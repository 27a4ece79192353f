"""``crossrank serve`` as users run it: a process that serves until it is stopped."""

from __future__ import annotations

import httpx
from serve_process import serving
from typer.testing import CliRunner

from crossrank_cli.main import app


def test_serve_answers_rerank_and_health_then_stops_on_sigterm(ce_model_path, tmp_path, loopback_port):
    options = ["--precision", "fp32", "--max-documents", "8", "--max-merged-pairs", "64"]
    with serving(ce_model_path, loopback_port, options, tmp_path / "serve.log") as (_, url):
        body = {"query": "what do cells divide by?", "documents": ["Bananas are yellow.", "Cells divide by mitosis."]}
        answer = httpx.post(f"{url}/rerank", json={**body, "top_n": 1}, timeout=60).json()
        assert [hit["index"] for hit in answer["results"]] == [1]
        too_many = httpx.post(f"{url}/rerank", json={"query": "q", "documents": ["a"] * 9}, timeout=60)
        assert too_many.status_code == 413 and "limit of 8" in too_many.json()["detail"]
    assert "Serving" in (tmp_path / "serve.log").read_text()


def test_a_bad_configuration_fails_before_starting_ray(ce_model_path):
    result = CliRunner().invoke(
        app, ["serve", "--model", ce_model_path, "--max-documents", "100", "--max-merged-pairs", "10"]
    )
    assert result.exit_code == 2
    assert "max_merged_pairs (10) must be at least max_documents (100)" in result.output
