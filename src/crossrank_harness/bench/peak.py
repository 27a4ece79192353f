"""How far each bench row is from the machine's limit: the matrix-product work of the throughput calls, the TFLOP/s a
row achieved on it, and the CPU's peak for the row's precision.

Work is ``2 x non-embedding parameters x tokens`` (every weight multiplies every token once; attention's own
products, small at these lengths, are left out), with the tokens crossrank feeds the model (after truncation).
Peak is ``logical cores x clock x FLOP per cycle per core`` of the best instructions the CPU has for the precision
(:data:`FLOP_PER_CYCLE`), with the clock the CPU reports as its maximum (else its current one). SMT siblings share
one core's units, so where logical cores are hyperthreads the true peak is lower: the share printed is then a
lower bound of how close a row comes.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from rerank_core.backends.cpu import CpuInfo

FLOP_PER_CYCLE: dict[str, tuple[tuple[str, int, str], ...]] = {
    "fp32": (
        ("avx512f", 64, "2 AVX-512 FMA units x 16 fp32 lanes x 2"),
        ("avx2", 32, "2 AVX2 FMA units x 8 fp32 lanes x 2"),
    ),
    "bf16": (
        ("amx_bf16", 1024, "AMX TMUL: 1024 bf16 FLOP per cycle"),
        ("avx512_bf16", 128, "2 VDPBF16PS units x 32 bf16 products x 2"),
        ("avx512f", 64, "no bf16 instructions: fp32 AVX-512 FMA"),
        ("avx2", 32, "no bf16 instructions: fp32 AVX2 FMA"),
    ),
    "int8": (
        ("amx_int8", 2048, "AMX TMUL: 2048 int8 ops per cycle"),
        ("avx512_vnni", 256, "2 VPDPBUSD units x 64 int8 products x 2"),
        ("avx2", 64, "VPMADDUBSW + VPMADDWD, about 32 int8 products per cycle x 2"),
    ),
}
"""Per precision, the instruction flags in order of preference, with the FLOP (ops for int8) per cycle per core."""
_EMBEDDING_NAMES = ("embeddings", "embed_tokens", "lm_head", "wte", "wpe")


@dataclass(frozen=True)
class Peak:
    """The CPU's peak for one precision, and how it was computed."""

    tflops: float
    how: str


def machine_peaks(cpu: CpuInfo, clock_ghz: float | None) -> dict[str, Peak]:
    """The peak TFLOP/s of each precision on ``cpu`` at ``clock_ghz`` (none when the clock or flags are unknown)."""
    cores = cpu.logical_cores
    if not clock_ghz or not cores:
        return {}
    peaks = {}
    for precision, choices in FLOP_PER_CYCLE.items():
        found = next(((flag, flop, why) for flag, flop, why in choices if cpu.flags.get(flag)), None)
        if found is not None:
            flag, flop, why = found
            how = f"{cores} logical cores x {clock_ghz:.2f} GHz x {flop} FLOP/cycle ({flag}: {why})"
            peaks[precision] = Peak(cores * clock_ghz * flop / 1000, how)
    return peaks


def cpu_clock_ghz(sysfs: Path = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")) -> float | None:
    """The CPU's maximum clock in GHz as the kernel reports it, else the fastest current clock of
    ``/proc/cpuinfo``; ``None`` when neither is readable."""
    try:
        return int(sysfs.read_text().strip()) / 1e6
    except (OSError, ValueError):
        pass
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    clocks = [float(line.split(":")[1]) for line in lines if line.startswith("cpu MHz")]
    return max(clocks) / 1000 if clocks else None


def non_embedding_parameters(model: str) -> int | None:
    """The parameters of a local checkpoint outside its embedding tables and LM head, read from its safetensors
    headers (no weights loaded); ``None`` for a hub id or a folder without safetensors."""
    folder = Path(model).expanduser()
    files = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    if not files:
        return None
    total = 0
    for path in files:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(length))
        for name, entry in header.items():
            if name != "__metadata__" and not any(part in name for part in _EMBEDDING_NAMES):
                count = 1
                for size in entry["shape"]:
                    count *= size
                total += count
    return total


@dataclass(frozen=True)
class Work:
    """The matrix-product work of the throughput calls."""

    parameters: int
    tokens: int
    flop: float

    def to_json(self) -> dict[str, float]:
        """A JSON-ready dict."""
        return asdict(self)


def throughput_work(model: str, token_counts: Sequence[int]) -> Work | None:
    """``2 x non-embedding parameters x tokens`` over the pairs' ``token_counts``; ``None`` when the parameters
    cannot be read."""
    parameters = non_embedding_parameters(model)
    if parameters is None:
        return None
    tokens = int(sum(token_counts))
    return Work(parameters, tokens, 2.0 * parameters * tokens)
