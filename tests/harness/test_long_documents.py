"""The long-document corpus built from SciFact: reproducible, every judged abstract where its document says,
judgements carried over, and documents far longer than the cross-encoder's window."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from crossrank_harness.data import BeirDataset, build_long_corpus
from crossrank_harness.data.long_documents import ABSTRACTS_PER_DISTRACTOR, OTHERS_PER_JUDGED, SEPARATOR
from rerank_core import InvalidArgumentError


@pytest.fixture(scope="module")
def long_corpus(scifact):
    return build_long_corpus(scifact, seed=0)


def _judged(dataset: BeirDataset) -> set[str]:
    return {doc for judgements in dataset.qrels.values() for doc in judgements}


def test_a_seed_gives_the_same_documents_and_another_seed_others(scifact, long_corpus):
    again = build_long_corpus(scifact, seed=0)
    assert again.documents == long_corpus.documents and again.dataset == long_corpus.dataset
    other = build_long_corpus(scifact, seed=1)
    assert other.documents.keys() & long_corpus.documents.keys() >= {f"long-{doc}" for doc in _judged(scifact)}
    assert other.dataset.corpus != long_corpus.dataset.corpus


def test_every_judged_abstract_lies_at_its_recorded_span(scifact, long_corpus):
    judged = _judged(scifact)
    hidden = {doc.hidden: doc_id for doc_id, doc in long_corpus.documents.items() if doc.hidden is not None}
    assert set(hidden) == judged
    for abstract, doc_id in hidden.items():
        doc, text = long_corpus.documents[doc_id], long_corpus.dataset.doc_text(doc_id)
        assert doc_id == f"long-{abstract}"
        assert doc.span is not None and text[doc.span[0] : doc.span[1]] == scifact.doc_text(abstract)
        assert text == SEPARATOR.join(scifact.doc_text(part) for part in doc.parts)
        assert text[: doc.span[0]] == "".join(
            scifact.doc_text(p) + SEPARATOR for p in doc.parts[: doc.parts.index(abstract)]
        )


def test_the_judged_abstracts_lie_at_varied_places(long_corpus):
    places = Counter(
        "first" if doc.parts[0] == doc.hidden else "last" if doc.parts[-1] == doc.hidden else "inside"
        for doc in long_corpus.documents.values()
        if doc.hidden is not None
    )
    assert set(places) == {"first", "inside", "last"}


def test_documents_hold_the_stated_numbers_of_abstracts_each_abstract_once(scifact, long_corpus):
    judged = _judged(scifact)
    low, high = OTHERS_PER_JUDGED
    smallest, largest = ABSTRACTS_PER_DISTRACTOR
    for doc in long_corpus.documents.values():
        others = [part for part in doc.parts if part != doc.hidden]
        assert not judged & set(others)  # never a judged abstract as filler
        if doc.hidden is None:
            assert smallest <= len(doc.parts) <= largest and doc.span is None
        else:
            assert low <= len(others) <= high
    used = Counter(part for doc in long_corpus.documents.values() for part in doc.parts)
    assert max(used.values()) == 1
    assert len(scifact.corpus) - len(used) == long_corpus.left_out < smallest
    assert {len(doc.parts) for doc in long_corpus.documents.values()} == set(range(low + 1, largest + 1))


def test_every_document_is_far_beyond_the_models_window(long_corpus, ce_model_path):
    from tokenizers import Tokenizer

    folder = Path(ce_model_path)
    window = json.loads((folder / "tokenizer_config.json").read_text())["model_max_length"]
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    texts = [long_corpus.dataset.doc_text(doc_id) for doc_id in long_corpus.dataset.corpus]
    shortest = min(len(encoding.ids) for encoding in tokenizer.encode_batch(texts, add_special_tokens=False))
    assert shortest > 3 * window


def test_the_judgements_move_to_the_documents_that_hide_the_abstracts(scifact, long_corpus):
    dataset = long_corpus.dataset
    assert dataset.queries == scifact.queries
    assert dataset.qrels == {
        query: {f"long-{doc}": relevance for doc, relevance in judgements.items()}
        for query, judgements in scifact.qrels.items()
    }
    assert set(dataset.corpus) == set(long_corpus.documents)
    assert all(doc["title"] == "" for doc in dataset.corpus.values())


def test_the_summary_counts_the_documents(scifact, long_corpus):
    summary = long_corpus.summary()
    assert summary["judged_documents"] == len(_judged(scifact))
    assert summary["judged_documents"] + summary["distractor_documents"] == len(long_corpus.dataset.corpus)
    lengths = [len(doc["text"]) for doc in long_corpus.dataset.corpus.values()]
    assert (summary["characters"]["min"], summary["characters"]["max"]) == (min(lengths), max(lengths))
    assert summary["seed"] == 0 and summary["abstracts_left_out"] == long_corpus.left_out
    json.dumps(summary)


def test_a_corpus_too_small_to_surround_its_judged_abstracts_is_refused(scifact):
    few = scifact.first_queries(20)
    judged = _judged(few)
    keep = [*judged, *[doc for doc in few.corpus if doc not in judged][: 3 * len(judged)]]
    small = BeirDataset({doc: few.corpus[doc] for doc in keep}, few.queries, few.qrels)
    with pytest.raises(InvalidArgumentError, match="unjudged abstracts"):
        build_long_corpus(small)
