"""``crossrank serve`` as users run it: a process that serves until it is stopped."""

from __future__ import annotations

import httpx
from serve_process import serving
from typer.testing import CliRunner

from crossrank_cli.main import app


def test_serve_answers_rerank_and_health_then_stops_on_sigterm(ce_model_path, tmp_path, loopback_port, monkeypatch):
    monkeypatch.setenv("CROSSRANK_API_KEY", "key-one key-two")
    options = ["--precision", "fp32", "--max-documents", "8", "--max-merged-pairs", "64"]
    with serving(ce_model_path, loopback_port, options, tmp_path / "serve.log") as (_, url):
        auth = {"authorization": "Bearer key-two"}
        body = {"query": "what do cells divide by?", "texts": ["Bananas are yellow.", "Cells divide by mitosis."]}
        answer = httpx.post(f"{url}/rerank", json={**body, "top_n": 1}, headers=auth, timeout=60).json()
        assert [hit["index"] for hit in answer] == [1]
        cohere = {"model": "m", "query": body["query"], "documents": body["texts"]}
        ranked = httpx.post(f"{url}/v2/rerank", json=cohere, headers=auth, timeout=60).json()["results"]
        assert [hit["index"] for hit in ranked] == [1, 0]
        too_many = httpx.post(f"{url}/rerank", json={"query": "q", "texts": ["a"] * 9}, headers=auth, timeout=60)
        assert too_many.status_code == 413 and "limit of 8" in too_many.json()["error"]
        assert httpx.post(f"{url}/rerank", json=body, timeout=60).status_code == 401
    assert "Serving" in (tmp_path / "serve.log").read_text()


def test_a_bad_configuration_fails_before_starting_ray(ce_model_path):
    result = CliRunner().invoke(
        app, ["serve", "--model", ce_model_path, "--max-documents", "100", "--max-merged-pairs", "10"]
    )
    assert result.exit_code == 2
    assert "max_merged_pairs (10) must be at least max_documents (100)" in result.output


def test_serving_beyond_loopback_without_a_key_warns_first(ce_model_path, monkeypatch):
    bad = ["--max-documents", "100", "--max-merged-pairs", "10"]  # fails before Ray starts, after the warning
    monkeypatch.delenv("CROSSRANK_API_KEY", raising=False)
    warned = CliRunner().invoke(app, ["serve", "--model", ce_model_path, "--host", "0.0.0.0", *bad])
    assert warned.exit_code == 2 and "0.0.0.0 with no API key" in warned.output
    keyed = CliRunner().invoke(app, ["serve", "--model", ce_model_path, "--host", "0.0.0.0", "--api-key", "k", *bad])
    loopback = CliRunner().invoke(app, ["serve", "--model", ce_model_path, *bad])
    assert "no API key" not in keyed.output + loopback.output
