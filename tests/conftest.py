"""Shared fixtures: the real models and SciFact from ../shared (required, never skipped) and tiny random models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tiny_models import build_tiny_cross_encoder

from crossrank_harness.ports import free_loopback_port

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"


def _required_path(env: str, default: Path) -> str:
    """A path from ``env`` or the shared folder; quality tests fail loudly when it is missing."""
    value = os.environ.get(env) or str(default)
    if not Path(value).exists():
        pytest.fail(
            f"{env}={value} does not exist. Quality tests need the real models and data: put the shared folder "
            f"beside the project ({SHARED}) or point {env} at a local copy.",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def ce_model_path() -> str:
    """The real cross-encoder (minilm-l6-scifact-ce)."""
    return _required_path("CROSSRANK_MODEL", SHARED / "models" / "minilm-l6-scifact-ce")


@pytest.fixture(scope="session")
def embed_model_path() -> str:
    """The real bi-encoder (all-MiniLM-L6-v2) for the FAISS first stage."""
    return _required_path("CROSSRANK_EMBED_MODEL", SHARED / "models" / "all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def scifact_dir() -> str:
    return _required_path("CROSSRANK_SCIFACT", SHARED / "data" / "scifact")


@pytest.fixture(scope="session")
def scifact(scifact_dir):
    """BEIR SciFact, dev test split (150 judged queries)."""
    from crossrank_harness.data import load_beir

    return load_beir(scifact_dir, "test")


@pytest.fixture(scope="session")
def scifact_first50(scifact):
    """The first 50 judged test queries, in qrels/test.tsv order, over the whole corpus."""
    return scifact.first_queries(50)


@pytest.fixture(scope="session")
def scifact_sub(scifact_first50):
    """The first 50 test queries over their relevant abstracts plus 1,000 others (seed 0)."""
    return scifact_first50.sub_corpus(1000, seed=0)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    """A random 2-layer BERT cross-encoder with one logit and a 128-token limit."""
    return str(build_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-ce")))


@pytest.fixture(scope="session")
def tiny_model_factory(tmp_path_factory):
    """Build tiny cross-encoder variants: ``factory(num_labels=2, pad_token=False, ...)``."""
    built: dict[tuple, str] = {}

    def factory(**options) -> str:
        key = tuple(sorted(options.items()))
        if key not in built:
            built[key] = str(build_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-ce-variant"), **options))
        return built[key]

    return factory


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray with 2 CPUs for the test session, shut down at its end."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


@pytest.fixture
def loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_loopback_port()
