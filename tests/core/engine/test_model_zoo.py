"""The tiny random checkpoints of tests/model_zoo.py load with plain transformers and tokenize as their real models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from model_zoo import (
    ANSWER_TOKENS,
    QWEN3_THINK_TOKENS,
    QWEN_SPECIAL_TOKENS,
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
from safetensors.numpy import load_file
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

# name: (builder, options, folder name)
VARIANTS = {
    "bert": (build_bert, {}, "bert"),
    "bert_2_labels": (build_bert, {"num_labels": 2}, "bert-2"),
    "electra": (build_electra, {}, "electra"),
    "xlm_roberta": (build_xlm_roberta, {}, "bge-reranker-base"),
    "roberta": (build_roberta, {}, "roberta"),
    "deberta_v2": (build_deberta_v2, {}, "deberta-v3"),
    "modernbert": (build_modernbert, {}, "modernbert"),
    "qwen2_classifier": (build_qwen_classifier, {"arch": "qwen2"}, "qwen2-cls"),
    "qwen3_classifier": (build_qwen_classifier, {"arch": "qwen3"}, "qwen3-cls"),
    "qwen2_classifier_no_pad": (build_qwen_classifier, {"arch": "qwen2", "pad": "none"}, "qwen2-cls-no-pad"),
    "qwen3_classifier_config_pad": (build_qwen_classifier, {"arch": "qwen3", "pad": "config_only"}, "qwen3-cls-cfg"),
    "qwen3_classifier_chat": (build_qwen_classifier, {"arch": "qwen3", "chat_template": True}, "qwen3-cls-chat"),
    "qwen3_causal_lm": (build_qwen3_causal_lm, {}, "Qwen3-Reranker-0.6B"),
    "qwen2_causal_lm": (build_qwen2_causal_lm, {}, "mxbai-rerank-base-v2"),
    "gemma_causal_lm": (build_gemma_causal_lm, {}, "bge-reranker-v2-gemma"),
}
CAUSAL = ("qwen3_causal_lm", "qwen2_causal_lm", "gemma_causal_lm")
CLASSIFIERS = tuple(name for name in VARIANTS if name not in CAUSAL)
QWEN_CLASSIFIERS = tuple(name for name in CLASSIFIERS if name.startswith("qwen"))

# name: (model class, pair tokens of ("query", "document"), type ids or None where token_type_ids is no input)
PAIRS = {
    "bert": ("BertForSequenceClassification", "[CLS] query [SEP] document [SEP]", [0, 0, 0, 1, 1]),
    "bert_2_labels": ("BertForSequenceClassification", "[CLS] query [SEP] document [SEP]", [0, 0, 0, 1, 1]),
    "electra": ("ElectraForSequenceClassification", "[CLS] query [SEP] document [SEP]", [0, 0, 0, 1, 1]),
    "xlm_roberta": ("XLMRobertaForSequenceClassification", "<s> ▁query </s> </s> ▁document </s>", None),
    "roberta": ("RobertaForSequenceClassification", "<s> query </s> </s> document </s>", None),
    "deberta_v2": ("DebertaV2ForSequenceClassification", "[CLS] ▁query [SEP] ▁document [SEP]", [0, 0, 0, 1, 1]),
    "modernbert": ("ModernBertForSequenceClassification", "[CLS] query [SEP] document [SEP]", None),
    "qwen2_classifier": ("Qwen2ForSequenceClassification", "query <|im_end|> document <|endoftext|>", None),
    "qwen3_classifier": ("Qwen3ForSequenceClassification", "query <|im_end|> document <|endoftext|>", None),
    "qwen2_classifier_no_pad": ("Qwen2ForSequenceClassification", "query <|im_end|> document <|endoftext|>", None),
    "qwen3_classifier_config_pad": ("Qwen3ForSequenceClassification", "query <|im_end|> document <|endoftext|>", None),
    "qwen3_classifier_chat": ("Qwen3ForSequenceClassification", "query <|im_end|> document <|endoftext|>", None),
}
LM_CLASSES = {
    "qwen3_causal_lm": "Qwen3ForCausalLM",
    "qwen2_causal_lm": "Qwen2ForCausalLM",
    "gemma_causal_lm": "GemmaForCausalLM",
}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory) -> dict[str, Path]:
    """Every variant, built once for the module."""
    root = tmp_path_factory.mktemp("zoo")
    return {name: builder(root / folder, **options) for name, (builder, options, folder) in VARIANTS.items()}


def _tokens(tokenizer, ids: list[int]) -> str:
    return " ".join(tokenizer.convert_ids_to_tokens(ids))


def test_every_builder_is_covered():
    assert set(PAIRS) == set(CLASSIFIERS)
    assert set(LM_CLASSES) == set(CAUSAL)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_folder_holds_a_fast_tokenizer_and_safetensors(zoo, name):
    files = {path.name for path in zoo[name].iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= files
    assert "special_tokens_map.json" in files
    assert not files & {"pytorch_model.bin", "vocab.txt", "sentencepiece.bpe.model"}
    assert AutoTokenizer.from_pretrained(zoo[name]).is_fast


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_loads_and_encodes_pairs_with_its_real_template(zoo, name):
    model_class, expected, type_ids = PAIRS[name]
    tokenizer = AutoTokenizer.from_pretrained(zoo[name])
    model = AutoModelForSequenceClassification.from_pretrained(zoo[name])
    assert type(model).__name__ == model_class
    assert AutoConfig.from_pretrained(zoo[name]).num_labels == (2 if name == "bert_2_labels" else 1)
    encoded = tokenizer("query", "document")
    assert _tokens(tokenizer, encoded["input_ids"]) == expected
    if type_ids is None:
        assert "token_type_ids" not in tokenizer.model_input_names and "token_type_ids" not in encoded
    else:
        assert encoded["token_type_ids"] == type_ids
    # What crossrank's PairEncoder relies on: the backend's template joins two sequences around special tokens.
    pair = tokenizer.backend_tokenizer.encode("query", "document")
    assert None in pair.sequence_ids and {0, 1} <= set(pair.sequence_ids)


@pytest.mark.parametrize("name", ["xlm_roberta", "roberta"])
def test_roberta_family_has_real_ids_zero_type_ids_and_a_padding_offset(zoo, name):
    tokenizer = AutoTokenizer.from_pretrained(zoo[name])
    config = AutoConfig.from_pretrained(zoo[name])
    ids = [tokenizer.convert_tokens_to_ids(token) for token in ("<s>", "<pad>", "</s>", "<unk>")]
    assert ids == [0, 1, 2, 3]
    assert tokenizer.convert_tokens_to_ids("<mask>") == len(tokenizer) - 1
    assert (tokenizer.bos_token, tokenizer.cls_token, tokenizer.sep_token, tokenizer.eos_token) == ("<s>",) * 2 + (
        "</s>",
    ) * 2
    assert tokenizer.pad_token_id == config.pad_token_id == 1
    assert (config.type_vocab_size, config.max_position_embeddings) == (1, 130)
    assert tokenizer("query", "document", return_token_type_ids=True)["token_type_ids"] == [0] * 6
    assert tokenizer.model_max_length == (128 if name == "xlm_roberta" else int(1e30))


def test_xlm_roberta_takes_128_tokens_not_129(zoo):
    path = zoo["xlm_roberta"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    word = tokenizer.convert_tokens_to_ids("▁cell")
    assert reference_logits(path, [0] + [word] * 126 + [2]).shape == (1,)
    with pytest.raises((IndexError, RuntimeError)):
        reference_logits(path, [0] + [word] * 127 + [2])


def test_deberta_v3_ignores_type_ids_and_has_relative_attention(zoo):
    path = zoo["deberta_v2"]
    config = AutoConfig.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert config.type_vocab_size == 0 and config.relative_attention and not config.position_biased_input
    assert [tokenizer.convert_tokens_to_ids(t) for t in ("[PAD]", "[CLS]", "[SEP]", "[UNK]")] == [0, 1, 2, 3]
    encoded = tokenizer("query", "document")
    with_types = reference_logits(path, encoded["input_ids"], encoded["token_type_ids"])
    np.testing.assert_array_equal(with_types, reference_logits(path, encoded["input_ids"]))


def test_modernbert_ids_match_its_config(zoo):
    config = AutoConfig.from_pretrained(zoo["modernbert"])
    tokenizer = AutoTokenizer.from_pretrained(zoo["modernbert"])
    assert (config.cls_token_id, config.sep_token_id, config.pad_token_id) == (
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
        tokenizer.pad_token_id,
    )
    assert config.layer_types == ["full_attention", "sliding_attention"]


@pytest.mark.parametrize(
    ("name", "tokenizer_pad", "config_pad"),
    [
        ("qwen2_classifier", True, True),
        ("qwen3_classifier", True, True),
        ("qwen2_classifier_no_pad", False, False),
        ("qwen3_classifier_config_pad", False, True),
        ("qwen3_classifier_chat", True, True),
    ],
)
def test_qwen_classifier_pad_variants(zoo, name, tokenizer_pad, config_pad):
    tokenizer = AutoTokenizer.from_pretrained(zoo[name])
    config = AutoConfig.from_pretrained(zoo[name])
    assert (tokenizer.chat_template is not None) is name.endswith("_chat")
    endoftext = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert tokenizer.pad_token == ("<|endoftext|>" if tokenizer_pad else None)
    assert config.pad_token_id == (endoftext if config_pad else None)
    assert config.num_labels == 1 and config.vocab_size >= len(tokenizer)


@pytest.mark.parametrize("name", [*CAUSAL, *QWEN_CLASSIFIERS])
def test_answer_tokens_are_single_tokens(zoo, name):
    tokenizer = AutoTokenizer.from_pretrained(zoo[name])
    space = "▁" if name.startswith("gemma") else "Ġ"
    for token in ANSWER_TOKENS:
        token_id = tokenizer.convert_tokens_to_ids(token)
        assert token_id is not None and token_id != tokenizer.unk_token_id, token
        assert tokenizer(token, add_special_tokens=False)["input_ids"] == [token_id], token
        spaced = tokenizer.convert_ids_to_tokens(tokenizer(" " + token, add_special_tokens=False)["input_ids"])
        # Qwen's pre-tokenizer, like the real one, splits a digit from the space before it.
        assert spaced == (["Ġ", token] if space == "Ġ" and token.isdigit() else [space + token]), token


@pytest.mark.parametrize("name", ["qwen3_causal_lm", "qwen2_causal_lm", "qwen3_classifier", "qwen2_classifier"])
def test_qwen_chat_tokens(zoo, name):
    tokenizer = AutoTokenizer.from_pretrained(zoo[name])
    qwen3 = "qwen3" in name
    for token in QWEN_SPECIAL_TOKENS:
        assert len(tokenizer(token, add_special_tokens=False)["input_ids"]) == 1
        assert token in tokenizer.all_special_tokens
    for token in QWEN3_THINK_TOKENS:
        ids = tokenizer(token, add_special_tokens=False)["input_ids"]
        # Qwen3: added tokens that are never split but, as in the real tokenizer, not special. Qwen2 has none.
        assert (len(ids) == 1) is qwen3
        assert token not in tokenizer.all_special_tokens
    assert tokenizer.eos_token == "<|im_end|>"
    suffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    tokens = tokenizer.convert_ids_to_tokens(tokenizer(suffix, add_special_tokens=False)["input_ids"])
    assert tokens[:4] == ["<|im_end|>", "Ċ", "<|im_start|>", "assistant"]
    assert (tokens[5:8] == ["<think>", "ĊĊ", "</think>"]) is qwen3


@pytest.mark.parametrize("name", ["qwen3_causal_lm", "qwen2_causal_lm"])
def test_qwen_causal_lm_prompt_conventions(zoo, name):
    path = zoo[name]
    tokenizer = AutoTokenizer.from_pretrained(path)
    config = AutoConfig.from_pretrained(path)
    assert type(AutoModelForCausalLM.from_pretrained(path)).__name__ == LM_CLASSES[name]
    assert (
        tokenizer("query document")["input_ids"] == tokenizer("query document", add_special_tokens=False)["input_ids"]
    )
    assert tokenizer.pad_token == "<|endoftext|>" and tokenizer.padding_side == "right"
    assert config.tie_word_embeddings and config.vocab_size % 64 == 0 and config.vocab_size > len(tokenizer)
    assert config.eos_token_id == tokenizer.convert_tokens_to_ids("<|im_end|>")
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True, enable_thinking=False
    )
    if name == "qwen3_causal_lm":
        assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    else:
        assert text.startswith("<|im_start|>system\nYou are Qwen") and text.endswith("<|im_start|>assistant\n")
    assert tokenizer.decode(tokenizer("Query: café?\n")["input_ids"]) == "Query: café?\n"


def test_gemma_prepends_bos_and_falls_back_to_bytes(zoo):
    path = zoo["gemma_causal_lm"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    config = AutoConfig.from_pretrained(path)
    assert type(AutoModelForCausalLM.from_pretrained(path)).__name__ == LM_CLASSES["gemma_causal_lm"]
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in ("<pad>", "<eos>", "<bos>", "<unk>")}
    assert ids == {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3}
    assert (config.pad_token_id, config.eos_token_id, config.bos_token_id) == (0, 1, 2)
    assert (tokenizer.pad_token, tokenizer.bos_token, tokenizer.eos_token) == ("<pad>", "<bos>", "<eos>")
    assert _tokens(tokenizer, tokenizer("Yes")["input_ids"]) == "<bos> Yes"
    assert _tokens(tokenizer, tokenizer("query", "document")["input_ids"]) == "<bos> query <bos> document"
    for token in ("<start_of_turn>", "<end_of_turn>"):
        assert len(tokenizer(token, add_special_tokens=False)["input_ids"]) == 1
        assert token in tokenizer.all_special_tokens
    assert tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    ) == ("<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n")
    accented = tokenizer("café", add_special_tokens=False)["input_ids"]
    assert "<0xC3>" in tokenizer.convert_ids_to_tokens(accented)
    assert tokenizer.decode(accented) == "café"
    assert config.tie_word_embeddings and config.vocab_size == len(tokenizer)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_reference_logits_are_finite_and_tell_pairs_apart(zoo, name):
    path = zoo[name]
    tokenizer = AutoTokenizer.from_pretrained(path)
    num_labels = AutoConfig.from_pretrained(path).num_labels
    scores = []
    for query, text in [("what is a panda", "the giant panda is a bear species"), ("what is a panda", "red fish")]:
        encoded = tokenizer(query, text)
        logits = reference_logits(path, encoded["input_ids"], encoded.get("token_type_ids"))
        assert logits.shape == (num_labels,) and logits.dtype == np.float32 and np.isfinite(logits).all()
        scores.append(logits)
    assert np.abs(scores[0] - scores[1]).max() > 1e-2


@pytest.mark.parametrize("name", CAUSAL)
def test_reference_lm_logits_cover_the_whole_vocabulary(zoo, name):
    path = zoo[name]
    tokenizer = AutoTokenizer.from_pretrained(path)
    vocab_size = AutoConfig.from_pretrained(path).vocab_size
    first = reference_lm_logits(path, tokenizer("query: panda\ndocument: giant bear")["input_ids"])
    second = reference_lm_logits(path, tokenizer("query: panda\ndocument: red fish")["input_ids"])
    assert first.shape == second.shape == (vocab_size,) and np.isfinite(first).all()
    assert np.abs(first - second).max() > 1e-2


@pytest.mark.parametrize("name", list(VARIANTS))
def test_same_seed_same_checkpoint(zoo, name, tmp_path):
    builder, options, folder = VARIANTS[name]
    again = builder(tmp_path / folder, **options)
    assert (again / "tokenizer.json").read_text() == (zoo[name] / "tokenizer.json").read_text()
    first, second = load_file(zoo[name] / "model.safetensors"), load_file(again / "model.safetensors")
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)


@pytest.mark.parametrize("name", ["bert", "qwen3_causal_lm"])
def test_another_seed_other_weights(zoo, name, tmp_path):
    builder, options, folder = VARIANTS[name]
    other = load_file(builder(tmp_path / folder, **options, seed=1) / "model.safetensors")
    first = load_file(zoo[name] / "model.safetensors")
    assert any(not np.array_equal(first[key], other[key]) for key in first)
