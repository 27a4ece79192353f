"""The scoring replica of ``crossrank serve`` (``RerankScorer``), run in this process without a Ray cluster.

A shared batch (what ``@serve.batch`` hands the replica; called here unwrapped, since the decorator needs a
replica's context) scores requests with different instructions in separate calls, and one the model refuses fails
alone; TEI's ``truncate=false`` refuses a request with a text too long. Each answer is what the local scorer gives.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from model_zoo import build_qwen3_causal_lm

from rerank_core import CrossEncoderScorer, RankSpec
from rerank_core.serving.wire import RerankJob

pytest.importorskip("ray.serve")
from rerank_core.serving.app import RerankScorer  # noqa: E402

QUERY = "zebrafish heart regeneration"
TEXTS = ["cardiomyocytes proliferate after injury", "a trial of statins", "fin regrowth in zebrafish", "tax law"]
OTHER = "Given a claim, find abstracts that refute it"


def replica(model: str) -> object:
    """A scoring replica as Ray Serve would construct it (the plain class behind the deployment)."""
    return RerankScorer.func_or_class(model, {"precision": "fp32"}, 1024, 20.0)


@pytest.fixture(scope="module")
def qwen3_reranker(tmp_path_factory) -> str:
    return str(build_qwen3_causal_lm(tmp_path_factory.mktemp("zoo") / "Qwen3-Reranker-0.6B"))


def job(instruction: str | None = None, texts: list[str] = TEXTS) -> RerankJob:
    return RerankJob(query=QUERY, texts=texts, spec=RankSpec(), instruction=instruction)


def shared_batch(served: object, jobs: list[RerankJob]) -> list:
    """The replica's shared batch over ``jobs``, as ``@serve.batch`` calls it."""
    batch = RerankScorer.func_or_class.shared_batch.__wrapped__
    return asyncio.run(batch(served, [(j.query, j.texts, j.instruction) for j in jobs]))


def test_instructions_in_one_batch_each_score_as_the_local_scorer(qwen3_reranker):
    served = replica(qwen3_reranker)
    jobs = [job(), job(OTHER), job(texts=TEXTS[:2]), job(OTHER, TEXTS[1:])]
    answers = shared_batch(served, jobs)
    local = CrossEncoderScorer(qwen3_reranker, precision="fp32", activation="none")
    for j, answer in zip(jobs, answers, strict=True):
        assert answer.error is None
        np.testing.assert_allclose(answer.scores, local.score(QUERY, j.texts, instruction=j.instruction), atol=1e-5)
    assert not np.allclose(answers[0].scores, answers[1].scores, atol=1e-4)  # the instruction reached the model
    assert served.batches_run == 1 and served.requests_scored == 4
    assert [a.batch_pairs for a in answers] == [len(TEXTS) * 2 + 2 + 3, 0, 0, 0]


def test_an_instruction_the_model_refuses_fails_only_its_own_requests(tiny_model_dir):
    served = replica(tiny_model_dir)
    refused, plain = shared_batch(served, [job(OTHER), job()])
    assert refused.scores is None and refused.error is not None
    assert refused.error[:2] == (422, "InvalidArgumentError") and "instruction" in refused.error[2]
    local = CrossEncoderScorer(tiny_model_dir, precision="fp32", activation="none")
    np.testing.assert_allclose(plain.scores, local.score(QUERY, TEXTS), atol=1e-5)


def test_truncate_false_refuses_a_request_with_a_text_past_the_window(tiny_model_dir):
    served = replica(tiny_model_dir)
    long = "zebrafish " * 300  # past the tiny model's 128 tokens
    assert asyncio.run(served._refused_if_too_long(job(), TEXTS)) is None
    refused = asyncio.run(served._refused_if_too_long(job(texts=[*TEXTS, long]), [*TEXTS, long]))
    assert refused.error[:2] == (413, "InvalidTextError")
    assert f"1 of {len(TEXTS) + 1} texts" in refused.error[2] and "128-token window" in refused.error[2]
