"""Both adapters on arbitrary input: documents survive unchanged, results obey the ranking rules, bad items are named.

Property tests (hypothesis) feed random page contents (every Unicode category, surrogates included),
metadata, ids, duplicates and top_n / min_score / rank_window_size values, in range or not, through
``CrossEncoderReranker.compress_documents`` and ``CrossEncoderRerank.postprocess_nodes``.
"""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document
from llama_index.core.schema import ImageNode, NodeWithScore, TextNode

from langchain_rerank import CrossEncoderReranker
from llamaindex_rerank import CrossEncoderRerank
from rerank_core import InvalidArgumentError, InvalidTextError

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=50)
METADATA = st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=3)
ITEMS = st.lists(st.tuples(ANY_TEXT, METADATA), max_size=10)
TOP_N = st.one_of(st.none(), st.integers(-2, 12))
WINDOW = st.one_of(st.none(), st.integers(-2, 12))
MIN_SCORE = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 1))
PROFILE = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
QUERY = "zebrafish heart regeneration"


class NotJson:
    """A metadata value that JSON cannot hold."""


def _out_of_range(top_n, window, min_score) -> bool:
    return (
        (top_n is not None and top_n < 0)
        or (window is not None and window < 1)
        or (min_score is not None and not math.isfinite(min_score))
    )


def _check_order(scores, count, scored, top_n, min_score):
    assert scores == sorted(scores, reverse=True)
    if min_score is not None:
        assert all(s >= min_score for s in scores)
    assert count <= (scored if top_n is None else min(top_n, scored))


@PROFILE
@given(items=ITEMS, top_n=TOP_N, window=WINDOW, min_score=MIN_SCORE)
def test_langchain_keeps_documents_whole_and_ordered(tiny_model_dir, items, top_n, window, min_score):
    docs = [Document(page_content=t, metadata=m, id=f"d{i}") for i, (t, m) in enumerate(items)]
    before = copy.deepcopy(docs)
    if _out_of_range(top_n, window, min_score):
        with pytest.raises(ValueError):  # pydantic's ValidationError, at construction
            CrossEncoderReranker(model=tiny_model_dir, top_n=top_n, rank_window_size=window, min_score=min_score)
        return
    reranker = CrossEncoderReranker(model=tiny_model_dir, top_n=top_n, rank_window_size=window, min_score=min_score)
    out = reranker.compress_documents(docs, QUERY)
    assert docs == before
    by_id = {doc.id: doc for doc in docs}
    ids = [doc.id for doc in out]
    assert len(set(ids)) == len(ids)
    for doc in out:
        original = by_id[doc.id]
        assert doc.page_content == original.page_content
        assert {k: v for k, v in doc.metadata.items() if k != "relevance_score"} == {
            k: v for k, v in original.metadata.items() if k != "relevance_score"
        }
    scored = len(docs) if window is None else min(window, len(docs))
    _check_order([doc.metadata["relevance_score"] for doc in out], len(out), scored, top_n, min_score)
    if min_score is None and top_n != 0:
        assert len(out) == (scored if top_n is None else min(top_n, scored))


@PROFILE
@given(items=ITEMS, top_n=TOP_N, window=WINDOW, min_score=MIN_SCORE)
def test_llamaindex_keeps_nodes_whole_and_ordered(tiny_model_dir, items, top_n, window, min_score):
    nodes = [NodeWithScore(node=TextNode(text=t, metadata=m, id_=f"n{i}"), score=0.5) for i, (t, m) in enumerate(items)]
    before = copy.deepcopy(nodes)
    if _out_of_range(top_n, window, min_score):
        with pytest.raises(ValueError):
            CrossEncoderRerank(model=tiny_model_dir, top_n=top_n, rank_window_size=window, min_score=min_score)
        return
    reranker = CrossEncoderRerank(model=tiny_model_dir, top_n=top_n, rank_window_size=window, min_score=min_score)
    out = reranker.postprocess_nodes(nodes, query_str=QUERY)
    assert nodes == before
    ids = [item.node.node_id for item in out]
    assert len(set(ids)) == len(ids)
    originals = {item.node.node_id: item.node for item in nodes}
    assert all(item.node == originals[item.node.node_id] for item in out)
    scored = len(nodes) if window is None else min(window, len(nodes))
    _check_order([item.score for item in out], len(out), scored, top_n, min_score)
    if min_score is None and top_n != 0:
        assert len(out) == (scored if top_n is None else min(top_n, scored))


def test_per_call_arguments_out_of_range_are_typed_errors(tiny_model_dir):
    """Construction-time options fail with pydantic's ValidationError; per-call ones with InvalidArgumentError."""
    from rerank_core import CrossEncoderScorer

    scorer = CrossEncoderScorer(tiny_model_dir)
    for bad in ({"top_n": -1}, {"rank_window_size": 0}, {"min_score": math.nan}):
        with pytest.raises(InvalidArgumentError):
            scorer.rank(QUERY, ["a"], **bad)


def test_langchain_names_missing_documents_and_non_text_content(tiny_model_dir):
    reranker = CrossEncoderReranker(model=tiny_model_dir)
    with pytest.raises(InvalidTextError, match=r"documents\[1\] is a NoneType"):
        reranker.compress_documents([Document(page_content="a"), None], QUERY)
    odd = Document.model_construct(page_content=123, metadata={})
    with pytest.raises(InvalidTextError, match=r"documents\[0\]\.page_content is a int"):
        reranker.compress_documents([odd], QUERY)


def test_metadata_that_json_cannot_hold_passes_through_untouched(tiny_model_dir):
    value = NotJson()
    docs = [Document(page_content="zebrafish", metadata={"obj": value, "tags": {1, 2}})]
    (out,) = CrossEncoderReranker(model=tiny_model_dir).compress_documents(docs, QUERY)
    assert out.metadata["obj"] is value and out.metadata["tags"] == {1, 2}
    node = NodeWithScore(node=TextNode(text="zebrafish", metadata={"obj": value}), score=None)
    (item,) = CrossEncoderRerank(model=tiny_model_dir, metadata_mode="none").postprocess_nodes([node], query_str=QUERY)
    assert item.node.metadata["obj"] is value


def test_llamaindex_names_nodes_without_text(tiny_model_dir):
    reranker = CrossEncoderRerank(model=tiny_model_dir)
    image = NodeWithScore(node=ImageNode(image="aGVsbG8="), score=None)
    with pytest.raises(InvalidTextError, match=r"nodes\[1\] is an ImageNode without text"):
        reranker.postprocess_nodes([NodeWithScore(node=TextNode(text="a")), image], query_str=QUERY)
    captioned = NodeWithScore(node=ImageNode(image="aGVsbG8=", text="a zebrafish heart"), score=None)
    assert len(reranker.postprocess_nodes([captioned], query_str=QUERY)) == 1
    no_text = NodeWithScore(node=TextNode.model_construct(text=None, metadata={}), score=None)
    with pytest.raises(InvalidTextError, match=r"nodes\[0\] has no text"):
        reranker.postprocess_nodes([no_text], query_str=QUERY)
    with pytest.raises(InvalidTextError, match=r"nodes\[0\] is a NoneType"):
        reranker.postprocess_nodes([None], query_str=QUERY)
