"""Tokenizing a prefix only: the tokens kept are the whole text's, for WordPiece, Metaspace and byte-level BPE."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_zoo import build_bert, build_qwen3_causal_lm, build_xlm_roberta
from transformers import AutoTokenizer

from rerank_core.engine.encoding import clean_copy
from rerank_core.engine.token_budget import MAX_CHUNK_CHARS, MIN_CHUNK_CHARS, encode_prefixes

BUILDERS = {"wordpiece": build_bert, "metaspace": build_xlm_roberta, "byte-level": build_qwen3_causal_lm}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def tokenizer(request, tmp_path_factory):
    path = BUILDERS[request.param](tmp_path_factory.mktemp(request.param) / "model")
    return clean_copy(AutoTokenizer.from_pretrained(str(path)).backend_tokenizer)


WORDS = st.text(alphabet=st.characters(categories=("L", "N", "P", "S", "Mn")), min_size=1, max_size=30)
GAPS = st.sampled_from([" ", "  ", "\n", " \n\n ", "\t", " " * 40])


@st.composite
def long_texts(draw: st.DrawFn) -> str:
    """Texts of words (letters, digits, punctuation, symbols, marks) and whitespace, several chunks long."""
    words = draw(st.lists(WORDS, min_size=5, max_size=40))
    gaps = draw(st.lists(GAPS, min_size=len(words), max_size=len(words)))
    phrase = "".join(w + g for w, g in zip(words, gaps))
    repeats = draw(st.integers(1, 4 * MIN_CHUNK_CHARS // len(phrase) + 2))
    return draw(st.sampled_from(["", "  ", "\n"])) + phrase * repeats


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(long_texts(), min_size=1, max_size=3), budget=st.sampled_from([1, 30, 200]))
def test_the_tokens_kept_are_the_whole_texts_first_tokens(tokenizer, texts, budget):
    whole = [tokenizer.encode(text, add_special_tokens=False).ids for text in texts]
    for prefix, ids, text in zip(encode_prefixes(tokenizer, texts, budget), whole, texts):
        kept = min(budget, len(ids))
        assert prefix.encoding.ids[:kept] == ids[:kept]
        assert len(prefix.encoding) >= kept
        assert prefix.chars <= len(text)


def test_a_long_text_is_read_no_further_than_its_budget_needs(tokenizer):
    text = "zebrafish heart cells regenerate " * 100_000  # 3.3 MB
    (prefix,) = encode_prefixes(tokenizer, [text], 100)
    assert prefix.chars < MIN_CHUNK_CHARS * 4
    assert prefix.encoding.ids[:100] == tokenizer.encode(text[:10_000], add_special_tokens=False).ids[:100]


def test_text_that_yields_few_tokens_is_read_in_bounded_chunks(tokenizer):
    spaced = " " * 200_000 + "zebrafish heart " * 20_000
    (prefix,) = encode_prefixes(tokenizer, [spaced], 20)
    whole = tokenizer.encode(spaced, add_special_tokens=False).ids
    assert prefix.encoding.ids[:20] == whole[:20]
    assert prefix.chars < len(spaced)
    assert len(prefix.kept(spaced)) <= 2 * MAX_CHUNK_CHARS


def test_empty_texts_and_surrogates(tokenizer):
    empty, surrogate = encode_prefixes(tokenizer, ["", "a\ud800b"], 10)
    assert len(empty.encoding) == 0 and empty.chars == 0 and empty.kept("") == ""
    assert surrogate.encoding.ids == tokenizer.encode("a\ufffdb", add_special_tokens=False).ids
