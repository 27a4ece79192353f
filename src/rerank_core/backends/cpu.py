"""What this CPU can do fast: its model, cores and the vector / matrix flags that pick the precision."""

from __future__ import annotations

import functools
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

CPU_FLAGS: tuple[str, ...] = (
    "avx2",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)
"""The flags that decide which fast paths (bf16, int8, AMX tiles) the CPU kernels can take."""


@dataclass(frozen=True)
class CpuInfo:
    """The CPU model, its logical cores and whether it has each of :data:`CPU_FLAGS` (None: unknown)."""

    model: str
    logical_cores: int | None
    flags: dict[str, bool | None]

    @property
    def fast_bf16(self) -> bool:
        """Whether bf16 matrix products run in hardware (AMX tiles or AVX-512 BF16 dot products)."""
        return bool(self.flags.get("amx_bf16") or self.flags.get("avx512_bf16"))

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuInfo:
    """Read the CPU's model and flags (from ``/proc/cpuinfo`` on Linux; flags unknown elsewhere)."""
    model = platform.processor() or platform.machine()
    flags: dict[str, bool | None] = dict.fromkeys(CPU_FLAGS)
    if cpuinfo.is_file():
        present: set[str] = set()
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags" and not present:
                present = set(value.split())
        flags = {flag: flag in present for flag in CPU_FLAGS}
    return CpuInfo(model=model, logical_cores=os.cpu_count(), flags=flags)


def flags_text(flags: dict[str, bool | None]) -> str:
    """``avx2 yes, avx512f no, ...`` for a report header."""
    return ", ".join(f"{name} {'unknown' if has is None else 'yes' if has else 'no'}" for name, has in flags.items())


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the platform has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@functools.cache
def this_cpu() -> CpuInfo:
    """:func:`cpu_info` of this machine, read once per process."""
    return cpu_info()
