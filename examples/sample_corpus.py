"""The corpus every example uses: SciFact when it is available, else a small built-in corpus.

SciFact comes from the BEIR folder named by ``CROSSRANK_SCIFACT`` (``scripts/demo`` sets it when the
models and data are available locally).
"""

from __future__ import annotations

import os
from pathlib import Path

from crossrank_harness.data import BeirDataset, load_beir

SMALL_CORPUS = {
    "d1": (
        "Zebrafish heart regeneration",
        "Adult zebrafish regenerate heart muscle after injury through proliferation of existing cardiomyocytes.",
    ),
    "d2": ("Mouse heart repair", "Adult mouse hearts form scar tissue after infarction and regenerate little muscle."),
    "d3": ("Coffee and liver disease", "Regular coffee drinking is associated with lower risk of liver cirrhosis."),
    "d4": ("Tea consumption", "Green tea catechins show antioxidant effects in cell culture."),
    "d5": ("Vitamin D and fractures", "Vitamin D supplementation alone did not reduce hip fractures in older adults."),
    "d6": ("Calcium and bone density", "Calcium with vitamin D modestly increased bone mineral density."),
    "d7": ("Sleep and memory", "Sleep after learning consolidates declarative memory in young adults."),
    "d8": ("Exercise and cognition", "Aerobic exercise improved executive function in older adults."),
}
SMALL_QUERIES = {
    "q1": ("Can zebrafish regrow heart muscle?", {"d1": 1}),
    "q2": ("Drinking coffee protects the liver.", {"d3": 1}),
    "q3": ("Vitamin D supplements prevent hip fractures.", {"d5": 1}),
}


def sample_dataset(queries: int, others: int) -> tuple[BeirDataset, str]:
    """SciFact's first ``queries`` judged test claims over their relevant abstracts plus ``others``
    abstracts drawn with seed 0; without SciFact, the built-in corpus and its three claims.

    Returns the dataset and a label for it.
    """
    scifact = os.environ.get("CROSSRANK_SCIFACT")
    if scifact and Path(scifact).is_dir():
        data = load_beir(scifact, "test").first_queries(queries).sub_corpus(others, seed=0)
        return data, f"SciFact sub-corpus ({len(data.corpus)} abstracts, {len(data.queries)} judged claims)"
    corpus = {d: {"title": title, "text": text} for d, (title, text) in SMALL_CORPUS.items()}
    data = BeirDataset(
        corpus,
        {q: text for q, (text, _) in SMALL_QUERIES.items()},
        {q: judged for q, (_, judged) in SMALL_QUERIES.items()},
    )
    return data, f"a small built-in corpus ({len(corpus)} passages)"
