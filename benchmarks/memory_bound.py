"""Memory stays bounded on huge inputs: 10,000 texts of 1 MB each against the same number of 1 KB texts.

    python benchmarks/memory_bound.py [--model MODEL] [--count 10000]

Each workload runs in its own fresh process: load the model, score one warm-up call, note the resident
memory (the model's own footprint, imports included), then rank ``--count`` texts against one query in
a single call while a thread samples the resident memory every 5 ms. The table gives the peak growth
above the footprint for 1 KB and 1 MB texts and their ratio. The 1 MB texts are ten distinct 1 MB
strings referenced in turn, so the caller's list costs 10 MB; what is measured is what crossrank adds:
texts are cut to the model's window before tokenizing, so 1 MB texts should cost what 1 KB texts cost.
Target: growth under 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

from crossrank_harness.table import format_table, number

MIB = 2**20
SIZES = {"1 KB": 1_000, "1 MB": 1_000_000}
WORDS = "zebrafish heart regeneration cardiomyocyte proliferation injury tissue repair signalling".split()


def _rss_bytes() -> int:
    """This process's current resident memory."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _texts(size: int, count: int) -> list[str]:
    """``count`` texts of ``size`` characters: ten distinct strings, each referenced in turn (not copied)."""
    distinct = [((" ".join(WORDS[i:] + WORDS[:i]) + " ") * (size // 90 + 1))[:size] for i in range(10)]
    return [distinct[i % 10] for i in range(count)]


class PeakSampler(threading.Thread):
    """Samples this process's resident memory every 5 ms until stopped; ``peak`` is the largest seen."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _rss_bytes()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.005):
            self.peak = max(self.peak, _rss_bytes())

    def stop(self) -> int:
        """Stop sampling; the peak."""
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, _rss_bytes())
        return self.peak


def worker(model: str, size: int, count: int) -> dict[str, float]:
    """Score ``count`` texts of ``size`` characters in one call; footprint and peak in bytes."""
    from rerank_core import CrossEncoderScorer

    texts = _texts(size, count)
    scorer = CrossEncoderScorer(model).load()
    scorer.score("zebrafish heart", texts[:32])
    footprint = _rss_bytes()
    sampler = PeakSampler()
    sampler.start()
    started = time.perf_counter()
    ranked = scorer.rank("zebrafish heart", texts, top_n=10)
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    assert len(ranked) == 10
    return {"footprint": footprint, "peak": peak, "seconds": seconds, "precision": scorer.precision_used}


def main() -> None:
    """Run both workloads in fresh processes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.environ.get("CROSSRANK_MODEL", "cross-encoder/ms-marco-MiniLM-L6-v2"))
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(args.model, args.worker, args.count)))
        return
    rows = {}
    for label, size in SIZES.items():
        command = [sys.executable, __file__, "--model", args.model, "--count", str(args.count), "--worker", str(size)]
        finished = subprocess.run(command, capture_output=True, text=True, check=True)
        rows[label] = json.loads(finished.stdout.strip().splitlines()[-1])
    print(f"{args.count} texts per call, one query, {args.model} ({rows['1 MB']['precision']})")
    headers = ["texts", "model footprint MiB", "peak MiB", "growth MiB", "growth vs 1 KB texts", "seconds"]
    base = rows["1 KB"]["peak"] - rows["1 KB"]["footprint"]
    cells = []
    for label, row in rows.items():
        growth = row["peak"] - row["footprint"]
        mib = (number(value / MIB, 0) for value in (row["footprint"], row["peak"], growth))
        cells.append([f"{args.count} x {label}", *mib, number(growth / base, 2), number(row["seconds"], 0)])
    print(format_table(headers, cells))


if __name__ == "__main__":
    main()
