"""Cut a long text into chunks that each fit the model's window, as Elasticsearch's chunk rescorer does.

With ``long_documents="max_chunk"`` a text that does not fit beside the query (or is longer than an explicit
``chunk_size``) is cut into chunks; each chunk is scored with the query and the text keeps its best chunk's
score and that chunk's character span. Three strategies, as :class:`ChunkPlan` names them:

- ``window``: windows of ``chunk_size`` tokens, each sharing ``chunk_overlap`` tokens with the previous one
  (default a quarter), cut anywhere, inside a word too.
- ``word``: as ``window``, but every chunk starts and ends at a word boundary (words are separated by
  whitespace); a single word longer than a chunk is cut as windows.
- ``sentence``: whole sentences (found by ``sentencex``, whose rules keep abbreviations, initials and
  decimals inside a sentence), packed up to ``chunk_size`` tokens; each chunk after the first starts with the
  last ``sentence_overlap`` sentences of the previous one, as far as they fit. A sentence longer than a chunk
  is cut as words.

Sizes count the model's tokens, not words as Elasticsearch's ``max_chunk_size`` does, so a chunk always fits
the window and is never truncated; ``chunk_size=None`` is the room the query leaves. Only the first
``max_chunks_per_doc`` chunks are scored: the text beyond them is neither tokenized nor read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from rerank_core.engine.unicode_text import valid_unicode

Chunking = Literal["window", "sentence", "word"]
CHUNKINGS: tuple[str, ...] = get_args(Chunking)

SENTENCE_LANGUAGE = "en"
"""The rules ``sentencex`` splits sentences by (its English rules also end sentences at CJK full stops)."""

Offsets = Sequence[tuple[int, int]]
"""Each token's ``(start, end)`` characters in the text."""


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """How ``long_documents="max_chunk"`` cuts texts: the strategy and its sizes (see the module's docstring)."""

    strategy: Chunking = "window"
    size: int | None = None
    """Tokens per chunk (``None``: all the room there is)."""
    overlap: int | None = None
    """``window`` / ``word``: tokens shared with the previous chunk (``None``: a quarter of the chunk)."""
    sentence_overlap: int = 1
    """``sentence``: sentences repeated from the end of the previous chunk."""
    max_chunks: int = 32
    """Chunks scored per text, its first ones."""

    def chunk_size(self, room: int) -> int:
        """Tokens per chunk where ``room`` tokens are free for the text."""
        return room if self.size is None else max(1, min(self.size, room))

    def read_budget(self, room: int) -> int:
        """The most text tokens the first :attr:`max_chunks` chunks can hold with ``room`` tokens free."""
        size = self.chunk_size(room)
        if self.strategy == "sentence":
            return size * self.max_chunks
        return size + (self.max_chunks - 1) * (size - self._overlap(size))

    def ranges(self, text: str, offsets: Offsets, room: int) -> list[tuple[int, int]]:
        """The chunks of a text whose tokens have ``offsets``, as ``[start, stop)`` token ranges, at most
        :attr:`max_chunks` of them; one range for a text that fits a chunk."""
        count = len(offsets)
        size = self.chunk_size(room)
        if count <= size:
            return [(0, count)]
        if self.strategy == "window":
            found = _windows(0, count, size, self._overlap(size), self.max_chunks)
        elif self.strategy == "word":
            found = _word_chunks(
                _word_starts(text, offsets, 0, count), count, size, self._overlap(size), self.max_chunks
            )
        else:
            found = self._sentence_chunks(text, offsets, size)
        return found[: self.max_chunks]

    def _overlap(self, size: int) -> int:
        return min(size // 4 if self.overlap is None else self.overlap, size - 1)

    def _sentence_chunks(self, text: str, offsets: Offsets, size: int) -> list[tuple[int, int]]:
        """Whole sentences packed up to ``size`` tokens; a longer sentence is cut as words."""
        bounds = _sentence_starts(text, offsets)
        chunks: list[tuple[int, int]] = []
        first = 0
        while first < len(bounds) - 1 and len(chunks) < self.max_chunks:
            start = bounds[first]
            if bounds[first + 1] - start > size:
                words = _word_starts(text, offsets, start, bounds[first + 1])
                chunks += _word_chunks(words, bounds[first + 1], size, size // 4, self.max_chunks - len(chunks))
                first += 1
                continue
            last = first + 1
            while last < len(bounds) - 1 and bounds[last + 1] - start <= size:
                last += 1
            chunks.append((start, bounds[last]))
            if last == len(bounds) - 1:
                break
            first = max(first + 1, last - self.sentence_overlap)
            while first < last and bounds[last + 1] - bounds[first] > size:
                first += 1
        return chunks


def _windows(start: int, stop: int, size: int, overlap: int, limit: int) -> list[tuple[int, int]]:
    """Windows of ``size`` tokens over ``[start, stop)``, each sharing ``overlap`` tokens with the previous one."""
    windows = [(start, min(start + size, stop))]
    while windows[-1][1] < stop and len(windows) < limit:
        begin = windows[-1][1] - overlap
        windows.append((begin, min(begin + size, stop)))
    return windows


def _word_starts(text: str, offsets: Offsets, start: int, stop: int) -> list[int]:
    """The tokens of ``[start, stop)`` that begin a word (whitespace before or at them), ``start`` first."""
    return [start] + [
        i for i in range(start + 1, stop) if any(c.isspace() for c in text[offsets[i - 1][1] : offsets[i][0] + 1])
    ]


def _word_chunks(starts: list[int], stop: int, size: int, overlap: int, limit: int) -> list[tuple[int, int]]:
    """Chunks of whole words (``starts`` begin them, the last ends at ``stop``) up to ``size`` tokens, each starting
    at the earliest word whose tokens up to the previous chunk's end are at most ``overlap``."""
    bounds = [*starts, stop]
    chunks: list[tuple[int, int]] = []
    first = 0
    while first < len(starts) and len(chunks) < limit:
        begin = bounds[first]
        if bounds[first + 1] - begin > size:
            chunks += _windows(begin, bounds[first + 1], size, overlap, limit - len(chunks))
            first += 1
            continue
        last = first + 1
        while last < len(starts) and bounds[last + 1] - begin <= size:
            last += 1
        chunks.append((begin, bounds[last]))
        if last == len(starts):
            break
        first = next(j for j in range(first + 1, last + 1) if bounds[last] - bounds[j] <= overlap)
    return chunks


def _sentence_starts(text: str, offsets: Offsets) -> list[int]:
    """Token indices where sentences begin (a token belongs to the sentence its first non-space character is in),
    and the token count last."""
    from sentencex import get_sentence_boundaries

    read = valid_unicode(text[: offsets[-1][1] if offsets else 0])
    starts = sorted({int(b["start_index"]) for b in get_sentence_boundaries(SENTENCE_LANGUAGE, read)})
    bounds = [0]
    sentence = 1
    for i in range(len(offsets)):
        begin = _first_char(text, offsets[i])
        while sentence < len(starts) and starts[sentence] <= begin:
            if bounds[-1] != i:
                bounds.append(i)
            sentence += 1
    return [*bounds, len(offsets)]


def chunk_span(text: str, offsets: Offsets, start: int, stop: int) -> tuple[int, int]:
    """The characters tokens ``[start, stop)`` hold, from the first one's first non-space character."""
    return _first_char(text, offsets[start]), offsets[stop - 1][1]


def _first_char(text: str, offset: tuple[int, int]) -> int:
    begin, end = offset
    piece = text[begin:end]
    return begin + len(piece) - len(piece.lstrip())
