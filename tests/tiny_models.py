"""Tiny random BERT cross-encoders built at test time, for mechanics tests (no network, no weights on disk)."""

from __future__ import annotations

from pathlib import Path

WORDS = (
    "the a of and to in is was for on with as by at from that this it are be or an which has have not "
    "what query document text long short relevant key word zebrafish cell cells protein gene study "
    "cancer risk patients effect results increase decrease model data one two three four five six "
    "seven eight nine ten red blue green fish bird tree river mountain city music"
).split()


def build_tiny_cross_encoder(
    path: Path, *, num_labels: int = 1, pad_token: bool = True, max_length: int = 128, seed: int = 0
) -> Path:
    """Save a random 2-layer BERT sequence classifier and a WordPiece tokenizer in ``path``."""
    import torch
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789.,?!-")
    vocab = {
        token: i
        for i, token in enumerate(dict.fromkeys(specials + list(WORDS) + letters + ["##" + c for c in letters]))
    }
    backend = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    special_kwargs = {"unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]"}
    if pad_token:
        special_kwargs["pad_token"] = "[PAD]"
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        model_max_length=max_length,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
        **special_kwargs,
    )
    tokenizer.save_pretrained(str(path))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=num_labels,
        pad_token_id=0,
        initializer_range=0.5,
    )
    BertForSequenceClassification(config).eval().save_pretrained(str(path))
    return path
