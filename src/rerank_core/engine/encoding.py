"""Tokenize (query, text) pairs with balanced truncation or, for long texts, in chunks.

Works on a ``tokenizers.Tokenizer`` alone, so every backend (torch, ONNX) shares one
tokenization path.

Balanced truncation: a pair that fits the window is left alone. Otherwise the query keeps all
its tokens as long as it fits in half the window, and the text gets the rest; only a query
longer than half the window is cut, to half (or to what the text leaves free, if more). A long
document therefore never pushes the query out, and a very long query never leaves the
document without room.

With a :class:`~rerank_core.engine.chunking.ChunkPlan` (``long_documents="max_chunk"``) a text that does not
fit is cut into chunks of the room the query leaves (or of the plan's smaller size), each paired with the
(same) query; every encoding records the characters of the text it holds, so the best chunk can be cited.

No text or query is tokenized further than its kept tokens need (:mod:`rerank_core.engine.token_budget`): the
work and memory of a pair are bounded by the window and the chunk cap, however long or strange its text.

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

from rerank_core.engine.chunking import ChunkPlan, chunk_span
from rerank_core.engine.token_budget import encode_prefixes
from rerank_core.engine.tokens import Tokens
from rerank_core.errors import InvalidArgumentError, ModelLoadError

LongDocuments = Literal["truncate", "max_chunk"]
LONG_DOCUMENT_MODES: tuple[str, ...] = ("truncate", "max_chunk")

Span = tuple[int, int]
"""A ``(start, end)`` range of a text's characters."""


@dataclass(frozen=True, slots=True)
class EncodedPairs:
    """The model inputs for a list of texts: one encoding per chunk, its owner text and the characters it holds."""

    encodings: list[Tokens]
    owners: list[int]
    spans: list[Span]
    """The characters of its owner text that each encoding holds (the whole text, the truncated start or a chunk)."""
    truncated: int
    """How many texts did not fit the window."""


@dataclass(frozen=True, slots=True)
class SplicedTokens:
    """A pair template's tokens around a slice of a text's tokens."""

    ids: list[int]
    type_ids: list[int]
    sequence_ids: list[int | None]
    """``0`` for the query's tokens, ``1`` for the text's, ``None`` for the template's (as ``tokenizers`` has it)."""

    def __len__(self) -> int:
        return len(self.ids)


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
        self, query: str, texts: Sequence[str], chunks: ChunkPlan | None, instruction: str | None = None
    ) -> EncodedPairs:
        """Encode ``query`` with each text (truncated, or in ``chunks``); ``owners[i]`` is the text index of
        ``encodings[i]``.

        ``instruction`` must be ``None``: a pair template has no place for one.
        """
        if instruction is not None:
            raise InvalidArgumentError(
                "This model joins query and text with its tokenizer's pair template, which takes no instruction; "
                "pass instruction=None (instructions are for prompt models such as Qwen3-Reranker)."
            )
        query_enc = encode_prefixes(self._tokenizer, [query], self._room)[0].encoding
        half = self._room // 2
        budget = self._room if chunks is None else chunks.read_budget(self._room)
        prefixes = encode_prefixes(self._tokenizer, texts, budget)
        out = EncodedPairs(encodings=[], owners=[], spans=[], truncated=0)
        truncated = 0
        query_parts: dict[int, Encoding] = {}
        for index, (text, prefix) in enumerate(zip(texts, prefixes)):
            text_enc = prefix.encoding
            n_query, n_text = len(query_enc), len(text_enc)
            fits = n_query + n_text <= self._room
            if fits and (chunks is None or n_text <= chunks.chunk_size(self._room - n_query)):
                out.encodings.append(self._tokenizer.post_process(query_enc, text_enc))
                out.owners.append(index)
                out.spans.append((0, len(text)))
                continue
            truncated += not fits
            query_keep = n_query if n_query <= half or fits else max(half, self._room - n_text)
            text_room = self._room - query_keep
            if query_keep not in query_parts:
                query_parts[query_keep] = query_enc if query_keep == n_query else _cut(query_enc, query_keep)
            ranges = [(0, text_room)] if chunks is None else chunks.ranges(text, prefix.offsets, text_room)
            self._splice(
                out,
                index,
                query_parts[query_keep],
                text_enc,
                [chunk_span(text, prefix.offsets, *r) for r in ranges],
                ranges,
            )
        return EncodedPairs(encodings=out.encodings, owners=out.owners, spans=out.spans, truncated=truncated)

    def _splice(
        self,
        out: EncodedPairs,
        index: int,
        query_part: Encoding,
        text_enc: Encoding,
        spans: Sequence[Span],
        ranges: Sequence[tuple[int, int]],
    ) -> None:
        """Append the pair template around each token range of the text, and the characters (``spans``) it holds."""
        template = self._tokenizer.post_process(query_part, _cut(text_enc, 1))
        at = template.sequence_ids.index(1)
        ids, type_ids, sequence_ids = template.ids, template.type_ids, template.sequence_ids
        text_ids = text_enc.ids
        for (start, stop), span in zip(ranges, spans):
            out.encodings.append(
                SplicedTokens(
                    ids[:at] + text_ids[start:stop] + ids[at + 1 :],
                    type_ids[:at] + [type_ids[at]] * (stop - start) + type_ids[at + 1 :],
                    sequence_ids[:at] + [1] * (stop - start) + sequence_ids[at + 1 :],
                )
            )
            out.owners.append(index)
            out.spans.append(span)


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
