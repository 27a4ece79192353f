"""Peak memory of scoring calls on hostile inputs, in one fresh process.

    python tests/core/engine/hostile_text_probe.py MODEL [--max-length N]

Loads the model and scores a small warm-up call; then, for each shape in :data:`SHAPES` (ordinary
full-window pairs first), builds the inputs and scores them in one call, and records how far the process's
peak resident memory stands above its resident memory just before the call. The peak never goes down, so a
shape whose own peak is lower reports at least the earlier shapes' growth: every figure is an upper bound.
Prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
from collections.abc import Callable

WORDS = "zebrafish heart cells regenerate after injury ".split()


def _words(chars: int) -> str:
    return ((" ".join(WORDS) + " ") * (chars // 40 + 1))[:chars]


SHAPES: dict[str, Callable[[], tuple[str, list[str]]]] = {
    # Ordinary text filling the window: the baselines, 20 and 200 pairs.
    "plain-20": lambda: ("zebrafish heart", [_words(5_000) + str(i) for i in range(20)]),
    "plain-200": lambda: (_words(2_000), [_words(200) + str(i) for i in range(200)]),
    # 20 texts of 1 MB whose first 10 KB are spaces.
    "spaces-led-20x1MB": lambda: ("zebrafish heart", [" " * 10_000 + _words(990_000) + str(i) for i in range(20)]),
    "combining-marks-5MB": lambda: ("zebrafish heart", ["a" + "\u0301" * 5_000_000]),
    "emoji-5MB": lambda: ("zebrafish heart", ["\U0001f600" * 5_000_000]),
    "words-after-spaces-5MB": lambda: ("zebrafish heart", [" " * 10_000 + _words(5_000_000)]),
    # A 100 KB query with 200 short documents.
    "query-100KB-200-docs": lambda: (_words(100_000), [_words(200) + str(i) for i in range(200)]),
}
BASELINE = {
    "spaces-led-20x1MB": "plain-20",
    "combining-marks-5MB": "plain-20",
    "emoji-5MB": "plain-20",
    "words-after-spaces-5MB": "plain-20",
    "query-100KB-200-docs": "plain-200",
}
"""The ordinary shape with the same number of pairs, for each hostile one."""


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--max-length", type=int, default=None)
    args = parser.parse_args()
    from rerank_core import CrossEncoderScorer

    scorer = CrossEncoderScorer(args.model, precision="fp32", max_length=args.max_length).load()
    scorer.score("warm up", ["a short text"] * 4)
    growth = {}
    for name, build in SHAPES.items():
        query, texts = build()
        gc.collect()
        before = _rss_bytes()
        scores = scorer.score(query, texts)
        assert len(scores) == len(texts)
        growth[name] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before) / 2**20
        del query, texts
    print(json.dumps(growth))


if __name__ == "__main__":
    main()
