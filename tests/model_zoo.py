"""Tiny random-weight checkpoints of the architectures real rerankers use, built at test time (no network).

Every ``build_<name>(path, **options) -> Path`` writes, into ``path``, a ``config.json``, safetensors weights
(``save_pretrained``) and a fast tokenizer (``tokenizer.json``, ``tokenizer_config.json`` and a v4-style
``special_tokens_map.json``) assembled locally with the architecture's real special tokens and pair or prompt
conventions. Models have 2 layers, a hidden size of 32 and ``initializer_range=0.5`` so that random scores differ
visibly between texts; ``seed`` makes the weights (and the tokenizer, which is deterministic anyway) repeatable.

Tokenizers (``"query"``/``"document"`` stand for any two words of :data:`WORDS`):

======================  ==============================  ===============================================  ==========
builder                 model                           pair template (single)                           type ids
======================  ==============================  ===============================================  ==========
``build_bert``          WordPiece, lowercased           ``[CLS] A [SEP] B [SEP]`` (``[CLS] A [SEP]``)    0/1
``build_electra``       WordPiece, lowercased           ``[CLS] A [SEP] B [SEP]``                        0/1
``build_xlm_roberta``   Unigram, Metaspace ``▁``        ``<s> A </s></s> B </s>`` (``<s> A </s>``)       none (0)
``build_roberta``       byte-level BPE (GPT-2 regex)    ``<s> A </s></s> B </s>``                        none (0)
``build_deberta_v2``    Unigram, Metaspace ``▁``        ``[CLS] A [SEP] B [SEP]``                        0/1
``build_modernbert``    byte-level BPE (GPT-2 regex)    ``[CLS] A [SEP] B [SEP]``                        none
``build_qwen_*``        byte-level BPE (Qwen2 regex)    classifier: ``A <|im_end|> B <|endoftext|>``;    none
                                                        causal LMs: no special tokens added
``build_gemma_*``       BPE on ``▁`` + byte fallback    ``<bos> A <bos> B`` (``<bos> A``)                none
======================  ==============================  ===============================================  ==========

"none" means ``token_type_ids`` is not in the tokenizer's ``model_input_names`` (as for the real tokenizers);
the template's type ids are then all 0 (RoBERTa/XLM-R, like ``RobertaProcessing``) or unused.

Every vocabulary holds the ordinary English words of :data:`WORDS` (capitalized too where the tokenizer is cased)
and the answer tokens the LLM rerankers read, each a single token: ``yes``/``no`` (Qwen3-Reranker), ``1``/``0``
(mxbai-rerank-v2), ``Yes``/``No`` (bge-reranker-v2-gemma); byte-level BPE has the ``Ġ``-prefixed forms as well
(except that Qwen's pre-tokenizer, like the real one, splits a digit from the space before it: `` 1`` is ``Ġ 1``),
Gemma the ``▁``-prefixed ones.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

WORDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            # Ordinary words (those of tests/tiny_models.py first).
            "the a of and to in is was for on with as by at from that this it are be or an which has have not "
            "what query document text long short relevant key word zebrafish cell cells protein gene study "
            "cancer risk patients effect results increase decrease model data one two three four five six "
            "seven eight nine ten red blue green fish bird tree river mountain city music "
            "hello world hi panda giant bear species china capital paris france berlin germany water "
            "how why who when where does do can will about more most some other than into its their there "
            # The prompts of Qwen3-Reranker, mxbai-rerank-v2 and bge-reranker-v2-gemma, and chat roles.
            "yes no judge whether meets requirements based instruct provided note answer only given web search "
            "retrieve passages passage you qwen created alibaba cloud helpful assistant instruction relevance "
            "expert who evaluates well documents match queries each pair carefully analyze semantic "
            "relationship between them then provide your binary judgment determine contains providing "
            "prediction either system user model"
        ).split()
    )
)
"""Words every builder's vocabulary holds as whole tokens (lowercase; cased tokenizers hold ``Word`` too)."""

ANSWER_TOKENS: tuple[str, ...] = ("yes", "no", "1", "0", "Yes", "No")
"""The tokens LLM rerankers read at the last position; a single token in every vocabulary."""

QWEN_SPECIAL_TOKENS: tuple[str, ...] = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
"""Qwen2/Qwen3 special tokens, in their real id order (right after the BPE vocabulary)."""

QWEN3_THINK_TOKENS: tuple[str, ...] = ("<think>", "</think>")
"""Qwen3's thinking tags: added tokens (never split) that, as in the real Qwen3 tokenizer, are not special."""

GEMMA_SPECIAL_TOKENS: tuple[str, ...] = (
    "<pad>",
    "<eos>",
    "<bos>",
    "<unk>",
    "<mask>",
    "<start_of_turn>",
    "<end_of_turn>",
)
"""Gemma's special tokens; the first four have the real ids 0-3."""

# The Qwen2 pre-tokenizer regex (digits one by one, letters with one leading non-letter).
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# ChatML as the Qwen2.5 template writes it (default system prompt), reduced to what rerankers use.
QWEN2_CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] != 'system' %}"
    "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
# Qwen3's: no default system prompt; enable_thinking=False writes an empty think block, as the real one does.
QWEN3_CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}{% set role = 'model' %}"
    "{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)

_CHARS = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789.,?!-:;'\"()<>/|_")
_ENCODER = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
_DECODER = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 64,
}


# --- encoder cross-encoders -------------------------------------------------------------------------------------


def build_bert(
    path: Path, *, num_labels: int = 1, max_length: int = 512, initializer_range: float = 0.5, seed: int = 0
) -> Path:
    """BertForSequenceClassification with a lowercasing WordPiece tokenizer (``[CLS] A [SEP] B [SEP]``, types 0/1)."""
    from transformers import BertConfig, BertForSequenceClassification

    return _wordpiece_classifier(
        path, BertConfig, BertForSequenceClassification, {}, num_labels, max_length, initializer_range, seed
    )


def build_electra(
    path: Path, *, num_labels: int = 1, max_length: int = 512, initializer_range: float = 0.5, seed: int = 0
) -> Path:
    """ElectraForSequenceClassification with the BERT WordPiece tokenizer and template (like ms-marco-electra)."""
    from transformers import ElectraConfig, ElectraForSequenceClassification

    extra = {"embedding_size": 32}
    return _wordpiece_classifier(
        path, ElectraConfig, ElectraForSequenceClassification, extra, num_labels, max_length, initializer_range, seed
    )


def _wordpiece_classifier(
    path: Path,
    config_class: type,
    model_class: type,
    extra: dict[str, Any],
    num_labels: int,
    max_length: int,
    initializer_range: float,
    seed: int,
) -> Path:
    """A BERT-style classifier (BERT, ELECTRA) over the shared WordPiece tokenizer."""
    backend, vocab = _wordpiece()
    _save_tokenizer(backend, path, model_max_length=max_length, **_bert_specials())
    config = config_class(
        vocab_size=len(vocab),
        **extra,
        **_ENCODER,
        max_position_embeddings=512,
        type_vocab_size=2,
        num_labels=num_labels,
        pad_token_id=vocab["[PAD]"],
        initializer_range=initializer_range,
    )
    return _save_model(model_class, config, path, seed)


def build_xlm_roberta(
    path: Path,
    *,
    num_labels: int = 1,
    max_position_embeddings: int = 130,
    model_max_length: int = 128,
    initializer_range: float = 0.5,
    seed: int = 0,
) -> Path:
    """XLMRobertaForSequenceClassification shaped like bge-reranker-base, scaled down.

    Unigram tokenizer with ``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3 and ``<mask>`` last (the real ids), pair
    template ``<s> A </s></s> B </s>`` with all-zero type ids (``RobertaProcessing``) and no ``token_type_ids``
    input. ``type_vocab_size=1``, ``pad_token_id=1``; positions start at ``pad_token_id + 1``, so 130 position
    embeddings allow 128 tokens, the tokenizer's ``model_max_length``.
    """
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    backend = _unigram(["<s>", "<pad>", "</s>", "<unk>"], unk="<unk>", mask="<mask>")
    backend.post_processor = _roberta_processing(backend)
    _save_tokenizer(backend, path, model_max_length=model_max_length, **_roberta_specials())
    config = XLMRobertaConfig(
        vocab_size=backend.get_vocab_size(),
        **_ENCODER,
        max_position_embeddings=max_position_embeddings,
        type_vocab_size=1,
        num_labels=num_labels,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        initializer_range=initializer_range,
    )
    return _save_model(XLMRobertaForSequenceClassification, config, path, seed)


def build_roberta(
    path: Path,
    *,
    num_labels: int = 1,
    model_max_length: int = int(1e30),
    max_position_embeddings: int = 130,
    initializer_range: float = 0.5,
    seed: int = 0,
) -> Path:
    """RobertaForSequenceClassification with a byte-level BPE tokenizer that claims ``model_max_length=1e30``.

    ``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3, ``<mask>`` last; ``<s> A </s></s> B </s>``, no type ids; the
    model itself takes 128 tokens (130 positions minus the padding offset).
    """
    from tokenizers import pre_tokenizers
    from transformers import RobertaConfig, RobertaForSequenceClassification

    backend = _byte_level_bpe(
        pre_tokenizers.ByteLevel(add_prefix_space=False), leading=["<s>", "<pad>", "</s>", "<unk>"]
    )
    _add_special(backend, ["<mask>"], lstrip={"<mask>"})
    backend.post_processor = _roberta_processing(backend)
    _save_tokenizer(backend, path, model_max_length=model_max_length, **_roberta_specials())
    config = RobertaConfig(
        vocab_size=backend.get_vocab_size(),
        **_ENCODER,
        max_position_embeddings=max_position_embeddings,
        type_vocab_size=1,
        num_labels=num_labels,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        initializer_range=initializer_range,
    )
    return _save_model(RobertaForSequenceClassification, config, path, seed)


def build_deberta_v2(
    path: Path, *, num_labels: int = 1, max_length: int = 512, initializer_range: float = 0.5, seed: int = 0
) -> Path:
    """DebertaV2ForSequenceClassification shaped like DeBERTa-v3 rerankers, scaled down.

    ``type_vocab_size=0`` and relative attention (``p2c``/``c2p``, no absolute positions), as DeBERTa-v3. Cased
    Unigram tokenizer with ``[PAD]``=0, ``[CLS]``=1, ``[SEP]``=2, ``[UNK]``=3, ``[MASK]`` last (the real ids),
    ``[CLS] A [SEP] B [SEP]`` with type ids 0/1. ``model_input_names`` keeps ``token_type_ids`` because the real
    DeBERTa-v3 tokenizer (transformers' ``DebertaV2Tokenizer[Fast]``) returns them; the model ignores them.
    """
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    backend = _unigram(["[PAD]", "[CLS]", "[SEP]", "[UNK]"], unk="[UNK]", mask="[MASK]")
    backend.post_processor = _bert_processing(backend)
    _save_tokenizer(
        backend,
        path,
        model_max_length=max_length,
        bos_token="[CLS]",
        eos_token="[SEP]",
        **_bert_specials(),
    )
    config = DebertaV2Config(
        vocab_size=backend.get_vocab_size(),
        **_ENCODER,
        max_position_embeddings=max_length,
        type_vocab_size=0,
        relative_attention=True,
        position_biased_input=False,
        pos_att_type=["p2c", "c2p"],
        max_relative_positions=-1,
        position_buckets=64,
        norm_rel_ebd="layer_norm",
        share_att_key=True,
        pooler_hidden_size=32,
        num_labels=num_labels,
        pad_token_id=0,
        initializer_range=initializer_range,
    )
    return _save_model(DebertaV2ForSequenceClassification, config, path, seed)


def build_modernbert(
    path: Path,
    *,
    num_labels: int = 1,
    max_length: int = 512,
    local_attention: int = 16,
    classifier_pooling: Literal["cls", "mean"] = "cls",
    initializer_range: float = 0.5,
    seed: int = 0,
) -> Path:
    """ModernBertForSequenceClassification with a byte-level BPE tokenizer like ModernBERT's.

    ``[UNK] [CLS] [SEP] [PAD] [MASK]`` after the BPE vocabulary (their real order), ``[CLS] A [SEP] B [SEP]``,
    ``model_input_names`` without ``token_type_ids`` (as the real ModernBERT tokenizer). Layer 0 attends globally,
    layer 1 within a ``local_attention``-token window (the real model alternates 1 global : 2 local).
    """
    from tokenizers import pre_tokenizers
    from transformers import ModernBertConfig, ModernBertForSequenceClassification

    backend = _byte_level_bpe(pre_tokenizers.ByteLevel(add_prefix_space=False), leading=[])
    _add_special(backend, ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"], lstrip={"[MASK]"})
    backend.post_processor = _bert_processing(backend)
    _save_tokenizer(
        backend,
        path,
        model_max_length=max_length,
        **_bert_specials(type_ids=False),
    )
    ids = backend.get_vocab()
    config = ModernBertConfig(
        vocab_size=backend.get_vocab_size(),
        **_ENCODER,
        max_position_embeddings=max_length,
        local_attention=local_attention,
        classifier_pooling=classifier_pooling,
        num_labels=num_labels,
        pad_token_id=ids["[PAD]"],
        bos_token_id=ids["[CLS]"],
        eos_token_id=ids["[SEP]"],
        cls_token_id=ids["[CLS]"],
        sep_token_id=ids["[SEP]"],
        initializer_range=initializer_range,
    )
    return _save_model(ModernBertForSequenceClassification, config, path, seed)


# --- decoder classifiers and LLM rerankers ----------------------------------------------------------------------


def build_qwen_classifier(
    path: Path,
    *,
    arch: Literal["qwen2", "qwen3"] = "qwen2",
    pad: Literal["tokenizer", "none", "config_only"] = "tokenizer",
    chat_template: bool = False,
    max_position_embeddings: int = 512,
    initializer_range: float = 0.5,
    seed: int = 0,
) -> Path:
    """Qwen2/Qwen3ForSequenceClassification (one logit, read at the last non-pad token) with a pair template.

    The tokenizer is Qwen's byte-level BPE plus ``<|endoftext|> <|im_start|> <|im_end|>`` (and Qwen3's
    ``<think> </think>``), with a template so that it works as a pair classifier: single ``A <|endoftext|>``, pair
    ``A <|im_end|> B <|endoftext|>`` (B and its end token get type id 1; ``token_type_ids`` is not a model input).

    ``pad``: ``"tokenizer"`` gives the tokenizer pad token ``<|endoftext|>`` and sets ``config.pad_token_id`` to it;
    ``"none"`` leaves both unset; ``"config_only"`` sets ``config.pad_token_id`` to ``<|endoftext|>``'s id while the
    tokenizer has no pad token. Note that when ``config.pad_token_id`` is set the model pools the last token that
    is not ``<|endoftext|>``, which is B's last token, since the template ends with the pad token.

    ``chat_template=True`` adds Qwen's chat template, as real converted checkpoints carry. It is off by default
    because sentence-transformers (6.x) ``CrossEncoder.predict`` renders pairs through a tokenizer's chat template
    when there is one instead of its pair template, so its scores would no longer match :func:`reference_logits`
    of the pair-template ids.
    """
    from tokenizers import processors

    backend = _qwen_backend(think=arch == "qwen3")
    ids = backend.get_vocab()
    backend.post_processor = processors.TemplateProcessing(
        single="$A:0 <|endoftext|>:0",
        pair="$A:0 <|im_end|>:0 $B:1 <|endoftext|>:1",
        special_tokens=[(token, ids[token]) for token in ("<|endoftext|>", "<|im_end|>")],
    )
    _save_qwen_tokenizer(
        backend,
        path,
        arch=arch,
        pad_token="<|endoftext|>" if pad == "tokenizer" else None,
        chat_template=chat_template,
    )
    if pad != "tokenizer":
        # transformers 5 loads every model_type "qwen2" checkpoint with Qwen2Tokenizer, whose pad token defaults to
        # <|endoftext|> when tokenizer_config.json names none; an explicit null keeps the tokenizer without one.
        _update_json(path / "tokenizer_config.json", pad_token=None)
    config_class, model_class = _qwen_classes(arch, "ForSequenceClassification")
    config = config_class(
        **_qwen_config(backend, arch, max_position_embeddings, initializer_range),
        tie_word_embeddings=False,
        num_labels=1,
        pad_token_id=None if pad == "none" else ids["<|endoftext|>"],
    )
    return _save_model(model_class, config, path, seed)


def build_qwen3_causal_lm(
    path: Path, *, max_position_embeddings: int = 512, initializer_range: float = 0.5, seed: int = 0
) -> Path:
    """Qwen3ForCausalLM like Qwen3-Reranker-0.6B (tied embeddings), whatever the folder is called.

    Tokenizer: Qwen byte-level BPE, no special tokens added (the prompt carries them), special
    ``<|endoftext|> <|im_start|> <|im_end|>``, non-special added ``<think> </think>``, eos ``<|im_end|>``, pad
    ``<|endoftext|>``, right padding by default (callers that read the last position must pad left), a ChatML chat
    template; ``yes``/``no`` are single tokens. The config's ``vocab_size`` is the tokenizer's length rounded up to
    a multiple of 64 (as Qwen's 151936 > 151669), so logits have more columns than the tokenizer has tokens.
    """
    return _build_qwen_causal_lm(path, "qwen3", max_position_embeddings, initializer_range, seed)


def build_qwen2_causal_lm(
    path: Path, *, max_position_embeddings: int = 512, initializer_range: float = 0.5, seed: int = 0
) -> Path:
    """Qwen2ForCausalLM like mxbai-rerank-base-v2 (tied embeddings): reads ``1``/``0``; Qwen2 chat tokens only.

    Same tokenizer conventions as :func:`build_qwen3_causal_lm`, without ``<think>``/``</think>``.
    """
    return _build_qwen_causal_lm(path, "qwen2", max_position_embeddings, initializer_range, seed)


def build_gemma_causal_lm(
    path: Path,
    *,
    max_position_embeddings: int = 512,
    model_max_length: int = 8192,
    initializer_range: float = 0.5,
    seed: int = 0,
) -> Path:
    """GemmaForCausalLM like bge-reranker-v2-gemma (gemma-2b), scaled down; tied embeddings.

    Tokenizer like Gemma's: BPE over text whose spaces become ``▁`` (no dummy prefix, so ``Yes`` and ``▁Yes``
    differ), byte fallback ``<0x00>``..``<0xFF>``; ``<pad>``=0, ``<eos>``=1, ``<bos>``=2, ``<unk>``=3 (the real ids),
    ``<mask>``, ``<start_of_turn>``, ``<end_of_turn>``; the template prepends ``<bos>`` (single ``<bos> A``, pair
    ``<bos> A <bos> B``, as ``add_bos_token=True``); pad ``<pad>``, right padding; Gemma's chat template.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import BPE
    from transformers import GemmaConfig, GemmaForCausalLM

    trained = _trained_bpe(pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never"), initial_alphabet=[])
    model = json.loads(trained.to_str())["model"]
    learned = sorted(model["vocab"], key=model["vocab"].get)
    pieces = [*GEMMA_SPECIAL_TOKENS, *(f"<0x{b:02X}>" for b in range(256)), *learned]
    vocab = {piece: i for i, piece in enumerate(dict.fromkeys(pieces))}
    merges = [tuple(pair) if isinstance(pair, list) else tuple(pair.split(" ")) for pair in model["merges"]]
    backend = Tokenizer(BPE(vocab, merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    backend.normalizer = normalizers.Replace(" ", "▁")
    backend.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    backend.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in GEMMA_SPECIAL_TOKENS])
    backend.post_processor = processors.TemplateProcessing(
        single="<bos>:0 $A:0", pair="<bos>:0 $A:0 <bos>:1 $B:1", special_tokens=[("<bos>", vocab["<bos>"])]
    )
    _save_tokenizer(
        backend,
        path,
        model_max_length=model_max_length,
        model_input_names=["input_ids", "attention_mask"],
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
        pad_token="<pad>",
        additional_special_tokens=["<start_of_turn>", "<end_of_turn>"],
        chat_template=GEMMA_CHAT_TEMPLATE,
        clean_up_tokenization_spaces=False,
    )
    config = GemmaConfig(
        vocab_size=backend.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        intermediate_size=64,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["<eos>"],
        bos_token_id=vocab["<bos>"],
        tie_word_embeddings=True,
        initializer_range=initializer_range,
    )
    return _save_model(GemmaForCausalLM, config, path, seed)


CLASSIFIER_BUILDERS = {
    "bert": build_bert,
    "electra": build_electra,
    "xlm_roberta": build_xlm_roberta,
    "roberta": build_roberta,
    "deberta_v2": build_deberta_v2,
    "modernbert": build_modernbert,
    "qwen_classifier": build_qwen_classifier,
}
"""Builders of ``AutoModelForSequenceClassification`` checkpoints, by name."""

CAUSAL_LM_BUILDERS = {
    "qwen3_causal_lm": build_qwen3_causal_lm,
    "qwen2_causal_lm": build_qwen2_causal_lm,
    "gemma_causal_lm": build_gemma_causal_lm,
}
"""Builders of ``AutoModelForCausalLM`` checkpoints (LLM rerankers), by name."""


# --- reference forward passes -----------------------------------------------------------------------------------


def reference_logits(path: Path | str, input_ids: list[int], token_type_ids: list[int] | None = None) -> np.ndarray:
    """Classifier logits ``(num_labels,)`` of one unpadded sequence: plain transformers, fp32, eager, eval."""
    import torch

    model = _reference_model(*_stamp(path), causal=False)
    ids = torch.tensor([list(input_ids)], dtype=torch.long)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if token_type_ids is not None:
        inputs["token_type_ids"] = torch.tensor([list(token_type_ids)], dtype=torch.long)
    with torch.inference_mode():
        return model(**inputs).logits[0].float().numpy()


def reference_lm_logits(path: Path | str, input_ids: list[int]) -> np.ndarray:
    """A causal LM's full-vocabulary logits ``(config.vocab_size,)`` at the last position of one unpadded sequence."""
    import torch

    model = _reference_model(*_stamp(path), causal=True)
    ids = torch.tensor([list(input_ids)], dtype=torch.long)
    with torch.inference_mode():
        return model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, -1].float().numpy()


def _stamp(path: Path | str) -> tuple[str, tuple[int, int]]:
    """The folder and its weights' (mtime, size), so that a rebuilt folder is loaded again."""
    folder = Path(path).resolve()
    stat = (folder / "model.safetensors").stat()
    return str(folder), (stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _reference_model(folder: str, stamp: tuple[int, int], *, causal: bool) -> Any:
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    auto = AutoModelForCausalLM if causal else AutoModelForSequenceClassification
    return auto.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()


# --- tokenizer pieces -------------------------------------------------------------------------------------------


def _cased_words() -> list[str]:
    return list(dict.fromkeys([*WORDS, *(word.capitalize() for word in WORDS), *ANSWER_TOKENS]))


def _wordpiece() -> tuple[Any, dict[str, int]]:
    """A lowercasing BERT WordPiece tokenizer with ``[CLS] A [SEP] B [SEP]`` (types 0/1), and its vocabulary."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens = [*specials, *WORDS, *_CHARS, *("##" + c for c in _CHARS)]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(tokens))}
    backend = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = _bert_processing(backend)
    backend.decoder = decoders.WordPiece()
    return backend, vocab


def _unigram(leading: list[str], *, unk: str, mask: str) -> Any:
    """A cased SentencePiece-style Unigram tokenizer (Metaspace ``▁``, prefix always) with ``mask`` last."""
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram

    pieces: dict[str, float] = dict.fromkeys(leading, 0.0)
    for word in _cased_words():
        pieces.setdefault("▁" + word, -8.0)
        pieces.setdefault(word, -9.0)
    pieces.setdefault("▁", -10.0)
    for char in [*_CHARS, *(c.upper() for c in _CHARS if c.isalpha())]:
        pieces.setdefault(char, -12.0)
    pieces[mask] = 0.0
    items = list(pieces.items())
    backend = Tokenizer(Unigram(items, unk_id=leading.index(unk), byte_fallback=False))
    backend.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(_regex(" {2,}"), " ")])
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    backend.add_special_tokens(
        [AddedToken(token, special=True, normalized=False) for token in leading]
        + [AddedToken(mask, special=True, normalized=False, lstrip=True)]
    )
    return backend


def _trained_bpe(pre_tokenizer: Any, *, initial_alphabet: list[str], leading: list[str] | None = None) -> Any:
    """A BPE tokenizer trained to merge every word of :func:`_cased_words` (bare and after a space) into one token."""
    from tokenizers import Tokenizer
    from tokenizers.models import BPE
    from tokenizers.trainers import BpeTrainer

    backend = Tokenizer(BPE())
    backend.pre_tokenizer = pre_tokenizer
    trainer = BpeTrainer(
        vocab_size=20_000,
        min_frequency=1,
        show_progress=False,
        special_tokens=leading or [],
        initial_alphabet=initial_alphabet,
    )
    corpus = [form for word in _cased_words() for form in (word, " " + word)] + ["\n", "\n\n", " \n", ": ", ". "]
    backend.train_from_iterator(corpus, trainer)
    return backend


def _byte_level_bpe(pre_tokenizer: Any, *, leading: list[str]) -> Any:
    """A byte-level BPE tokenizer (any text encodes) with ``leading`` special tokens at ids 0, 1, ..."""
    from tokenizers import AddedToken, decoders, pre_tokenizers

    backend = _trained_bpe(pre_tokenizer, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), leading=leading)
    backend.decoder = decoders.ByteLevel()
    if leading:
        backend.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in leading])
    return backend


def _qwen_backend(*, think: bool) -> Any:
    """Qwen2/Qwen3's byte-level BPE: NFC, the Qwen2 regex, no special tokens added; chat tokens after the vocab."""
    from tokenizers import AddedToken, normalizers, pre_tokenizers, processors

    pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(_regex(QWEN_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    backend = _byte_level_bpe(pre_tokenizer, leading=[])
    backend.normalizer = normalizers.NFC()
    backend.post_processor = processors.ByteLevel(trim_offsets=False)
    _add_special(backend, list(QWEN_SPECIAL_TOKENS))
    if think:
        backend.add_tokens([AddedToken(token, special=False, normalized=False) for token in QWEN3_THINK_TOKENS])
    return backend


def _add_special(backend: Any, tokens: list[str], lstrip: set[str] = frozenset()) -> None:
    from tokenizers import AddedToken

    backend.add_special_tokens(
        [AddedToken(token, special=True, normalized=False, lstrip=token in lstrip) for token in tokens]
    )


def _bert_processing(backend: Any) -> Any:
    from tokenizers import processors

    ids = backend.get_vocab()
    return processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])],
    )


def _roberta_processing(backend: Any) -> Any:
    from tokenizers import processors

    ids = backend.get_vocab()
    return processors.RobertaProcessing(("</s>", ids["</s>"]), ("<s>", ids["<s>"]), trim_offsets=True)


def _bert_specials(*, type_ids: bool = True) -> dict[str, Any]:
    """BERT's special tokens, and ``model_input_names`` with ``token_type_ids`` or without."""
    return {
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
        "model_input_names": ["input_ids", "token_type_ids", "attention_mask"]
        if type_ids
        else ["input_ids", "attention_mask"],
    }


def _roberta_specials() -> dict[str, Any]:
    return {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
        "model_input_names": ["input_ids", "attention_mask"],
    }


def _regex(pattern: str) -> Any:
    from tokenizers import Regex

    return Regex(pattern)


# --- saving -----------------------------------------------------------------------------------------------------


def _save_tokenizer(backend: Any, path: Path, **kwargs: Any) -> Any:
    """Wrap ``backend`` in ``PreTrainedTokenizerFast``, save it, and add a v4-style ``special_tokens_map.json``.

    transformers 5 no longer writes ``special_tokens_map.json`` (the special tokens live in
    ``tokenizer_config.json``); hub checkpoints have one, and some readers (FastEmbed) look at it.
    """
    from transformers import PreTrainedTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    extra = kwargs.pop("additional_special_tokens", None)
    if extra:
        kwargs["extra_special_tokens"] = extra
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, **kwargs)
    tokenizer.save_pretrained(str(path))
    special = dict(tokenizer.special_tokens_map)
    if extra:
        special["additional_special_tokens"] = list(extra)
    special_map = path / "special_tokens_map.json"
    if not special_map.exists():
        special_map.write_text(json.dumps(special, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return tokenizer


def _update_json(path: Path, **fields: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(fields)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _save_qwen_tokenizer(
    backend: Any, path: Path, *, arch: str, pad_token: str | None, chat_template: bool = True
) -> Any:
    specials: dict[str, Any] = {"pad_token": pad_token} if pad_token else {}
    if chat_template:
        specials["chat_template"] = QWEN3_CHAT_TEMPLATE if arch == "qwen3" else QWEN2_CHAT_TEMPLATE
    return _save_tokenizer(
        backend,
        path,
        model_max_length=131072,
        model_input_names=["input_ids", "attention_mask"],
        eos_token="<|im_end|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        clean_up_tokenization_spaces=False,
        **specials,
    )


def _qwen_classes(arch: str, head: str) -> tuple[type, type]:
    import transformers

    prefix = {"qwen2": "Qwen2", "qwen3": "Qwen3"}[arch]
    return getattr(transformers, f"{prefix}Config"), getattr(transformers, f"{prefix}{head}")


def _qwen_config(backend: Any, arch: str, max_position_embeddings: int, initializer_range: float) -> dict[str, Any]:
    ids = backend.get_vocab()
    options: dict[str, Any] = {
        "vocab_size": -(-backend.get_vocab_size() // 64) * 64,
        **_DECODER,
        "max_position_embeddings": max_position_embeddings,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "initializer_range": initializer_range,
    }
    if arch == "qwen3":
        options["head_dim"] = _DECODER["hidden_size"] // _DECODER["num_attention_heads"]
    return options


def _build_qwen_causal_lm(
    path: Path, arch: str, max_position_embeddings: int, initializer_range: float, seed: int
) -> Path:
    backend = _qwen_backend(think=arch == "qwen3")
    _save_qwen_tokenizer(backend, path, arch=arch, pad_token="<|endoftext|>")
    config_class, model_class = _qwen_classes(arch, "ForCausalLM")
    config = config_class(
        **_qwen_config(backend, arch, max_position_embeddings, initializer_range), tie_word_embeddings=True
    )
    return _save_model(model_class, config, path, seed)


def _save_model(model_class: type, config: Any, path: Path, seed: int) -> Path:
    import torch

    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model_class(config).eval().save_pretrained(str(path))
    return path
