"""A bounded LRU cache of scores (with the span each came from), keyed by (model, options, query, text hash).

Keys are 16-byte BLAKE2b digests, so the cache holds neither queries nor texts and each entry costs
about 150 bytes whatever the text's length: 100,000 entries take about 15 MB.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Generic, TypeVar

from rerank_core.validation import check_positive_int

V = TypeVar("V")


class ScoreCache(Generic[V]):
    """Least-recently-used scores, at most ``max_entries`` of them; safe to share between threads.

    Args:
        max_entries: The bound; the least recently used entry is evicted beyond it.
        namespace: What the scores depend on besides query and text (model and options); part of every key.
    """

    def __init__(self, max_entries: int, namespace: str) -> None:
        self.max_entries = check_positive_int("cache_size", max_entries)
        self._namespace = namespace.encode("utf-8", "surrogatepass")
        self._entries: OrderedDict[bytes, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def keys_for(self, query: str, texts: Sequence[str]) -> list[bytes]:
        """One key per text for this query."""
        prefix = hashlib.blake2b(self._namespace, digest_size=16)
        prefix.update(b"\0q")
        prefix.update(query.encode("utf-8", "surrogatepass"))
        prefix.update(b"\0t")
        keys = []
        for text in texts:
            digest = prefix.copy()
            digest.update(text.encode("utf-8", "surrogatepass"))
            keys.append(digest.digest())
        return keys

    def get_many(self, keys: Sequence[bytes]) -> list[V | None]:
        """The cached score of each key, ``None`` for a miss; hits become most recently used."""
        found: list[V | None] = []
        with self._lock:
            for key in keys:
                score = self._entries.get(key)
                if score is not None:
                    self._entries.move_to_end(key)
                found.append(score)
            hit_count = sum(score is not None for score in found)
            self.hits += hit_count
            self.misses += len(found) - hit_count
        return found

    def put_many(self, keys: Sequence[bytes], scores: Sequence[V]) -> None:
        """Store scores, evicting the least recently used beyond the bound."""
        with self._lock:
            for key, score in zip(keys, scores):
                self._entries[key] = score
                self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0
