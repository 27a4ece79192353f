"""CrossEncoderRerank on hostile input: metadata that cannot be copied or pickled, and nodes or queries that are wrong.

Real LlamaIndex objects (``TextNode``, ``ImageNode``, ``Document``, ``NodeWithScore``, ``QueryBundle``) through
``postprocess_nodes`` and ``apostprocess_nodes`` with the tiny random cross-encoder. Inputs are checked by identity
after every call: the same ``NodeWithScore`` and node objects, the same metadata dict holding the same value objects.
Bad nodes and queries raise the typed errors of ``rerank_core.errors`` with messages that name the problem.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llama_index.core.callbacks import CallbackManager, CBEventType, LlamaDebugHandler
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.schema import (
    Document,
    ImageNode,
    MediaResource,
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)

from llamaindex_rerank import RETRIEVAL_SCORE_KEY, CrossEncoderRerank
from rerank_core import InvalidArgumentError, InvalidQueryError, InvalidTextError, RerankError

QUERY = "zebrafish heart regeneration"


class NoCopy:
    """A metadata value that refuses to be copied or pickled."""

    def __deepcopy__(self, memo: dict) -> NoCopy:
        raise TypeError("NoCopy cannot be deep-copied")

    def __reduce_ex__(self, protocol: object) -> Any:
        raise TypeError("NoCopy cannot be pickled")


class BadStr:
    """A metadata value whose ``str()`` raises, so the node's text cannot be built."""

    def __str__(self) -> str:
        raise RuntimeError("str() refused")


def _counter() -> Iterator[int]:
    yield from range(3)


@dataclass
class Snapshot:
    """What a caller holds before the call: the objects themselves, so that identity can be checked after."""

    items: list[NodeWithScore]
    scores: list[float | None]
    nodes: list[Any]
    metadata: list[dict]
    values: list[list[tuple[str, Any]]]
    texts: list[Any]
    excluded: list[list[str]]
    relationships: list[dict]

    @classmethod
    def of(cls, nodes: list[NodeWithScore]) -> Snapshot:
        return cls(
            items=list(nodes),
            scores=[n.score for n in nodes],
            nodes=[n.node for n in nodes],
            metadata=[n.node.metadata for n in nodes],
            values=[list(n.node.metadata.items()) for n in nodes],
            texts=[getattr(n.node, "text", None) for n in nodes],
            excluded=[list(n.node.excluded_embed_metadata_keys) for n in nodes],
            relationships=[dict(n.node.relationships) for n in nodes],
        )

    def assert_unchanged(self, nodes: list[NodeWithScore]) -> None:
        """The list holds the same objects, each node its same metadata dict with the same keys and value objects."""
        assert len(nodes) == len(self.items)
        for i, item in enumerate(nodes):
            assert item is self.items[i] and item.score is self.scores[i]
            assert item.node is self.nodes[i]
            assert item.node.metadata is self.metadata[i]
            now = list(item.node.metadata.items())
            assert [k for k, _ in now] == [k for k, _ in self.values[i]]
            assert all(a is b for (_, a), (_, b) in zip(now, self.values[i], strict=True))
            assert getattr(item.node, "text", None) is self.texts[i]
            assert item.node.excluded_embed_metadata_keys == self.excluded[i]
            assert item.node.relationships == self.relationships[i]


@pytest.fixture
def hostile_nodes(tmp_path) -> Iterator[list[NodeWithScore]]:
    """Nodes whose metadata holds a lock, a generator, an open file and objects that refuse copying and pickling."""
    handle = (tmp_path / "open.txt").open("w+")
    handle.write("still open")
    handle.seek(3)
    nodes = [
        NodeWithScore(
            node=TextNode(
                id_="lock",
                text="Zebrafish regenerate heart muscle after injury.",
                metadata={"lock": threading.Lock(), "rlock": threading.RLock(), "tags": ["a"]},
                excluded_embed_metadata_keys=["tags"],
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="paper-1")},
            ),
            score=0.9,
        ),
        NodeWithScore(
            node=TextNode(
                id_="gen",
                text="Cardiomyocytes proliferate in fish.",
                metadata={"gen": _counter(), "event": threading.Event()},
            ),
            score=None,
        ),
        NodeWithScore(
            node=TextNode(id_="file", text="Mice do not regrow hearts.", metadata={"file": handle, "nocopy": NoCopy()}),
            score=0.1,
        ),
        NodeWithScore(node=TextNode(id_="plain", text="Bananas are yellow.", metadata={}), score=0.5),
    ]
    yield nodes
    handle.close()


def _check_results(out: list[NodeWithScore], before: Snapshot, keep: bool) -> None:
    """New ``NodeWithScore`` objects; with ``keep`` shallow copies whose metadata adds the retrieval score."""
    by_id = {node.node_id: (i, node) for i, node in enumerate(before.nodes)}
    assert len({item.node.node_id for item in out}) == len(out)
    for item in out:
        assert all(item is not original for original in before.items)
        i, original = by_id[item.node.node_id]
        if not keep:
            assert item.node is original
            continue
        assert item.node is not original and type(item.node) is type(original)
        assert item.node.metadata is not original.metadata
        expected = None if before.scores[i] is None else float(before.scores[i])
        assert item.node.metadata[RETRIEVAL_SCORE_KEY] == expected
        assert type(item.node.metadata[RETRIEVAL_SCORE_KEY]) is type(expected)
        carried = [(k, v) for k, v in item.node.metadata.items() if k != RETRIEVAL_SCORE_KEY]
        assert [k for k, _ in carried] == [k for k, _ in before.values[i] if k != RETRIEVAL_SCORE_KEY]
        assert all(v is dict(before.values[i])[k] for k, v in carried)  # the same objects, not copies
        assert item.node.text is original.text
        assert item.node.excluded_embed_metadata_keys == original.excluded_embed_metadata_keys
        assert item.node.excluded_embed_metadata_keys is not original.excluded_embed_metadata_keys
        assert item.node.relationships == original.relationships
        assert item.node.relationships is not original.relationships


def _check_values_still_work(nodes: list[NodeWithScore]) -> None:
    """The lock can be taken, the generator was not consumed, the file is open at its position."""
    meta = {n.node.node_id: n.node.metadata for n in nodes}
    lock = meta["lock"]["lock"]
    assert lock.acquire(blocking=False)
    lock.release()
    assert next(meta["gen"]["gen"]) == 0
    assert not meta["file"]["file"].closed and meta["file"]["file"].tell() == 3


@pytest.mark.parametrize("keep", [True, False])
def test_unpicklable_metadata_survives(tiny_model_dir, hostile_nodes, keep):
    before = Snapshot.of(hostile_nodes)
    reranker = CrossEncoderRerank(model=tiny_model_dir, top_n=None, keep_retrieval_score=keep)
    out = reranker.postprocess_nodes(hostile_nodes, query_str=QUERY)
    assert len(out) == len(hostile_nodes)
    before.assert_unchanged(hostile_nodes)
    assert all(RETRIEVAL_SCORE_KEY not in n.node.metadata for n in hostile_nodes)
    _check_results(out, before, keep)  # the output's values are the input's objects...
    _check_values_still_work(hostile_nodes)  # ...and they still work


@pytest.mark.parametrize("keep", [True, False])
async def test_unpicklable_metadata_survives_async_with_handlers(tiny_model_dir, hostile_nodes, recorded_events, keep):
    debug = LlamaDebugHandler(print_trace_on_end=False)
    reranker = CrossEncoderRerank(
        model=tiny_model_dir, top_n=3, keep_retrieval_score=keep, callback_manager=CallbackManager([debug])
    )
    before = Snapshot.of(hostile_nodes)
    out = await reranker.apostprocess_nodes(hostile_nodes, query_bundle=QueryBundle(QUERY))
    assert len(out) == 3
    before.assert_unchanged(hostile_nodes)
    _check_results(out, before, keep)
    _check_values_still_work(hostile_nodes)
    kinds = [type(e) for e in recorded_events if isinstance(e, (ReRankStartEvent, ReRankEndEvent))]
    assert kinds == [ReRankStartEvent, ReRankEndEvent]
    assert len(debug.get_event_pairs(CBEventType.RERANKING)) == 1


def test_changing_the_copies_never_reaches_the_input(tiny_model_dir, hostile_nodes):
    before = Snapshot.of(hostile_nodes)
    out = CrossEncoderRerank(model=tiny_model_dir, top_n=None, keep_retrieval_score=True).postprocess_nodes(
        hostile_nodes, query_str=QUERY
    )
    for item in out:
        item.score = -1.0
        item.node.metadata["touched"] = True
        item.node.metadata.pop("lock", None)
        item.node.metadata.clear()
        item.node.excluded_embed_metadata_keys.append("x")
        item.node.excluded_llm_metadata_keys.append("x")
        item.node.relationships[NodeRelationship.PARENT] = RelatedNodeInfo(node_id="elsewhere")
        item.node.text = "rewritten"
    before.assert_unchanged(hostile_nodes)
    assert hostile_nodes[0].node.relationships.keys() == {NodeRelationship.SOURCE}
    assert all(n.node.excluded_llm_metadata_keys == [] for n in hostile_nodes)


def test_a_retrieval_score_already_in_the_input_is_left_there(tiny_model_dir, hostile_nodes):
    """Reranking a reranker's output again (keep_retrieval_score both times) leaves the first output as it was."""
    reranker = CrossEncoderRerank(model=tiny_model_dir, top_n=None, keep_retrieval_score=True)
    first = reranker.postprocess_nodes(hostile_nodes, query_str=QUERY)
    before = Snapshot.of(first)
    second = reranker.postprocess_nodes(first, query_str="another query entirely")
    before.assert_unchanged(first)
    first_scores = {n.node.node_id: n.score for n in first}
    retrieval = {n.node.node_id: n.node.metadata[RETRIEVAL_SCORE_KEY] for n in second}
    assert retrieval == pytest.approx(first_scores)
    assert {n.node.node_id: n.node.metadata[RETRIEVAL_SCORE_KEY] for n in first} == {
        n.node.node_id: n.score for n in hostile_nodes
    }


METADATA_VALUES = st.one_of(
    st.integers(),
    st.text(max_size=5),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.builds(threading.Lock),
    st.builds(_counter),
    st.builds(NoCopy),
    st.builds(io.StringIO, st.text(max_size=5)),
)
METADATA = st.dictionaries(st.one_of(st.text(max_size=5), st.just(RETRIEVAL_SCORE_KEY)), METADATA_VALUES, max_size=4)
SCORES = st.one_of(st.none(), st.floats(allow_nan=False, width=32), st.integers(-3, 3))
ITEMS = st.lists(st.tuples(st.text(max_size=30), METADATA, SCORES), max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=ITEMS, keep=st.booleans(), top_n=st.one_of(st.none(), st.integers(0, 7)))
def test_any_metadata_is_carried_over_by_identity(tiny_model_dir, items, keep, top_n):
    nodes = [
        NodeWithScore(node=TextNode(id_=f"n{i}", text=text, metadata=metadata), score=score)
        for i, (text, metadata, score) in enumerate(items)
    ]
    before = Snapshot.of(nodes)
    reranker = CrossEncoderRerank(model=tiny_model_dir, top_n=top_n, keep_retrieval_score=keep)
    out = reranker.postprocess_nodes(nodes, query_str=QUERY)
    before.assert_unchanged(nodes)
    assert len(out) == (len(nodes) if top_n is None else min(top_n, len(nodes)))
    assert [n.score for n in out] == sorted((n.score for n in out), reverse=True)
    _check_results(out, before, keep)


def test_empty_and_tuple_inputs_behave_as_in_llamaindex(tiny_model_dir):
    reranker = CrossEncoderRerank(model=tiny_model_dir, top_n=None, keep_retrieval_score=True)
    assert reranker.postprocess_nodes([], query_str=QUERY) == []
    with pytest.raises(InvalidQueryError):  # nothing to score, but a blank query is refused, as in the core
        reranker.postprocess_nodes([], query_str="   ")
    assert reranker.postprocess_nodes((), query_bundle=QueryBundle(QUERY)) == []
    nodes = (NodeWithScore(node=TextNode(text="zebrafish hearts"), score=1),)
    out = reranker.postprocess_nodes(nodes, query_str=QUERY)
    assert isinstance(out, list) and out[0].node.metadata == {RETRIEVAL_SCORE_KEY: 1.0}
    assert nodes[0].node.metadata == {}


def _good() -> NodeWithScore:
    return NodeWithScore(node=TextNode(text="Zebrafish regenerate heart muscle.", metadata={"k": "v"}), score=0.5)


BUILTIN = {InvalidTextError: TypeError, InvalidQueryError: ValueError, InvalidArgumentError: ValueError}
ASK = {"query_str": QUERY}


def bad(
    case_id: str,
    nodes: Callable[[], Any],
    error: type[RerankError],
    message: str,
    call: dict[str, Any] = ASK,
    *,
    keep: bool = False,
    events: bool = False,
) -> Any:
    """One bad call: the nodes it gets, its keyword arguments, the error and message, whether rerank events fire."""
    return pytest.param(nodes, call, error, message, keep, events, id=case_id)


def _construct(**fields: Any) -> NodeWithScore:
    """A ``NodeWithScore`` around a ``TextNode`` built without validation, as a buggy loader could make one."""
    return NodeWithScore(node=TextNode.model_construct(**fields))


NONE_NODE = NodeWithScore.model_construct
BAD_CALLS = [
    bad("nodes None", lambda: None, InvalidTextError, r"nodes must be a list of NodeWithScore, got NoneType"),
    bad("nodes a string", lambda: "text", InvalidTextError, r"list of NodeWithScore, got str"),
    bad("nodes a generator", lambda: (n for n in [_good()]), InvalidTextError, r"got generator"),
    bad("None in nodes", lambda: [_good(), None], InvalidTextError, r"nodes\[1\] is a NoneType, not a NodeWithScore"),
    bad("bare TextNode", lambda: [_good(), TextNode(text="x")], InvalidTextError, r"nodes\[1\] is a TextNode, not a"),
    bad(
        "NodeWithScore of None",
        lambda: [NONE_NODE(node=None, score=1.0)],
        InvalidTextError,
        r"nodes\[0\]\.node is a NoneType, not a LlamaIndex node",
    ),
    bad(
        "NodeWithScore of a str",
        lambda: [_good(), NONE_NODE(node="text")],
        InvalidTextError,
        r"nodes\[1\]\.node is a str, not a LlamaIndex node",
    ),
    bad(
        "text None",
        lambda: [_good(), _construct(text=None, metadata={"k": "v"})],
        InvalidTextError,
        r"nodes\[1\] has no text: its text is a NoneType, not a string",
    ),
    bad(
        "text int",
        lambda: [_construct(text=42, metadata={})],
        InvalidTextError,
        r"nodes\[0\] has no text: its text is a int, not a string",
    ),
    bad("text bytes", lambda: [_construct(text=b"x", metadata={"k": 1})], InvalidTextError, r"its text is a bytes"),
    bad(
        "metadata None",
        lambda: [_construct(text="x", metadata=None)],
        InvalidTextError,
        r"nodes\[0\]\.node\.metadata is a NoneType, not a dict",
        keep=True,
    ),
    bad(
        "metadata unprintable",
        lambda: [_good(), NodeWithScore(node=TextNode(text="x", metadata={"b": BadStr()}))],
        InvalidTextError,
        r"nodes\[1\] has no readable text: its get_content\(\) raised RuntimeError: str\(\) refused",
    ),
    bad(
        "image without caption",
        lambda: [_good(), NodeWithScore(node=ImageNode(image="aGVsbG8="))],
        InvalidTextError,
        r"nodes\[1\] is an ImageNode without text",
    ),
    bad(
        "image-only Document",
        lambda: [NodeWithScore(node=Document(image_resource=MediaResource(data=b"\x89PNG")))],
        InvalidTextError,
        r"nodes\[0\] is a Document without text \(it holds only image content\)",
    ),
    bad(
        "score not a number",
        lambda: [_good(), NONE_NODE(node=TextNode(text="x"), score="high")],
        InvalidArgumentError,
        r"nodes\[1\]\.score is a str, not a number",
        keep=True,
    ),
    bad(
        "no query",
        lambda: [_good()],
        InvalidQueryError,
        r"Missing query bundle: call postprocess_nodes\(nodes, query_str=\.\.\.\)",
        {},
        events=True,
    ),
    bad("no query, no nodes", lambda: [], InvalidQueryError, r"Missing query bundle", {}, events=True),
    bad(
        "both queries",
        lambda: [_good()],
        InvalidQueryError,
        r"Cannot specify both query_str and query_bundle",
        {**ASK, "query_bundle": QueryBundle(QUERY)},
    ),
    bad(
        "query_bundle an int",
        lambda: [_good()],
        InvalidQueryError,
        r"query_bundle must be a QueryBundle or a string, got int",
        {"query_bundle": 42},
    ),
    bad("query_bundle bytes", lambda: [_good()], InvalidQueryError, r"got bytes", {"query_bundle": b"q"}),
    bad("query_bundle a dict", lambda: [], InvalidQueryError, r"got dict", {"query_bundle": {"query_str": QUERY}}),
    bad(
        "QueryBundle of None",
        lambda: [_good()],
        InvalidQueryError,
        r"The query must be a string .*got NoneType",
        {"query_bundle": QueryBundle(query_str=None)},
    ),
    bad("query_str an int", lambda: [_good()], InvalidQueryError, r"must be a string .*got int", {"query_str": 42}),
    bad(
        "query_str blank",
        lambda: [_good()],
        InvalidQueryError,
        r"The query is empty",
        {"query_str": " \n"},
        events=True,
    ),
]


def _held(nodes: object) -> tuple[list[Any], list[Any]]:
    """The objects a bad call was given (items, nodes and metadata dicts) and a copy of each metadata dict."""
    if not isinstance(nodes, list):
        return [nodes], []
    items = [getattr(n, "node", None) for n in nodes]
    metadata = [getattr(node, "metadata", None) for node in items]
    return [*nodes, *items, *metadata], [dict(m) if isinstance(m, dict) else m for m in metadata]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("nodes", "call", "error", "message", "keep", "events"), BAD_CALLS)
async def test_bad_nodes_and_queries_raise_typed_errors(
    tiny_model_dir, recorded_events, nodes, call, error, message, keep, events, mode
):
    reranker = CrossEncoderRerank(model=tiny_model_dir, top_n=None, keep_retrieval_score=keep)
    nodes = nodes()
    held = _held(nodes)
    with pytest.raises(error, match=message) as caught:
        if mode == "sync":
            reranker.postprocess_nodes(nodes, **call)
        else:
            await reranker.apostprocess_nodes(nodes, **call)
    assert isinstance(caught.value, RerankError) and isinstance(caught.value, BUILTIN[error])
    assert _held(nodes) == held  # the call changed nothing it was given, even half-valid nodes
    assert all(a is b for a, b in zip(_held(nodes)[0], held[0], strict=True))
    kinds = [type(e) for e in recorded_events if isinstance(e, (ReRankStartEvent, ReRankEndEvent))]
    # Wrong types are refused before any event; a missing or empty query closes the events it opened.
    assert kinds == ([ReRankStartEvent, ReRankEndEvent] if events else [])
