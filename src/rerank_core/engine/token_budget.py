"""Tokenize no more of a text than its first tokens need: time and memory per text bounded by a token budget.

A text is read in chunks, each tokenized alone, until the tokens collected exceed the budget (with a small
margin) or the text ends:

- A chunk ends at a word's end near its end, where the pre-tokenizers of BERT (WordPiece), SentencePiece
  (Metaspace) and byte-level BPE split anyway, so the tokens read are the first tokens of the whole text's
  tokenization.
- A boundary that would fall inside a run of whitespace skips to the run's last :data:`MAX_WHITESPACE_RUN`
  characters: the same tokens for tokenizers that drop or collapse whitespace (WordPiece, XLM-R's
  SentencePiece), and for the others as long as the run is no longer.
- Chunks that yield few or no tokens (whitespace, combining marks a normalizer drops, one huge word read as
  ``[UNK]``) make the next chunk larger, at the density seen so far, up to :data:`MAX_CHUNK_CHARS`; and
  reading stops after :data:`MAX_CHARS_PER_TOKEN` characters per token of budget: such a text is read as
  what was read by then.

No tokenizer call is given more than :data:`MAX_CHUNK_CHARS` characters, and the characters tokenized per
text are bounded by the budget, whatever the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tokenizers import Encoding, Tokenizer

from rerank_core.engine.unicode_text import valid_unicode

CHARS_PER_TOKEN = 8
"""First guess at the characters a token takes (English wordpieces take about 4.5)."""
MIN_CHUNK_CHARS = 1024
MAX_CHUNK_CHARS = 65536
"""The most characters tokenized at once."""
MAX_CHARS_PER_TOKEN = 1024
"""Reading stops after this many characters tokenized per token of budget, whatever they yielded."""
MARGIN_TOKENS = 16
"""Tokens read beyond the budget, so that a cut inside a very long word cannot change the tokens kept."""
MAX_WHITESPACE_RUN = 256
"""A run of whitespace a chunk boundary falls in is read as its last this many characters."""
_WHITESPACE = (" ", "\n", "\t", "\r")
_NON_SPACE = re.compile(r"\S")


@dataclass(frozen=True, slots=True)
class TextPrefix:
    """The tokens of a text's first ``chars`` characters: at least the budget's, unless the text ends first."""

    encoding: Encoding
    chars: int
    """Characters read; ``chars == len(text)`` when the whole text was read."""
    spans: tuple[tuple[int, int], ...]
    """The chunks that yielded tokens, as ``(start, end)`` character ranges of the text."""
    offsets: list[tuple[int, int]]
    """Each token's ``(start, end)`` characters in the text (not in the chunks)."""

    def kept(self, text: str) -> str:
        """What a prompt holds of ``text``: the chunks that yielded tokens, joined (as valid Unicode)."""
        return valid_unicode("".join(text[start:end] for start, end in self.spans))

    def in_text(self, position: int, *, is_end: bool = False) -> int:
        """Where character ``position`` of :meth:`kept` is in the text (an ``is_end`` position at a join stays in
        the chunk before it)."""
        for start, end in self.spans:
            if position < end - start or (is_end and position == end - start):
                return start + position
            position -= end - start
        return self.chars


def encode_prefixes(tokenizer: Tokenizer, texts: Sequence[str], budget: int) -> list[TextPrefix]:
    """Each text's tokens (no special tokens), read until more than ``budget`` tokens are collected.

    ``tokenizer`` must neither truncate nor pad. Lone surrogates are read as U+FFFD.
    """
    needed = budget + MARGIN_TOKENS
    parts: list[list[Encoding]] = [[] for _ in texts]
    spans: list[list[tuple[int, int]]] = [[] for _ in texts]
    offsets: list[list[tuple[int, int]]] = [[] for _ in texts]
    counts = [0] * len(texts)
    starts = [0] * len(texts)
    tokenized = [0] * len(texts)
    pending = [i for i, text in enumerate(texts) if text]
    while pending:
        sizes = [_chunk_size(needed, counts[i], tokenized[i]) for i in pending]
        bounds = [_next_chunk(texts[i], starts[i], starts[i] + size) for i, size in zip(pending, sizes)]
        pieces = [valid_unicode(texts[i][starts[i] : end]) for i, (end, _) in zip(pending, bounds)]
        encoded = tokenizer.encode_batch(pieces, add_special_tokens=False)
        still = []
        for i, (stop, end), piece, encoding in zip(pending, bounds, pieces, encoded):
            tokenized[i] += len(piece)
            if len(encoding):
                parts[i].append(encoding)
                spans[i].append((starts[i], stop))
                offsets[i].extend((starts[i] + low, starts[i] + high) for low, high in encoding.offsets)
                counts[i] += len(encoding)
            starts[i] = end
            if counts[i] < needed and end < len(texts[i]) and tokenized[i] < needed * MAX_CHARS_PER_TOKEN:
                still.append(i)
        pending = still
    return [TextPrefix(_merged(parts[i], tokenizer), starts[i], tuple(spans[i]), offsets[i]) for i in range(len(texts))]


def _chunk_size(needed: int, count: int, read: int) -> int:
    """Characters to read next: the tokens still needed at the density of the ``read`` characters tokenized so
    far (or the first guess), bounded."""
    per_token = max(CHARS_PER_TOKEN, read / max(count, 1))
    return int(min(MAX_CHUNK_CHARS, max(MIN_CHUNK_CHARS, 1.25 * (needed - count) * per_token)))


def _next_chunk(text: str, start: int, stop: int) -> tuple[int, int]:
    """Where the chunk from ``start`` (at most to ``stop``) ends, and where the next one starts.

    - At the text's end, if it is within reach.
    - Where the cut would fall inside a run of whitespace, at the run's start: the next chunk starts at
      the run's last :data:`MAX_WHITESPACE_RUN` characters, so a long run is read as its tail.
    - Else at the last word end in the chunk's second half (the whitespace after it starts the next chunk,
      as pre-tokenizers split it), or at ``stop`` inside one long word.
    """
    if stop >= len(text):
        return len(text), len(text)
    if text[stop - 1].isspace() and text[stop].isspace():
        found = _NON_SPACE.search(text, stop)
        run_end = len(text) if found is None else found.start()
        run_start = start + len(text[start:stop].rstrip())
        return run_start, max(run_start, run_end - MAX_WHITESPACE_RUN)
    low = start + (stop - start) // 2
    cut = max(text.rfind(space, low, stop) for space in _WHITESPACE)
    while cut > low and text[cut - 1].isspace():
        cut -= 1
    return (cut, cut) if cut > low else (stop, stop)


def _merged(parts: list[Encoding], tokenizer: Tokenizer) -> Encoding:
    if not parts:
        return tokenizer.encode("", add_special_tokens=False)
    return parts[0] if len(parts) == 1 else Encoding.merge(parts, growing_offsets=True)
