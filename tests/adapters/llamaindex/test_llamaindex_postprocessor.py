"""CrossEncoderRerank as a LlamaIndex node postprocessor, on real nodes with the real cross-encoder."""

from __future__ import annotations

import asyncio
import copy
import math

import numpy as np
import pytest
from llama_index.core.bridge.pydantic import ValidationError
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload, LlamaDebugHandler
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode

from llamaindex_rerank import RETRIEVAL_SCORE_KEY, CrossEncoderRerank
from rerank_core import (
    CrossEncoderScorer,
    InvalidArgumentError,
    InvalidQueryError,
    InvalidTextError,
    ModelNotFoundError,
    RemoteScorer,
    get_scorer,
)

QUERY = "Aspirin lowers the risk of a first heart attack."
PASSAGES = [
    ("Bananas are rich in potassium and grow in tropical climates.", 0.71),
    ("In a randomised trial, low-dose aspirin reduced first myocardial infarction in men.", None),
    ("The heart pumps blood through the body.", 0.64),
    ("Aspirin inhibits platelet aggregation, lowering the risk of myocardial infarction.", 0.52),
    ("Regular exercise improves sleep quality.", 0.33),
]


@pytest.fixture
def nodes() -> list[NodeWithScore]:
    """Retrieval-style input: ids, metadata (one key hidden from the embedding text), one score None."""
    return [
        NodeWithScore(
            node=TextNode(
                id_=f"doc-{i}",
                text=text,
                metadata={"source": f"s{i}", "internal": [i]},
                excluded_embed_metadata_keys=["internal"],
            ),
            score=score,
        )
        for i, (text, score) in enumerate(PASSAGES)
    ]


def _ids(nodes: list[NodeWithScore]) -> list[str]:
    return [n.node.node_id for n in nodes]


def test_returns_new_nodes_best_first_with_float_scores(ce_reranker, nodes):
    out = ce_reranker.postprocess_nodes(nodes, query_str=QUERY)
    texts = [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    expected = ce_reranker.scorer.score(QUERY, texts)
    assert len(out) == len(nodes)
    assert all(type(n.score) is float for n in out)
    assert [n.score for n in out] == sorted((n.score for n in out), reverse=True)
    assert {n.node.node_id: n.score for n in out} == pytest.approx(
        {n.node.node_id: float(s) for n, s in zip(nodes, expected, strict=True)}
    )
    assert _ids(out)[:2] == ["doc-1", "doc-3"]  # the two aspirin passages
    assert all(o is not i for o in out for i in nodes)  # new NodeWithScore objects
    by_id = {n.node.node_id: n.node for n in nodes}
    assert all(o.node is by_id[o.node.node_id] for o in out)  # nodes themselves are not copied


def test_top_n_min_score_and_window(ce_model_path, ce_reranker, nodes):
    everything = ce_reranker.postprocess_nodes(nodes, query_str=QUERY)
    top2 = CrossEncoderRerank(model=ce_model_path).postprocess_nodes(nodes, query_str=QUERY)
    assert _ids(top2) == _ids(everything)[:2]  # top_n defaults to 2, like SentenceTransformerRerank

    assert CrossEncoderRerank(model=ce_model_path, top_n=0).postprocess_nodes(nodes, query_str=QUERY) == []

    threshold = (everything[1].score + everything[2].score) / 2
    kept = CrossEncoderRerank(model=ce_model_path, top_n=None, min_score=threshold)
    assert _ids(kept.postprocess_nodes(nodes, query_str=QUERY)) == _ids(everything)[:2]

    windowed = CrossEncoderRerank(model=ce_model_path, top_n=None, rank_window_size=3)
    out = windowed.postprocess_nodes(nodes, query_str=QUERY)
    assert sorted(_ids(out)) == ["doc-0", "doc-1", "doc-2"]
    assert _ids(out) == [i for i in _ids(everything) if i in {"doc-0", "doc-1", "doc-2"}]


def test_metadata_mode_selects_the_scored_text(ce_model_path, nodes):
    for mode in (MetadataMode.EMBED, MetadataMode.NONE, MetadataMode.ALL):
        reranker = CrossEncoderRerank(model=ce_model_path, top_n=None, metadata_mode=mode)
        out = reranker.postprocess_nodes(nodes, query_str=QUERY)
        expected = reranker.scorer.score(QUERY, [n.node.get_content(metadata_mode=mode) for n in nodes])
        assert {n.node.node_id: n.score for n in out} == pytest.approx(
            {n.node.node_id: float(s) for n, s in zip(nodes, expected, strict=True)}
        )
    # The modes really score different texts ("internal" is excluded from EMBED but not from ALL).
    assert nodes[0].node.get_content(metadata_mode=MetadataMode.EMBED) != nodes[0].node.get_content(
        metadata_mode=MetadataMode.ALL
    )


@pytest.mark.parametrize("keep_retrieval_score", [False, True])
def test_never_mutates_input(ce_model_path, nodes, keep_retrieval_score):
    before = copy.deepcopy(nodes)
    as_list = list(nodes)
    reranker = CrossEncoderRerank(model=ce_model_path, top_n=None, keep_retrieval_score=keep_retrieval_score)
    out = reranker.postprocess_nodes(nodes, query_str=QUERY)
    assert nodes == before
    assert nodes == as_list and all(a is b for a, b in zip(nodes, as_list, strict=True))
    assert [n.node.metadata for n in nodes] == [n.node.metadata for n in before]
    # Changing what came back does not reach the caller's objects either: with keep_retrieval_score the node
    # is a shallow copy with its own metadata dict and lists, whose values are the caller's own objects.
    by_id = {n.node.node_id: n.node for n in nodes}
    for item in out:
        item.score = -1.0
        if keep_retrieval_score:
            assert item.node.metadata["internal"] is by_id[item.node.node_id].metadata["internal"]
            item.node.metadata["touched"] = True
            del item.node.metadata["source"]
            item.node.excluded_embed_metadata_keys.append("source")
    assert nodes == before


def test_keep_retrieval_score_on_a_copy(ce_model_path, nodes):
    reranker = CrossEncoderRerank(model=ce_model_path, top_n=None, keep_retrieval_score=True)
    out = reranker.postprocess_nodes(nodes, query_str=QUERY)
    originals = {n.node.node_id: n for n in nodes}
    for item in out:
        original = originals[item.node.node_id]
        assert item.node is not original.node
        assert RETRIEVAL_SCORE_KEY not in original.node.metadata
        expected = None if original.score is None else float(original.score)
        assert item.node.metadata == {**original.node.metadata, RETRIEVAL_SCORE_KEY: expected}
        assert item.node.text == original.node.text
        assert item.node.excluded_embed_metadata_keys == original.node.excluded_embed_metadata_keys
    none_scored = next(n for n in out if n.node.node_id == "doc-1")
    assert none_scored.node.metadata[RETRIEVAL_SCORE_KEY] is None
    assert type(next(n for n in out if n.node.node_id == "doc-0").node.metadata[RETRIEVAL_SCORE_KEY]) is float


def test_empty_input_returns_empty_without_loading_a_model(recorded_events):
    reranker = CrossEncoderRerank(model="/nonexistent/cross-encoder", device="cpu")
    assert reranker.postprocess_nodes([], query_str=QUERY) == []
    assert not reranker.scorer.loaded
    kinds = [type(e) for e in recorded_events if isinstance(e, (ReRankStartEvent, ReRankEndEvent))]
    assert kinds == [ReRankStartEvent, ReRankEndEvent]
    with pytest.raises(ModelNotFoundError, match="nonexistent"):
        reranker.postprocess_nodes([NodeWithScore(node=TextNode(text="x"))], query_str=QUERY)


def test_a_blank_query_without_nodes_is_refused_between_the_events(recorded_events):
    reranker = CrossEncoderRerank(model="/nonexistent/cross-encoder")
    with pytest.raises(InvalidQueryError, match="empty"):
        reranker.postprocess_nodes([], query_str="  ")
    assert not reranker.scorer.loaded
    kinds = [type(e) for e in recorded_events if isinstance(e, (ReRankStartEvent, ReRankEndEvent))]
    assert kinds == [ReRankStartEvent, ReRankEndEvent]


def test_bad_calls_raise_clear_errors(ce_reranker, nodes):
    with pytest.raises(InvalidQueryError, match="Missing query bundle"):
        ce_reranker.postprocess_nodes(nodes)
    with pytest.raises(InvalidQueryError, match="Cannot specify both"):
        ce_reranker.postprocess_nodes(nodes, query_bundle=QueryBundle(QUERY), query_str=QUERY)
    with pytest.raises(InvalidQueryError):
        ce_reranker.postprocess_nodes(nodes, query_str="   ")
    with pytest.raises(InvalidTextError, match=r"nodes\[1\] is a TextNode"):
        ce_reranker.postprocess_nodes([nodes[0], nodes[1].node], query_str=QUERY)
    with pytest.raises(InvalidTextError, match="list of NodeWithScore"):
        ce_reranker.postprocess_nodes("not nodes", query_str=QUERY)
    with pytest.raises(InvalidQueryError, match="query_bundle"):
        ce_reranker.postprocess_nodes(nodes, query_bundle=42)


@pytest.mark.parametrize(
    "options",
    [
        {"top_n": -1},
        {"rank_window_size": 0},
        {"min_score": math.nan},
        {"batch_size": 0},
        {"activation": "softmax"},
        {"top_k": 3},  # a typo is rejected, not ignored
        {"model": ""},
    ],
)
def test_bad_options_are_rejected(options):
    with pytest.raises(ValidationError):
        CrossEncoderRerank(**options)


def test_model_type_and_scorer_conflicts_are_rejected(ce_model_path):
    with pytest.raises(TypeError, match="CrossEncoderScorer"):
        CrossEncoderRerank(model=42)
    scorer = CrossEncoderScorer(ce_model_path, device="cpu")
    with pytest.raises(InvalidArgumentError, match="batch_size, device"):
        CrossEncoderRerank(model=scorer, device="cpu", batch_size=8)
    with pytest.raises(InvalidArgumentError, match="max_length cannot be set when model is a RemoteScorer"):
        CrossEncoderRerank(model=RemoteScorer("http://127.0.0.1:9"), max_length=64)


def test_a_ready_scorer_is_used_as_is(ce_model_path, nodes):
    scorer = CrossEncoderScorer(ce_model_path, device="cpu", batch_size=3, activation="none")
    reranker = CrossEncoderRerank(model=scorer, top_n=None)
    assert reranker.scorer is scorer
    assert (reranker.model, reranker.device, reranker.batch_size, reranker.activation) == (
        ce_model_path,
        "cpu",
        3,
        "none",
    )
    out = reranker.postprocess_nodes(nodes, query_str=QUERY)
    logits = scorer.score(QUERY, [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes])
    assert sorted(n.score for n in out) == pytest.approx(sorted(float(x) for x in logits))
    assert any(n.score < 0 for n in out)  # raw logits, not sigmoid scores


def test_models_come_from_the_shared_registry(ce_model_path, ce_reranker):
    assert ce_reranker.scorer is get_scorer(ce_model_path, precision="fp32")
    assert CrossEncoderRerank(model=ce_model_path, top_n=7, precision="fp32").scorer is ce_reranker.scorer
    assert CrossEncoderRerank(model=ce_model_path, batch_size=5).scorer is not ce_reranker.scorer


def test_class_name_and_serialisation_round_trip(ce_model_path):
    reranker = CrossEncoderRerank(
        model=ce_model_path,
        top_n=4,
        device="cpu",
        min_score=0.1,
        rank_window_size=10,
        metadata_mode=MetadataMode.NONE,
        keep_retrieval_score=True,
        batch_size=8,
    )
    assert CrossEncoderRerank.class_name() == "CrossEncoderRerank"
    data = reranker.to_dict()
    assert data["class_name"] == "CrossEncoderRerank"
    for restored in (CrossEncoderRerank.from_dict(data), CrossEncoderRerank.from_json(reranker.to_json())):
        assert restored.to_dict() == data
        assert restored.scorer is reranker.scorer


def test_events_on_success(ce_model_path, nodes, recorded_events):
    debug = LlamaDebugHandler(print_trace_on_end=False)
    reranker = CrossEncoderRerank(model=ce_model_path, callback_manager=CallbackManager([debug]))
    out = reranker.postprocess_nodes(nodes, query_str=QUERY)

    rerank_events = [e for e in recorded_events if isinstance(e, (ReRankStartEvent, ReRankEndEvent))]
    assert [type(e) for e in rerank_events] == [ReRankStartEvent, ReRankEndEvent]
    start, end = rerank_events
    assert (start.query.query_str, start.top_n, start.model_name) == (QUERY, 2, ce_model_path)
    assert _ids(start.nodes) == _ids(nodes)
    assert end.nodes == out

    pairs = debug.get_event_pairs(CBEventType.RERANKING)
    assert len(pairs) == 1
    started, ended = pairs[0]
    assert started.payload[EventPayload.QUERY_STR] == QUERY
    assert started.payload[EventPayload.MODEL_NAME] == ce_model_path
    assert started.payload[EventPayload.TOP_K] == 2
    assert ended.payload[EventPayload.NODES] == out


def test_an_end_event_on_every_error_path(ce_model_path, nodes, recorded_events):
    debug = LlamaDebugHandler(print_trace_on_end=False)
    reranker = CrossEncoderRerank(model=ce_model_path, callback_manager=CallbackManager([debug]))
    with pytest.raises(ValueError, match="Missing query bundle"):
        reranker.postprocess_nodes(nodes)
    with pytest.raises(InvalidQueryError):
        reranker.postprocess_nodes(nodes, query_str="")
    kinds = [type(e) for e in recorded_events if isinstance(e, (ReRankStartEvent, ReRankEndEvent))]
    assert kinds == [ReRankStartEvent, ReRankEndEvent] * 2
    assert all(e.nodes == [] for e in recorded_events if isinstance(e, ReRankEndEvent))
    # The failed scoring call still closes its callback event, with the exception as payload.
    ((started, ended),) = debug.get_event_pairs(CBEventType.RERANKING)
    assert isinstance(ended.payload[EventPayload.EXCEPTION], InvalidQueryError)


async def test_async_equals_sync_and_leaves_the_loop_free(ce_reranker, nodes, recorded_events):
    expected = ce_reranker.postprocess_nodes(nodes, query_str=QUERY)
    task = asyncio.create_task(ce_reranker.apostprocess_nodes(nodes, query_str=QUERY))
    ticks = 0
    while not task.done():
        ticks += 1
        await asyncio.sleep(0.001)
    assert await task == expected
    assert ticks >= 3, "the event loop was blocked while reranking"

    many = await asyncio.gather(
        *(ce_reranker.apostprocess_nodes(nodes[: k + 2], query_bundle=QueryBundle(QUERY)) for k in range(4))
    )
    for k, result in enumerate(many):  # merged into shared batches: equal up to float rounding
        expected = ce_reranker.postprocess_nodes(nodes[: k + 2], query_str=QUERY)
        assert [n.node for n in result] == [n.node for n in expected]
        assert [n.score for n in result] == pytest.approx([n.score for n in expected], abs=1e-6)
    ends = [e for e in recorded_events if isinstance(e, ReRankEndEvent)]
    starts = [e for e in recorded_events if isinstance(e, ReRankStartEvent)]
    assert len(starts) == len(ends) == 10


def test_scores_are_json_ready(ce_reranker, nodes):
    out = ce_reranker.postprocess_nodes(nodes, query_str=QUERY)
    assert not any(isinstance(n.score, np.generic) for n in out)
    assert all(0.0 <= n.score <= 1.0 for n in out)
