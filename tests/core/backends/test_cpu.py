"""The CPU description in the bench header."""

from __future__ import annotations

from rerank_core.backends.cpu import CPU_FLAGS, cpu_info, flags_text

CPUINFO = """processor\t: 0
model name\t: Example CPU 9000
flags\t\t: fpu sse avx2 avx512f avx512_vnni amx_tile amx_bf16
processor\t: 1
model name\t: Example CPU 9000
flags\t\t: fpu sse avx2 avx512f avx512_vnni amx_tile amx_bf16
"""


def test_flags_are_read_from_cpuinfo(tmp_path):
    (tmp_path / "cpuinfo").write_text(CPUINFO)
    info = cpu_info(tmp_path / "cpuinfo")
    assert info.model == "Example CPU 9000"
    assert info.flags == {
        "avx2": True,
        "avx512f": True,
        "avx512_vnni": True,
        "avx512_bf16": False,
        "amx_tile": True,
        "amx_bf16": True,
        "amx_int8": False,
    }
    assert flags_text(info.flags).startswith("avx2 yes, avx512f yes, avx512_vnni yes, avx512_bf16 no")


def test_flags_are_unknown_without_cpuinfo(tmp_path):
    info = cpu_info(tmp_path / "absent")
    assert info.flags == dict.fromkeys(CPU_FLAGS)
    assert "avx2 unknown" in flags_text(info.flags)
