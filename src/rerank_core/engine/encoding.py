"""Tokenize (query, text) pairs with balanced truncation or overlapping windows.

Works on a ``tokenizers.Tokenizer`` alone, so every backend (torch, ONNX) shares one
tokenization path.

Balanced truncation: a pair that fits the window is left alone. Otherwise the query keeps all
its tokens as long as it fits in half the window, and the text gets the rest; only a query
longer than half the window is cut, to half (or to what the text leaves free, if more). A long
document therefore never pushes the query out, and a very long query never leaves the
document without room.

With ``long_documents="max_chunk"`` a text that does not fit is split into windows of the
room the query leaves, each overlapping the previous by a quarter, and every window is paired
with the (same) query; a text gets at most :data:`MAX_WINDOWS` windows.

No text or query is tokenized further than its kept tokens need (:mod:`rerank_core.engine.token_budget`): the
work and memory of a pair are bounded by the window, however long or strange its text.

Any Python string is accepted: lone surrogates (which are not Unicode text and which the tokenizer
cannot take) are read as U+FFFD replacement characters; control characters, NUL and bidirectional
marks go to the tokenizer unchanged (it drops what it does not know); empty or blank texts are scored
as empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tokenizers import Encoding, Tokenizer

from rerank_core.engine.token_budget import encode_prefixes
from rerank_core.engine.tokens import Tokens
from rerank_core.errors import InvalidArgumentError, ModelLoadError

LongDocuments = Literal["truncate", "max_chunk"]
LONG_DOCUMENT_MODES: tuple[str, ...] = ("truncate", "max_chunk")

MAX_WINDOWS = 32
"""The most windows ``long_documents="max_chunk"`` scores per text (its first 32 windows; later text is not read)."""


@dataclass(frozen=True, slots=True)
class EncodedPairs:
    """The model inputs for a list of texts: one encoding per window and its owner text."""

    encodings: list[Tokens]
    owners: list[int]
    truncated: int
    """How many texts lost tokens to truncation."""


class PairEncoder:
    """Builds model inputs for ``(query, text)`` pairs within ``max_length`` tokens."""

    def __init__(self, tokenizer: Tokenizer, max_length: int) -> None:
        self._tokenizer = clean_copy(tokenizer)
        self.max_length = max_length
        self._room = max_length - self._tokenizer.num_special_tokens_to_add(is_pair=True)
        if self._room < 2:
            raise ModelLoadError(f"max_length={max_length} leaves no room for a query and a text.")
        if not separates_pairs(self._tokenizer.encode("a", "b").sequence_ids):
            raise ModelLoadError(
                "The tokenizer has no template for text pairs (its post-processor does not put separator tokens "
                "between a query and a document), so it cannot feed a cross-encoder. Use the tokenizer saved "
                "with a cross-encoder checkpoint, or a model family with a prompt (family=...)."
            )

    def encode(
        self, query: str, texts: Sequence[str], long_documents: LongDocuments, instruction: str | None = None
    ) -> EncodedPairs:
        """Encode ``query`` with each text; ``owners[i]`` is the text index of ``encodings[i]``.

        ``instruction`` must be ``None``: a pair template has no place for one.
        """
        if instruction is not None:
            raise InvalidArgumentError(
                "This model joins query and text with its tokenizer's pair template, which takes no instruction; "
                "pass instruction=None (instructions are for prompt models such as Qwen3-Reranker)."
            )
        query_enc = encode_prefixes(self._tokenizer, [query], self._room)[0].encoding
        half = self._room // 2
        chunk = long_documents == "max_chunk"
        budget = self._room * MAX_WINDOWS if chunk else self._room
        text_encs = [prefix.encoding for prefix in encode_prefixes(self._tokenizer, texts, budget)]
        encodings: list[Tokens] = []
        owners: list[int] = []
        truncated = 0
        query_parts: dict[int, Encoding] = {}
        for index, text_enc in enumerate(text_encs):
            n_query, n_text = len(query_enc), len(text_enc)
            if n_query + n_text <= self._room:
                encodings.append(self._tokenizer.post_process(query_enc, text_enc))
                owners.append(index)
                continue
            truncated += 1
            query_keep = n_query if n_query <= half else max(half, self._room - n_text)
            text_room = self._room - query_keep
            if query_keep not in query_parts:
                query_parts[query_keep] = query_enc if query_keep == n_query else _cut(query_enc, query_keep)
            query_part = query_parts[query_keep]
            if chunk:
                text_enc.truncate(text_room, stride=text_room // 4)
                windows = [text_enc, *text_enc.overflowing][:MAX_WINDOWS]
            else:
                text_enc.truncate(text_room)
                windows = [text_enc]
            for window in windows:
                encodings.append(self._tokenizer.post_process(query_part, window))
                owners.append(index)
        return EncodedPairs(encodings=encodings, owners=owners, truncated=truncated)


def clean_copy(tokenizer: Tokenizer) -> Tokenizer:
    """A copy of ``tokenizer`` that neither truncates nor pads (the encoders do both themselves)."""
    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


def separates_pairs(sequence_ids: Sequence[int | None]) -> bool:
    """Whether a pair template keeps both segments and puts a special token between them."""
    first = [i for i, s in enumerate(sequence_ids) if s == 0]
    second = [i for i, s in enumerate(sequence_ids) if s == 1]
    if not first or not second or first[-1] > second[0]:
        return False
    return any(sequence_ids[i] is None for i in range(first[-1] + 1, second[0]))


def _cut(encoding: Encoding, length: int) -> Encoding:
    """A copy of ``encoding`` keeping its first ``length`` tokens (the original is untouched)."""
    copy = Encoding.merge([encoding], growing_offsets=False)
    copy.truncate(length)
    return copy
