"""Tokenize (query, text) pairs into a reranking prompt, segment by segment, as the recipe's reference code does.

A :class:`~rerank_core.engine.families.base.PromptTemplate` is a list of segments, each tokenized alone and joined
in order (an optional BOS first). Segments without fields (a system prefix, an assistant suffix) are
tokenized once and never truncated. A segment with fields is tokenized as one string, so a pair that fits
gets exactly the recipe's tokens; its tokens are then told apart by their character offsets (template text,
query or document). When the pair does not fit, the document is cut first and then the query, with the
balance of :class:`rerank_core.engine.encoding.PairEncoder` (the query keeps its tokens while they fit in half the
room); template text is never cut. With a :class:`~rerank_core.engine.chunking.ChunkPlan`
(``long_documents="max_chunk"``) a document that does not fit is cut into chunks, each in a prompt with the query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import Formatter

from tokenizers import Tokenizer

from rerank_core.engine.chunking import ChunkPlan, chunk_span
from rerank_core.engine.encoding import EncodedPairs, Span, clean_copy
from rerank_core.engine.families.base import PromptTemplate
from rerank_core.engine.token_budget import encode_prefixes
from rerank_core.engine.tokens import Tokens
from rerank_core.engine.unicode_text import valid_unicode
from rerank_core.errors import InvalidArgumentError, ModelLoadError

_FIELDS = ("instruction", "query", "document")


@dataclass(frozen=True, slots=True)
class PromptTokens:
    """One prompt's token ids (type ids are all zero: decoders have none)."""

    ids: list[int]

    @property
    def type_ids(self) -> list[int]:
        return [0] * len(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class _Piece:
    """A tokenized stretch of a prompt: its ids and, per token, ``""`` (template text), ``query`` or ``document``."""

    ids: list[int]
    parts: list[str]
    document: list[Span]
    """The characters of the document (in the segment's document value) that each ``document`` token holds."""


_FIXED_LENGTHS_KEPT = 64
"""Instructions whose template length is remembered at once (calls rarely use more than a few)."""


class PromptEncoder:
    """Builds a prompt model's inputs for ``(query, text)`` pairs within ``max_length`` tokens."""

    def __init__(self, tokenizer: Tokenizer, max_length: int, template: PromptTemplate) -> None:
        self._tokenizer = clean_copy(tokenizer)
        self.max_length = max_length
        self.template = template
        variants = [template.segments] + ([template.instructed] if template.instructed is not None else [])
        self._parsed = {variant: [list(Formatter().parse(segment)) for segment in variant] for variant in variants}
        for variant, parsed in self._parsed.items():
            _check_fields(variant, parsed)
        self._bos = [self._bos_id()] if template.add_bos else []
        self._fixed: dict[str | None, int] = {}
        if self._fixed_length(template.instruction) + 2 > max_length:
            raise ModelLoadError(f"max_length={max_length} leaves no room for a query and a text in the prompt.")

    def encode(
        self, query: str, texts: Sequence[str], chunks: ChunkPlan | None, instruction: str | None = None
    ) -> EncodedPairs:
        """Encode ``query`` with each text (truncated, or in ``chunks``); ``owners[i]`` is the text index of
        ``encodings[i]``."""
        instruction = self._instruction(instruction)
        room = self.max_length - self._fixed_length(instruction)
        if room < 2:
            raise InvalidArgumentError(f"The instruction leaves no room for a query and a text in {self.max_length}.")
        query = encode_prefixes(self._tokenizer, [query], room)[0].kept(query)
        values = {"instruction": instruction or "", "query": query}
        prefixes = encode_prefixes(self._tokenizer, texts, room if chunks is None else chunks.read_budget(room))
        documents = [prefix.kept(text) for prefix, text in zip(prefixes, texts)]
        segments = self._parsed[self.template.segments_for(instruction)]
        per_segment = [self._tokenize(pieces, values, documents) for pieces in segments]
        encodings: list[Tokens] = []
        owners: list[int] = []
        spans: list[Span] = []
        truncated = 0
        for index, (text, prefix, document) in enumerate(zip(texts, prefixes, documents)):
            pieces = [segment[index] for segment in per_segment]
            n_query = sum(piece.parts.count("query") for piece in pieces)
            offsets = [span for piece in pieces for span in piece.document]
            n_text = len(offsets)
            room = self.max_length - len(self._bos) - sum(piece.parts.count("") for piece in pieces)
            fits = n_query + n_text <= room
            if fits and (chunks is None or n_text <= chunks.chunk_size(room - n_query)):
                encodings.append(PromptTokens(self._bos + [i for piece in pieces for i in piece.ids]))
                owners.append(index)
                spans.append((0, len(text)))
                continue
            truncated += not fits
            query_keep = n_query if n_query <= room // 2 or fits else max(room // 2, room - n_text)
            text_room = room - query_keep
            ranges = [(0, text_room)] if chunks is None else chunks.ranges(document, offsets, text_room)
            for start, stop in ranges:
                encodings.append(PromptTokens(self._bos + _join(pieces, query_keep, start, stop)))
                owners.append(index)
                first, last = chunk_span(document, offsets, start, stop)
                spans.append((prefix.in_text(first), prefix.in_text(last, is_end=True)))
        return EncodedPairs(encodings=encodings, owners=owners, spans=spans, truncated=truncated)

    def _tokenize(
        self,
        pieces: list[tuple[str, str | None, str | None, str | None]],
        values: dict[str, str],
        documents: Sequence[str],
    ) -> list[_Piece]:
        """One segment for every document (computed once when it does not hold the document)."""
        names = [name for _, name, _, _ in pieces if name is not None]
        if "document" not in names:
            piece = self._piece(pieces, values)
            return [piece] * len(documents)
        strings = [_format(pieces, {**values, "document": document}) for document in documents]
        encoded = self._tokenizer.encode_batch([string for string, _ in strings], add_special_tokens=False)
        return [_label(e.ids, e.offsets, spans) for (_, spans), e in zip(strings, encoded)]

    def _piece(self, pieces: list[tuple[str, str | None, str | None, str | None]], values: dict[str, str]) -> _Piece:
        string, spans = _format(pieces, values)
        encoding = self._tokenizer.encode(string, add_special_tokens=False)
        return _label(encoding.ids, encoding.offsets, spans)

    def _fixed_length(self, instruction: str | None) -> int:
        """Tokens of the template's own text (the instruction included), with an empty query and document;
        worked out once per instruction."""
        if instruction not in self._fixed:
            values = {"instruction": instruction or "", "query": "", "document": ""}
            segments = self._parsed[self.template.segments_for(instruction)]
            if len(self._fixed) >= _FIXED_LENGTHS_KEPT:
                self._fixed.clear()
            self._fixed[instruction] = len(self._bos) + sum(len(self._piece(p, values).ids) for p in segments)
        return self._fixed[instruction]

    def _instruction(self, instruction: str | None) -> str | None:
        """The call's instruction (checked by the scorer), else the template's default; refused where the template
        takes none."""
        if instruction is None:
            return self.template.instruction
        if not self.template.takes_instruction:
            raise InvalidArgumentError("This model's prompt takes no instruction; pass instruction=None.")
        return valid_unicode(instruction)

    def _bos_id(self) -> int:
        for token in ("<bos>", "<s>", "<|begin_of_text|>"):
            if (found := self._tokenizer.token_to_id(token)) is not None:
                return found
        raise ModelLoadError("The prompt starts with the BOS token, but the tokenizer has none.")


def _check_fields(variant: tuple[str, ...], parsed: list[list[tuple[str, str | None, str | None, str | None]]]) -> None:
    """A prompt holds ``{query}`` then ``{document}``, once each, and ``{instruction}`` at most once."""
    fields = [name for pieces in parsed for _, name, _, _ in pieces if name is not None]
    if (
        any(name not in _FIELDS or fields.count(name) > 1 for name in fields)
        or "query" not in fields
        or "document" not in fields
        or fields.index("query") > fields.index("document")
    ):
        raise ModelLoadError(
            "A prompt needs {query} then {document}, once each (and {instruction} at most once); got "
            f"{variant!r}."
        )


def _format(
    pieces: list[tuple[str, str | None, str | None, str | None]], values: dict[str, str]
) -> tuple[str, dict[str, tuple[int, int]]]:
    """A segment's string and the character span of each value in it."""
    out: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    length = 0
    for literal, name, _, _ in pieces:
        out.append(literal)
        length += len(literal)
        if name is not None:
            value = values[name]
            spans[name] = (length, length + len(value))
            out.append(value)
            length += len(value)
    return "".join(out), spans


def _label(ids: list[int], offsets: list[tuple[int, int]], spans: dict[str, tuple[int, int]]) -> _Piece:
    """Each token's part: the query's or the document's if it overlaps their characters, else template text."""
    parts = []
    document: list[Span] = []
    low, high = spans.get("document", (0, 0))
    for start, end in offsets:
        part = ""
        for name in ("document", "query"):
            first, last = spans.get(name, (0, 0))
            if last > first and start < last and end > first:
                part = name
                break
        parts.append(part)
        if part == "document":
            document.append((max(start, low) - low, min(end, high) - low))
    return _Piece(ids, parts, document)


def _join(pieces: list[_Piece], query_keep: int, text_start: int, text_stop: int) -> list[int]:
    """The pieces' ids with the query cut to ``query_keep`` tokens and the document to ``[text_start, text_stop)``."""
    out: list[int] = []
    n_query = n_text = 0
    for piece in pieces:
        for token, part in zip(piece.ids, piece.parts):
            if part == "query":
                n_query += 1
                if n_query > query_keep:
                    continue
            elif part == "document":
                n_text += 1
                if not text_start < n_text <= text_stop:
                    continue
            out.append(token)
    return out
