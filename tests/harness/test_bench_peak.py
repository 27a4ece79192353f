"""The bench's distance to the limit: the CPU's peak per precision, the clock, and the matrix-product work."""

from __future__ import annotations

import pytest

from crossrank_harness.bench.peak import FLOP_PER_CYCLE, cpu_clock_ghz, machine_peaks, non_embedding_parameters
from rerank_core.backends.cpu import CPU_FLAGS, CpuInfo


def cpu(*flags: str, cores: int = 2) -> CpuInfo:
    return CpuInfo(model="test", logical_cores=cores, flags={flag: flag in flags for flag in CPU_FLAGS})


def test_each_precision_takes_the_best_instructions_the_cpu_has():
    amx = machine_peaks(cpu("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8"), 2.0)
    assert {p: peak.tflops for p, peak in amx.items()} == pytest.approx({"fp32": 0.256, "bf16": 4.096, "int8": 8.192})
    assert "amx_bf16" in amx["bf16"].how and "2 logical cores x 2.00 GHz x 1024" in amx["bf16"].how
    avx2 = machine_peaks(cpu("avx2"), 2.5)
    assert {p: peak.tflops for p, peak in avx2.items()} == pytest.approx({"fp32": 0.16, "bf16": 0.16, "int8": 0.32})
    assert "no bf16 instructions" in avx2["bf16"].how
    assert machine_peaks(cpu("avx2"), None) == {} and machine_peaks(cpu(), 3.0) == {}


def test_every_precision_falls_back_to_a_flag_every_x86_cpu_with_avx2_has():
    for precision, choices in FLOP_PER_CYCLE.items():
        assert choices[-1][0] == "avx2", precision
        assert [flop for _, flop, _ in choices] == sorted((flop for _, flop, _ in choices), reverse=True)


def test_the_clock_is_the_kernel_s_maximum_when_it_reports_one(tmp_path):
    sysfs = tmp_path / "cpuinfo_max_freq"
    sysfs.write_text("3700000\n")
    assert cpu_clock_ghz(sysfs) == pytest.approx(3.7)
    missing = cpu_clock_ghz(tmp_path / "absent")  # falls back to /proc/cpuinfo's current clocks on Linux
    assert missing is None or missing > 0


def test_non_embedding_parameters_are_read_from_the_safetensors_headers(tiny_model_dir):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir)
    expected = sum(p.numel() for name, p in model.named_parameters() if "embeddings" not in name)
    assert non_embedding_parameters(tiny_model_dir) == expected
    assert non_embedding_parameters("org/a-hub-id") is None
