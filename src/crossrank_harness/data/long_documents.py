"""Long documents built from a BEIR corpus of short ones, for measuring how a reranker reads past its window.

Every judged abstract (judged in the split's qrels, at any relevance) is hidden at a random place among
:data:`OTHERS_PER_JUDGED` other abstracts, never judged ones, drawn at random; the document it makes carries
its judgements (the long document is as relevant as the abstract it hides). The unjudged abstracts left then
make distractor documents of :data:`ABSTRACTS_PER_DISTRACTOR` each, so the long corpus holds each abstract of
the corpus once (but for fewer than 5 left over at the end). Abstracts are ``title + " " + text`` joined by
:data:`SEPARATOR`. Everything is drawn from one ``random.Random(seed)``: a seed gives the same documents.

On SciFact's test split with seed 0: 155 judged documents and 584 distractors, of 2,300 tokens at the median
(the shortest 1,048, the longest 4,027 in the shared cross-encoder's tokens), far beyond its 256-token window.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Any

from rerank_core.errors import InvalidArgumentError

from .beir import BeirDataset

OTHERS_PER_JUDGED: tuple[int, int] = (4, 8)
"""How many other abstracts surround a judged one (inclusive bounds)."""
ABSTRACTS_PER_DISTRACTOR: tuple[int, int] = (5, 9)
"""How many unjudged abstracts make a distractor document (inclusive bounds)."""
SEPARATOR = "\n\n"
"""Between two abstracts of a long document."""


@dataclass(frozen=True)
class LongDocument:
    """Which abstracts a long document is made of, and where its judged one lies."""

    parts: tuple[str, ...]
    """The abstracts' doc ids, in reading order."""
    hidden: str | None
    """The judged abstract's doc id (``None`` in a distractor)."""
    span: tuple[int, int] | None
    """``(start, end)``: the judged abstract's characters in the long document's text (``None`` in a distractor)."""


@dataclass(frozen=True)
class LongCorpus:
    """The long corpus as a BEIR dataset (the split's queries, judgements moved to the long documents), and
    how each long document was made."""

    dataset: BeirDataset
    documents: dict[str, LongDocument]
    """Long doc id -> its make-up, in corpus order (the judged documents first)."""
    seed: int
    left_out: int
    """Unjudged abstracts in no long document (too few left to make a distractor)."""

    def summary(self) -> dict[str, Any]:
        """How the corpus was built and how long its documents are (JSON-ready)."""
        lengths = [len(doc["text"]) for doc in self.dataset.corpus.values()]
        parts = [len(doc.parts) for doc in self.documents.values()]
        judged = sum(doc.hidden is not None for doc in self.documents.values())
        return {
            "seed": self.seed,
            "judged_documents": judged,
            "distractor_documents": len(self.documents) - judged,
            "others_per_judged": list(OTHERS_PER_JUDGED),
            "abstracts_per_distractor": list(ABSTRACTS_PER_DISTRACTOR),
            "abstracts_per_document": {"min": min(parts), "max": max(parts)},
            "characters": {"min": min(lengths), "median": statistics.median(lengths), "max": max(lengths)},
            "abstracts_left_out": self.left_out,
        }


def build_long_corpus(dataset: BeirDataset, seed: int = 0) -> LongCorpus:
    """Hide each abstract judged in ``dataset.qrels`` among unjudged ones; group the rest into distractors.

    Judged documents are ``long-<abstract id>``, distractors ``distractor-<n>``. Raises
    :class:`~rerank_core.errors.InvalidArgumentError` when the corpus holds too few unjudged abstracts to
    surround every judged one.
    """
    judged = {doc for judgements in dataset.qrels.values() for doc in judgements if doc in dataset.corpus}
    rng = random.Random(seed)
    pool = [doc for doc in dataset.corpus if doc not in judged and dataset.doc_text(doc)]
    rng.shuffle(pool)
    low, high = OTHERS_PER_JUDGED
    if len(pool) < high * len(judged):
        raise InvalidArgumentError(
            f"Long documents need up to {high} unjudged abstracts around each of the {len(judged)} judged ones, "
            f"{high * len(judged)} in all; the corpus holds {len(pool)}."
        )
    texts: dict[str, str] = {}
    documents: dict[str, LongDocument] = {}
    taken = 0
    for abstract in (doc for doc in dataset.corpus if doc in judged):
        count = rng.randint(low, high)
        others = pool[taken : taken + count]
        taken += count
        at = rng.randint(0, count)
        parts = (*others[:at], abstract, *others[at:])
        start = sum(len(dataset.doc_text(doc)) + len(SEPARATOR) for doc in others[:at])
        doc_id = f"long-{abstract}"
        texts[doc_id] = SEPARATOR.join(dataset.doc_text(doc) for doc in parts)
        documents[doc_id] = LongDocument(parts, abstract, (start, start + len(dataset.doc_text(abstract))))
    smallest, largest = ABSTRACTS_PER_DISTRACTOR
    while len(pool) - taken >= smallest:
        parts = tuple(pool[taken : taken + rng.randint(smallest, largest)])
        taken += len(parts)
        doc_id = f"distractor-{len(documents) - len(judged)}"
        texts[doc_id] = SEPARATOR.join(dataset.doc_text(doc) for doc in parts)
        documents[doc_id] = LongDocument(parts, None, None)
    qrels = {
        query: {f"long-{doc}": relevance for doc, relevance in judgements.items()}
        for query, judgements in dataset.qrels.items()
    }
    corpus = {doc_id: {"title": "", "text": text} for doc_id, text in texts.items()}
    return LongCorpus(BeirDataset(corpus, dataset.queries, qrels), documents, seed, len(pool) - taken)
