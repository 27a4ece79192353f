"""Async micro-batching: concurrent requests on one event loop share model batches.

Requests that arrive within ``max_wait_ms`` of each other (or while the model is busy with the
previous group) are scored together, up to ``max_pairs`` pairs per group, in one length-sorted pass
run in a worker thread; the event loop never waits on the model. A cancelled request is dropped
from its group (or its result discarded) without touching the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rerank_core.engine.tokens import Tokens

RunFn = Callable[[list[Tokens]], np.ndarray]
"""Scores encodings and returns their logits ``(len(encodings), num_labels)`` in input order."""


@dataclass
class _Request:
    encodings: list[Tokens]
    future: asyncio.Future[np.ndarray] = field(repr=False)


class MicroBatcher:
    """Groups concurrent :meth:`submit` calls on one event loop into shared calls of ``run``.

    Args:
        run: The blocking scoring function; it runs in a worker thread, one group at a time.
        max_wait_ms: How long the first request of a group waits for others to join it.
        max_pairs: The most pairs in one group (a single larger request still runs alone, whole).
    """

    def __init__(self, run: RunFn, *, max_wait_ms: float, max_pairs: int) -> None:
        self._run = run
        self._max_wait = max_wait_ms / 1000
        self._max_pairs = max_pairs
        self._pending: list[_Request] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, encodings: list[Tokens]) -> np.ndarray:
        """Score ``encodings`` in the next shared group; their logits, in order."""
        if not encodings:
            return np.zeros((0, 1), dtype=np.float32)
        request = _Request(encodings, asyncio.get_running_loop().create_future())
        self._pending.append(request)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())
        return await request.future

    async def _work(self) -> None:
        """Run groups until nothing is pending; started again by the next request."""
        while self._pending:
            if self._pending_pairs() < self._max_pairs and self._max_wait > 0:
                await asyncio.sleep(self._max_wait)
            group = self._take_group()
            if not group:
                continue
            encodings = [encoding for request in group for encoding in request.encodings]
            try:
                logits = await asyncio.to_thread(self._run, encodings)
            except Exception as exc:  # every waiting request gets the model's error
                for request in group:
                    if not request.future.done():
                        request.future.set_exception(exc)
                continue
            start = 0
            for request in group:
                end = start + len(request.encodings)
                if not request.future.done():
                    request.future.set_result(logits[start:end])
                start = end

    def _pending_pairs(self) -> int:
        return sum(len(request.encodings) for request in self._pending if not request.future.done())

    def _take_group(self) -> list[_Request]:
        """Pop pending requests (dropping cancelled ones) up to ``max_pairs`` pairs; at least one."""
        live = [request for request in self._pending if not request.future.done()]
        group: list[_Request] = []
        pairs = 0
        for request in live:
            if group and pairs + len(request.encodings) > self._max_pairs:
                break
            group.append(request)
            pairs += len(request.encodings)
        self._pending = live[len(group) :]
        return group
