"""Every model family scores as its reference does, on tiny random checkpoints of each architecture.

Classifiers: crossrank's score of a pair equals a plain transformers forward pass of the same tokens, one pair
at a time and unpadded. LLM rerankers: the tokens equal the published recipe's (written out here from the
authors' reference code) and the score equals the recipe's formula on the full language-model head.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from model_zoo import (
    build_bert,
    build_deberta_v2,
    build_electra,
    build_gemma_causal_lm,
    build_modernbert,
    build_qwen2_causal_lm,
    build_qwen3_causal_lm,
    build_qwen_classifier,
    build_roberta,
    build_xlm_roberta,
    reference_lm_logits,
    reference_logits,
)
from transformers import AutoTokenizer

from rerank_core import CrossEncoderScorer, InvalidArgumentError, ModelLoadError
from rerank_core.engine.activation import relevance_scores
from rerank_core.engine.chunking import ChunkPlan
from rerank_core.engine.families.bge_reranker_gemma import PROMPT as GEMMA_PROMPT
from rerank_core.engine.families.mxbai_rerank_v2 import TASK_PROMPT

QUERY = "what protein do zebrafish heart cells make"
LONG = " ".join(["zebrafish heart cells regenerate after injury and the study found one result"] * 40)
TEXTS = [
    "zebrafish heart cells make a protein",
    "",
    "the river runs to the mountain city",
    LONG,
    "cancer risk increase in patients",
]
CLASSIFIERS = {
    "bert": (build_bert, {}),
    "bert-2-labels": (build_bert, {"num_labels": 2}),
    "xlm-roberta": (build_xlm_roberta, {}),
    "roberta-no-limit": (build_roberta, {}),
    "electra": (build_electra, {}),
    "deberta-v2": (build_deberta_v2, {}),
    "modernbert": (build_modernbert, {}),
    "qwen2-pad": (build_qwen_classifier, {"arch": "qwen2", "pad": "tokenizer"}),
    "qwen3-no-pad": (build_qwen_classifier, {"arch": "qwen3", "pad": "none"}),
    "qwen3-config-pad": (build_qwen_classifier, {"arch": "qwen3", "pad": "config_only"}),
}
LLM_RERANKERS = {
    "Qwen3-Reranker-0.6B": build_qwen3_causal_lm,
    "mxbai-rerank-base-v2": build_qwen2_causal_lm,
    "bge-reranker-v2-gemma": build_gemma_causal_lm,
}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory) -> dict[str, str]:
    """Every checkpoint, built once; LLM rerankers in folders named like their hub repos."""
    root = tmp_path_factory.mktemp("zoo")
    built = {name: str(builder(root / name, **options)) for name, (builder, options) in CLASSIFIERS.items()}
    built |= {name: str(builder(root / name)) for name, builder in LLM_RERANKERS.items()}
    return built


def _tokens(scorer: CrossEncoderScorer, text: str, long_documents: str = "truncate") -> list[list[int]]:
    """The token ids crossrank feeds the model for ``(QUERY, text)``: one list per window."""
    _, encoder = scorer._loaded_model()
    return [list(e.ids) for e in encoder.encode(QUERY, [text], _plan(long_documents)).encodings]


def _plan(long_documents: str) -> ChunkPlan | None:
    return None if long_documents == "truncate" else ChunkPlan()


def _classifier_reference(path: str, scorer: CrossEncoderScorer, text: str, long_documents: str) -> float:
    """The best window's raw score by plain transformers, one unpadded pair at a time."""
    _, encoder = scorer._loaded_model()
    encodings = encoder.encode(QUERY, [text], _plan(long_documents)).encodings
    uses_types = "token_type_ids" in scorer._loaded_model()[0].input_names
    logits = np.stack(
        [reference_logits(path, list(e.ids), list(e.type_ids) if uses_types else None) for e in encodings]
    )
    return float(relevance_scores(logits, "none").max())


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("long_documents", ["truncate", "max_chunk"])
def test_classifiers_score_as_transformers_does_one_pair_at_a_time(zoo, name, long_documents):
    scorer = CrossEncoderScorer(zoo[name], precision="fp32", activation="none", long_documents=long_documents)
    expected = np.array([_classifier_reference(zoo[name], scorer, text, long_documents) for text in TEXTS])
    for batch_size in (1, 3, 32):
        np.testing.assert_allclose(scorer.score(QUERY, TEXTS, batch_size=batch_size), expected, atol=1e-4)
    np.testing.assert_allclose(asyncio.run(scorer.ascore(QUERY, TEXTS)), expected, atol=1e-4)
    np.testing.assert_allclose(scorer.score(QUERY, TEXTS[:1]), expected[:1], atol=1e-4)


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifiers_on_the_graph_backends_match_torch(zoo, name, backend):
    torch_scores = CrossEncoderScorer(zoo[name], precision="fp32", activation="none").score(QUERY, TEXTS)
    graph = CrossEncoderScorer(zoo[name], backend=backend, precision="fp32", activation="none")
    np.testing.assert_allclose(graph.score(QUERY, TEXTS, batch_size=3), torch_scores, atol=1e-3)


def test_pair_templates_are_the_tokenizers_own(zoo):
    """For pairs that fit, crossrank's tokens are what the checkpoint's own tokenizer gives for (query, text)."""
    for name in ("bert", "xlm-roberta", "roberta-no-limit", "deberta-v2", "modernbert", "qwen2-pad"):
        hf = AutoTokenizer.from_pretrained(zoo[name])
        scorer = CrossEncoderScorer(zoo[name], precision="fp32")
        for text in (TEXTS[0], TEXTS[2]):  # (an empty text keeps the pair template, where HF drops the pair)
            assert _tokens(scorer, text) == [hf(QUERY, text)["input_ids"]], name
    xlmr = CrossEncoderScorer(zoo["xlm-roberta"], precision="fp32")
    ids = _tokens(xlmr, "a")[0]
    hf = AutoTokenizer.from_pretrained(zoo["xlm-roberta"])
    assert hf.convert_ids_to_tokens(ids)[-4:-2] == ["</s>", "</s>"] or "</s></s>" in "".join(
        hf.convert_ids_to_tokens(ids)
    )


def test_roberta_windows_leave_room_for_the_position_offset(zoo):
    scorer = CrossEncoderScorer(zoo["roberta-no-limit"], precision="fp32").load()
    assert scorer._loaded_model()[0].max_length == 128  # 130 positions - padding_idx 1 - 1
    assert max(len(t) for t in _tokens(scorer, LONG)) == 128
    assert np.isfinite(scorer.score(QUERY, [LONG])).all()


def test_a_tokenizer_that_joins_pairs_with_nothing_between_is_refused(tmp_path):
    from tokenizers import Tokenizer

    path = build_bert(tmp_path / "no-separator")
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.post_processor = None
    tokenizer.save(str(path / "tokenizer.json"))
    with pytest.raises(ModelLoadError, match="separator"):
        CrossEncoderScorer(str(path)).load()


# --- LLM rerankers: the published recipes, written out from the authors' code ---------------------------------


def _qwen3_recipe(tokenizer, query: str, document: str, instruction: str | None = None) -> list[int]:
    """QwenLM/Qwen3-Embedding README, "Transformers Usage": prefix + body + suffix, each tokenized alone."""
    prefix = (
        "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct "
        'provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'
    )
    suffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    instruction = instruction or "Given a web search query, retrieve relevant passages that answer the query"
    body = f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}"
    encode = lambda s: tokenizer.encode(s, add_special_tokens=False)  # noqa: E731
    return encode(prefix) + encode(body) + encode(suffix)


def _mxbai_recipe(tokenizer, query: str, document: str, instruction: str | None = None) -> list[int]:
    """mixedbread-ai/mxbai-rerank, mxbai_rerank_v2.py: every piece tokenized alone, then concatenated."""
    encode = lambda s: tokenizer(s, add_special_tokens=False)["input_ids"]  # noqa: E731
    prefix = (
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n"
    )
    query_text = f"instruction: {instruction}\nquery: {query}" if instruction else f"query: {query}"
    return (
        encode(prefix)
        + encode(query_text)
        + encode("\n")
        + encode(f"document: {document}")
        + encode("\n")
        + encode(TASK_PROMPT)
        + encode("<|im_end|>\n<|im_start|>assistant\n")
    )


def _gemma_recipe(tokenizer, query: str, document: str, instruction: str | None = None) -> list[int]:
    """FlagOpen/FlagEmbedding llm_reranker README: [bos] + "A: q" + "\\n" + "B: p" + "\\n" + prompt."""
    encode = lambda s: tokenizer(s, add_special_tokens=False)["input_ids"]  # noqa: E731
    return (
        [tokenizer.bos_token_id]
        + encode(f"A: {query}")
        + encode("\n")
        + encode(f"B: {document}")
        + encode("\n")
        + encode(GEMMA_PROMPT)
    )


RECIPES = {
    "Qwen3-Reranker-0.6B": (_qwen3_recipe, ("no", "yes")),
    "mxbai-rerank-base-v2": (_mxbai_recipe, ("0", "1")),
    "bge-reranker-v2-gemma": (_gemma_recipe, ("Yes",)),
}


def _recipe_score(path: str, ids: list[int], tokens: tuple[str, ...]) -> float:
    """The published score on the full LM head: softmax over [negative, positive], or sigmoid of the positive."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    logits = reference_lm_logits(path, ids)
    chosen = [logits[tokenizer.convert_tokens_to_ids(token)] for token in tokens]
    margin = chosen[-1] - (chosen[0] if len(chosen) == 2 else 0.0)
    return float(1 / (1 + np.exp(-margin)))


@pytest.mark.parametrize("name", LLM_RERANKERS)
def test_llm_rerankers_follow_their_published_recipe(zoo, name):
    recipe, tokens = RECIPES[name]
    tokenizer = AutoTokenizer.from_pretrained(zoo[name])
    scorer = CrossEncoderScorer(zoo[name], precision="fp32")
    fitting = [t for t in TEXTS if t is not LONG]
    for text in fitting:
        assert _tokens(scorer, text) == [recipe(tokenizer, QUERY, text)]
    expected = [_recipe_score(zoo[name], recipe(tokenizer, QUERY, t), tokens) for t in fitting]
    for batch_size in (1, 3, 32):
        np.testing.assert_allclose(scorer.score(QUERY, fitting, batch_size=batch_size), expected, atol=1e-4)
    np.testing.assert_allclose(asyncio.run(scorer.ascore(QUERY, fitting)), expected, atol=1e-4)


@pytest.mark.parametrize("name", LLM_RERANKERS)
def test_llm_rerankers_cut_the_document_never_the_template(zoo, name):
    recipe, tokens = RECIPES[name]
    tokenizer = AutoTokenizer.from_pretrained(zoo[name])
    scorer = CrossEncoderScorer(zoo[name], precision="fp32", max_length=96)
    (cut,) = _tokens(scorer, LONG)
    whole = recipe(tokenizer, QUERY, LONG)
    assert len(cut) == 96 and len(whole) > 96
    assert cut[:20] == whole[:20] and cut[-8:] == whole[-8:]  # the prefix and the suffix are intact
    chunked = CrossEncoderScorer(zoo[name], precision="fp32", max_length=96, long_documents="max_chunk")
    windows = _tokens(chunked, LONG, "max_chunk")
    assert len(windows) > 1 and all(len(w) <= 96 for w in windows)
    score = CrossEncoderScorer(zoo[name], precision="fp32", max_length=96).score(QUERY, [LONG])[0]
    assert score == pytest.approx(_recipe_score(zoo[name], cut, tokens), abs=1e-4)
    best = max(_recipe_score(zoo[name], window, tokens) for window in windows)
    assert chunked.score(QUERY, [LONG], batch_size=3)[0] == pytest.approx(best, abs=1e-4)


def test_instructions_reach_the_prompt_and_the_cache_key(zoo):
    path = zoo["Qwen3-Reranker-0.6B"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    scorer = CrossEncoderScorer(path, precision="fp32", cache_size=100)
    mine = "Given a claim, find abstracts that support it"
    default, custom = scorer.score(QUERY, TEXTS[:1]), scorer.score(QUERY, TEXTS[:1], instruction=mine)
    assert default[0] != custom[0]
    expected = _recipe_score(path, _qwen3_recipe(tokenizer, QUERY, TEXTS[0], mine), ("no", "yes"))
    assert custom[0] == pytest.approx(expected, abs=1e-4)
    configured = CrossEncoderScorer(path, precision="fp32", instruction=mine)
    assert configured.score(QUERY, TEXTS[:1])[0] == pytest.approx(expected, abs=1e-4)
    mxbai = CrossEncoderScorer(zoo["mxbai-rerank-base-v2"], precision="fp32")
    assert _tokens(mxbai, TEXTS[0]) == [
        _mxbai_recipe(AutoTokenizer.from_pretrained(mxbai.model_name_or_path), QUERY, TEXTS[0])
    ]
    with pytest.raises(InvalidArgumentError, match="instruction"):
        CrossEncoderScorer(zoo["bert"]).score(QUERY, TEXTS[:1], instruction=mine)


def test_families_are_detected_named_or_refused(zoo, tmp_path):
    import shutil

    for name, family in [("bert", "cross-encoder"), ("qwen3-no-pad", "decoder-classifier")]:
        assert CrossEncoderScorer(zoo[name]).load()._loaded_model()[0].family.name == family
    for name, family in [("Qwen3-Reranker-0.6B", "qwen3-reranker"), ("bge-reranker-v2-gemma", "bge-reranker-gemma")]:
        assert CrossEncoderScorer(zoo[name]).load()._loaded_model()[0].family.name == family
    anonymous = tmp_path / "my-reranker"
    shutil.copytree(zoo["Qwen3-Reranker-0.6B"], anonymous)
    with pytest.raises(ModelLoadError, match="family="):
        CrossEncoderScorer(str(anonymous)).load()
    named = CrossEncoderScorer(str(anonymous), family="qwen3-reranker", precision="fp32")
    reference = CrossEncoderScorer(zoo["Qwen3-Reranker-0.6B"], precision="fp32")
    np.testing.assert_allclose(named.score(QUERY, TEXTS[:3]), reference.score(QUERY, TEXTS[:3]), atol=1e-6)
    with pytest.raises(InvalidArgumentError, match="Unknown family"):
        CrossEncoderScorer(zoo["bert"], family="nope")


def test_a_model_without_a_reranking_head_is_refused(tmp_path):
    from transformers import AutoConfig, AutoModel

    path = build_bert(tmp_path / "bare")
    AutoModel.from_config(AutoConfig.from_pretrained(path)).save_pretrained(path)
    with pytest.raises(ModelLoadError, match="not a reranker"):
        CrossEncoderScorer(str(path)).load()


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
@pytest.mark.parametrize("name", LLM_RERANKERS)
def test_llm_rerankers_run_on_the_graph_backends_with_the_sliced_head_inside_the_graph(zoo, name, backend):
    torch_scores = CrossEncoderScorer(zoo[name], precision="fp32").score(QUERY, TEXTS)
    graph = CrossEncoderScorer(zoo[name], backend=backend, precision="fp32")
    np.testing.assert_allclose(graph.score(QUERY, TEXTS, batch_size=3), torch_scores, atol=1e-3)
    assert graph._loaded_model()[0].family.name == CrossEncoderScorer(zoo[name]).load()._loaded_model()[0].family.name


@pytest.mark.parametrize("name", ["xlm-roberta", "qwen3-no-pad", "Qwen3-Reranker-0.6B", "bge-reranker-v2-gemma"])
def test_both_adapters_rank_every_family_as_the_core(zoo, name):
    from langchain_core.documents import Document
    from llama_index.core.schema import NodeWithScore, TextNode

    from langchain_rerank import CrossEncoderReranker
    from llamaindex_rerank import CrossEncoderRerank

    core = CrossEncoderScorer(zoo[name], precision="fp32").rank(QUERY, TEXTS, top_n=3)
    docs = [Document(page_content=t, id=str(i)) for i, t in enumerate(TEXTS)]
    langchain = CrossEncoderReranker(model=zoo[name], top_n=3, precision="fp32").compress_documents(docs, QUERY)
    nodes = [NodeWithScore(node=TextNode(text=t, id_=str(i))) for i, t in enumerate(TEXTS)]
    llamaindex = CrossEncoderRerank(model=zoo[name], top_n=3, precision="fp32", metadata_mode="none")
    ranked = llamaindex.postprocess_nodes(nodes, query_str=QUERY)
    assert [d.id for d in langchain] == [n.node.node_id for n in ranked] == [str(h.index) for h in core]
    np.testing.assert_allclose([d.metadata["relevance_score"] for d in langchain], [h.score for h in core], atol=1e-6)


def test_both_adapters_take_an_instruction(zoo):
    from langchain_core.documents import Document
    from llama_index.core.schema import NodeWithScore, TextNode

    from langchain_rerank import CrossEncoderReranker
    from llamaindex_rerank import CrossEncoderRerank

    path, mine = zoo["Qwen3-Reranker-0.6B"], "Given a claim, find abstracts that support it"
    core = CrossEncoderScorer(path, precision="fp32").rank(QUERY, TEXTS, instruction=mine)
    docs = [Document(page_content=t) for t in TEXTS]
    langchain = CrossEncoderReranker(model=path, top_n=None, precision="fp32", instruction=mine)
    nodes = [NodeWithScore(node=TextNode(text=t)) for t in TEXTS]
    llamaindex = CrossEncoderRerank(model=path, top_n=None, precision="fp32", instruction=mine, metadata_mode="none")
    expected = [h.score for h in core]
    got_lc = [d.metadata["relevance_score"] for d in langchain.compress_documents(docs, QUERY)]
    got_li = [n.score for n in llamaindex.postprocess_nodes(nodes, query_str=QUERY)]
    np.testing.assert_allclose(got_lc, expected, atol=1e-6)
    np.testing.assert_allclose(got_li, expected, atol=1e-6)


def test_a_sequence_classification_conversion_reads_its_llm_recipe(tmp_path):
    path = str(build_qwen_classifier(tmp_path / "Qwen3-Reranker-0.6B-seq-cls", arch="qwen3", pad="tokenizer"))
    scorer = CrossEncoderScorer(path, precision="fp32", activation="none").load()
    assert scorer._loaded_model()[0].family.head == "last-token-classifier"
    tokenizer = AutoTokenizer.from_pretrained(path)
    ids = _qwen3_recipe(tokenizer, QUERY, TEXTS[0])
    assert _tokens(scorer, TEXTS[0]) == [ids]
    assert scorer.score(QUERY, TEXTS[:1])[0] == pytest.approx(float(reference_logits(path, ids)[0]), abs=1e-4)


def test_mxbai_calibration_is_the_packages_normalize(zoo, tmp_path):
    import shutil

    raw = CrossEncoderScorer(zoo["mxbai-rerank-base-v2"], precision="fp32", activation="none").score(QUERY, TEXTS)
    calibrated = CrossEncoderScorer(zoo["mxbai-rerank-base-v2"], precision="fp32", activation="calibrated")
    np.testing.assert_allclose(calibrated.score(QUERY, TEXTS), 1 / (1 + np.exp(-(raw - 9.0 / 2))), atol=1e-6)
    large = tmp_path / "mxbai-rerank-large-v2"
    shutil.copytree(zoo["mxbai-rerank-base-v2"], large)
    scores = CrossEncoderScorer(str(large), precision="fp32", activation="calibrated").score(QUERY, TEXTS)
    np.testing.assert_allclose(scores, 1 / (1 + np.exp(-(raw - 12.0 / 2))), atol=1e-6)
    with pytest.raises(InvalidArgumentError, match="calibrat"):
        CrossEncoderScorer(zoo["bert"], activation="calibrated").score(QUERY, TEXTS)
