"""CrossEncoderRerank takes the arguments of both SentenceTransformerRerank classes it replaces.

llama-index-core's ``SentenceTransformerRerank(top_n, model, device, keep_retrieval_score, trust_remote_code)``
and llama-index-postprocessor-sbert-rerank 0.6.0's ``SentenceTransformerRerank(model, device, cache_folder, top_n,
keep_retrieval_score, cross_encoder_kwargs)``: each argument is accepted in its own positional order and by
keyword, mapped as the README's table says, and bad combinations are refused. Models are the real ones.
"""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import numpy as np
import pytest
import torch
from llama_index.core.postprocessor import SentenceTransformerRerank
from llama_index.core.schema import NodeWithScore, TextNode
from sentence_transformers import CrossEncoder

from llamaindex_rerank import CrossEncoderRerank
from rerank_core import (
    CrossEncoderScorer,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidCallError,
    RemoteScorer,
    get_scorer,
)

QUERY = "Aspirin lowers the risk of a first heart attack."
TEXTS = [
    "Bananas are rich in potassium and grow in tropical climates.",
    "In a randomised trial, low-dose aspirin reduced first myocardial infarction in men.",
    "The heart pumps blood through the body.",
]
SBERT_RERANK_0_6_0 = [
    "self",
    "model",
    "device",
    "cache_folder",
    "top_n",
    "keep_retrieval_score",
    "cross_encoder_kwargs",
]
"""llama-index-postprocessor-sbert-rerank 0.6.0's ``SentenceTransformerRerank.__init__`` parameters, in order."""
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
"""What ``device=None`` resolves to here."""


@pytest.fixture
def nodes() -> list[NodeWithScore]:
    return [NodeWithScore(node=TextNode(id_=f"doc-{i}", text=text), score=0.5) for i, text in enumerate(TEXTS)]


def _settings(reranker: CrossEncoderRerank) -> tuple:
    return (reranker.top_n, reranker.model, reranker.device, reranker.keep_retrieval_score)


def test_both_signatures_are_overloads_a_type_checker_sees():
    core, integration = typing.get_overloads(CrossEncoderRerank.__init__)
    theirs = inspect.signature(SentenceTransformerRerank.__init__).parameters
    ours = inspect.signature(core).parameters
    assert list(ours)[: len(theirs)] == list(theirs)
    assert list(inspect.signature(integration).parameters)[: len(SBERT_RERANK_0_6_0)] == SBERT_RERANK_0_6_0
    for name in ("top_n", "device", "keep_retrieval_score"):  # the defaults both classes share
        assert ours[name].default == theirs[name].default
    assert ours["trust_remote_code"].default is False  # theirs: True in __init__ (its field says False)


def test_core_order_top_n_first(ce_model_path):
    reranker = CrossEncoderRerank(3, ce_model_path, "cpu", True, True)
    assert _settings(reranker) == (3, ce_model_path, "cpu", True)
    assert reranker.trust_remote_code is True
    assert CrossEncoderRerank(None, ce_model_path).top_n is None
    assert _settings(CrossEncoderRerank(4)) == (4, "cross-encoder/ms-marco-MiniLM-L6-v2", None, False)
    assert CrossEncoderRerank().trust_remote_code is False


def test_integration_order_model_first(ce_model_path, tmp_path):
    kwargs = {"max_length": 128, "activation_fn": torch.nn.Identity()}
    given = dict(kwargs)
    reranker = CrossEncoderRerank(ce_model_path, "cpu", tmp_path / "hub", 3, True, kwargs)
    assert _settings(reranker) == (3, ce_model_path, "cpu", True)
    assert reranker.cache_folder == str(tmp_path / "hub")
    assert reranker.cross_encoder_kwargs == given and kwargs == given  # kept as given, not changed
    assert (reranker.max_length, reranker.activation) == (128, "none")
    assert reranker.scorer.options.cache_folder == str(tmp_path / "hub")
    assert _settings(CrossEncoderRerank(ce_model_path)) == (2, ce_model_path, None, False)
    scorer = CrossEncoderScorer(ce_model_path, device="cpu")
    assert CrossEncoderRerank(scorer, top_n=1).scorer is scorer  # a Scorer first is a model too


def test_every_argument_by_keyword(ce_model_path, tmp_path):
    reranker = CrossEncoderRerank(
        model=ce_model_path,
        device="cpu",
        cache_folder=tmp_path,
        top_n=5,
        keep_retrieval_score=True,
        trust_remote_code=False,
        cross_encoder_kwargs={"max_length": 64},
    )
    assert _settings(reranker) == (5, ce_model_path, "cpu", True)
    assert (reranker.cache_folder, reranker.max_length) == (str(tmp_path), 64)


@pytest.mark.parametrize(
    ("cross_encoder_kwargs", "options"),
    [
        ({"max_length": 128}, {"max_length": 128}),
        ({"max_length": None}, {"max_length": None}),
        ({"trust_remote_code": True}, {"trust_remote_code": True}),
        ({"backend": "onnx"}, {"backend": "onnx"}),
        ({"backend": "torch"}, {"backend": "torch"}),
        ({"model_kwargs": {"attn_implementation": "eager"}}, {"model_kwargs": {"attn_implementation": "eager"}}),
        ({"automodel_args": {"attn_implementation": "eager"}}, {"model_kwargs": {"attn_implementation": "eager"}}),
        ({"cache_folder": Path("/tmp/hub")}, {"cache_folder": "/tmp/hub"}),
        ({"activation_fn": torch.nn.Sigmoid()}, {"activation": "sigmoid"}),
        ({"activation_fn": torch.nn.Identity()}, {"activation": "none"}),
        ({"activation_fn": None}, {"activation": "sigmoid"}),
        ({}, {"max_length": None, "activation": "sigmoid"}),  # no 512 default: the model's own limit
    ],
    ids=lambda value: ",".join(value) if isinstance(value, dict) and value else None,
)
def test_cross_encoder_kwargs_set_scorer_options(ce_model_path, cross_encoder_kwargs, options):
    reranker = CrossEncoderRerank(ce_model_path, cross_encoder_kwargs=cross_encoder_kwargs)
    assert {name: getattr(reranker, name) for name in options} == options
    assert {name: getattr(reranker.scorer.options, name) for name in options} == options


def test_cross_encoder_kwargs_score_as_sentence_transformers_does(ce_model_path, nodes):
    """The keywords mean here what they mean to sentence-transformers' CrossEncoder (fp32, raw logits)."""
    kwargs = {"max_length": 128, "activation_fn": torch.nn.Identity()}
    reranker = CrossEncoderRerank(ce_model_path, None, None, None, False, kwargs, precision="fp32")
    ours = {n.node.node_id: n.score for n in reranker.postprocess_nodes(nodes, query_str=QUERY)}
    theirs = CrossEncoder(ce_model_path, device="cpu", **kwargs).predict([(QUERY, text) for text in TEXTS])
    np.testing.assert_allclose([ours[f"doc-{i}"] for i in range(len(TEXTS))], theirs, atol=1e-4)


@pytest.mark.parametrize(
    ("cross_encoder_kwargs", "message"),
    [
        ({"device": "cpu"}, "top-level device"),
        ({"model": "x"}, "top-level model"),
        ({"revision": "main"}, "--revision"),
        ({"local_files_only": True}, "HF_HUB_OFFLINE=1"),
        ({"token": "hf_secret"}, "HF_TOKEN"),
        ({"tokenizer_kwargs": {"use_fast": True}}, "fast tokenizer"),
        ({"processor_kwargs": {}}, "fast tokenizer"),
        ({"config_kwargs": {"num_labels": 1}}, "config as saved"),
        ({"num_labels": 1}, "does not map it"),
    ],
    ids=lambda value: ",".join(value) if isinstance(value, dict) else None,
)
def test_refused_keys_name_the_supported_ones(ce_model_path, cross_encoder_kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message) as info:
        CrossEncoderRerank(ce_model_path, cross_encoder_kwargs=cross_encoder_kwargs)
    assert isinstance(info.value, ValueError)  # as the integration package's ValueError for device and model
    supported = "max_length, trust_remote_code, backend, model_kwargs, automodel_args, cache_folder, activation_fn"
    assert f"The supported keys are {supported}." in str(info.value)


@pytest.mark.parametrize(
    ("cross_encoder_kwargs", "message"),
    [
        ({"activation_fn": torch.nn.Tanh()}, "applies torch.nn.Sigmoid"),
        ({"activation_fn": torch.nn.Sigmoid}, "applies torch.nn.Sigmoid"),  # the class, not a module
        ({"model_kwargs": {}, "automodel_args": {}}, r"sets model_kwargs twice \(model_kwargs and automodel_args\)"),
    ],
    ids=["another activation", "an activation class", "model_kwargs twice"],
)
def test_values_crossrank_cannot_honour_are_refused(ce_model_path, cross_encoder_kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        CrossEncoderRerank(ce_model_path, cross_encoder_kwargs=cross_encoder_kwargs)


def test_an_option_given_twice_must_agree(ce_model_path, tmp_path):
    with pytest.raises(InvalidArgumentError, match="max_length=64 directly and 128 in cross_encoder_kwargs"):
        CrossEncoderRerank(ce_model_path, max_length=64, cross_encoder_kwargs={"max_length": 128})
    with pytest.raises(InvalidArgumentError, match="activation='calibrated' directly and 'sigmoid' in"):
        CrossEncoderRerank(ce_model_path, activation="calibrated", cross_encoder_kwargs={"activation_fn": None})
    agreeing = CrossEncoderRerank(ce_model_path, max_length=128, cross_encoder_kwargs={"max_length": 128})
    assert agreeing.max_length == 128
    # A positional placeholder at its default (cache_folder=None) leaves the keyword to cross_encoder_kwargs.
    reranker = CrossEncoderRerank(ce_model_path, None, None, 2, False, {"cache_folder": str(tmp_path)})
    assert reranker.cache_folder == str(tmp_path)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("m", None, None, 2, False, {}, "extra"), {}, InvalidCallError, "at most 6 positional.*sbert-rerank"),
        ((2, "m", None, False, False, "extra"), {}, InvalidCallError, "at most 5 positional.*llama-index-core"),
        (("m",), {"model": "m"}, InvalidCallError, "model both positionally"),
        ((3,), {"top_n": 3}, InvalidCallError, "top_n both positionally"),
        (("m", "cpu"), {"device": "cpu"}, InvalidCallError, "device both positionally"),
        ((2.5,), {}, InvalidArgumentTypeError, "first positional argument must be a model"),
        ((b"model",), {}, InvalidArgumentTypeError, "got bytes"),
        (("m",), {"cross_encoder_kwargs": "max_length=128"}, InvalidArgumentTypeError, "cross_encoder_kwargs must"),
    ],
)
def test_bad_combinations_are_refused_as_type_errors(ce_model_path, args, kwargs, error, message):
    args = tuple(ce_model_path if arg == "m" else arg for arg in args)
    kwargs = {name: ce_model_path if value == "m" else value for name, value in kwargs.items()}
    with pytest.raises(error, match=message) as info:
        CrossEncoderRerank(*args, **kwargs)
    assert isinstance(info.value, TypeError)  # what Python raises for such a call


def test_cross_encoder_kwargs_configure_a_model_loaded_here(ce_model_path):
    scorer = CrossEncoderScorer(ce_model_path)
    with pytest.raises(InvalidArgumentError, match="max_length cannot be set when model is a CrossEncoderScorer"):
        CrossEncoderRerank(scorer, cross_encoder_kwargs={"max_length": 64})
    with pytest.raises(InvalidArgumentError, match="cache_folder cannot be set when model is a RemoteScorer"):
        CrossEncoderRerank(RemoteScorer("http://127.0.0.1:9"), None, "/tmp/hub")
    assert CrossEncoderRerank(scorer, None, None, 2, False, None).scorer is scorer  # defaults set nothing


def test_round_trips_with_cross_encoder_kwargs(ce_model_path):
    reranker = CrossEncoderRerank(
        ce_model_path, "cpu", None, 4, cross_encoder_kwargs={"activation_fn": torch.nn.Identity()}
    )
    data = reranker.to_dict()
    assert data["cross_encoder_kwargs"]["activation_fn"] is reranker.cross_encoder_kwargs["activation_fn"]
    restored = CrossEncoderRerank.from_dict(data)
    assert restored.to_dict() == data and restored.activation == "none"
    assert restored.scorer is reranker.scorer
    as_json = CrossEncoderRerank(ce_model_path, "cpu", None, 4, cross_encoder_kwargs={"max_length": 128})
    from_json = CrossEncoderRerank.from_json(as_json.to_json())
    assert from_json.to_dict() == as_json.to_dict() and from_json.cross_encoder_kwargs == {"max_length": 128}


def test_device_is_none_until_loaded_then_the_device_in_use(ce_model_path, nodes):
    reranker = CrossEncoderRerank(ce_model_path, batch_size=7)  # options of this test's own: a fresh scorer
    scorer = reranker.scorer
    assert reranker.device is None and not scorer.loaded
    first = reranker.postprocess_nodes(nodes, query_str=QUERY)
    assert reranker.device == DEVICE == scorer.device_used
    assert reranker.scorer is scorer  # recording the device did not pick (and load) another scorer
    assert reranker.postprocess_nodes(nodes, query_str=QUERY) == first
    assert CrossEncoderRerank(ce_model_path, DEVICE, batch_size=7).scorer is scorer
    assert get_scorer(ce_model_path, batch_size=7) is scorer
    reranker.device = None  # set back by hand: still the same loaded model
    assert reranker.scorer is scorer


async def test_device_is_recorded_by_async_calls_and_load(ce_model_path, nodes):
    reranker = CrossEncoderRerank(ce_model_path, batch_size=9)
    scorer = reranker.scorer
    await reranker.apostprocess_nodes(nodes, query_str=QUERY)
    assert reranker.device == DEVICE and reranker.scorer is scorer
    loaded = CrossEncoderRerank(ce_model_path, batch_size=9)
    assert loaded.device is None
    assert loaded.load() is loaded and loaded.device == DEVICE and loaded.scorer is scorer
    remote = CrossEncoderRerank(RemoteScorer("http://127.0.0.1:9"))
    assert remote.load().device is None  # a served model's device is the server's


def test_a_ready_scorer_reports_its_device_once_loaded(ce_model_path, nodes):
    scorer = CrossEncoderScorer(ce_model_path)
    reranker = CrossEncoderRerank(scorer)
    assert reranker.device is None
    reranker.postprocess_nodes(nodes, query_str=QUERY)
    assert reranker.device == DEVICE and reranker.scorer is scorer
