"""The bench rows name only what the engine has: backends from its registry, precisions each backend runs."""

from __future__ import annotations

from crossrank_harness.bench.rows import MODES, bench_rows
from rerank_core.backends import BACKENDS, supported_precisions
from rerank_core.options import option_choices


def test_every_backend_is_benched_in_precisions_it_runs_on_cpu():
    assert set(MODES) <= set(BACKENDS) == set(option_choices("backend"))
    for backend, modes in MODES.items():
        for precision, _ in modes:
            assert precision == "auto" or precision in supported_precisions(backend, "cpu"), (backend, precision)


def test_every_registered_backend_has_crossrank_rows():
    benched = {spec.options["backend"] for spec in bench_rows() if spec.options and "backend" in spec.options}
    assert benched == set(BACKENDS)
