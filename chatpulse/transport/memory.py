"""The embedded transport: a bounded in-process queue between two pipeline stages.

``chatpulse run`` (without ``--kafka``) connects its stages with these queues. Each has a fixed
size: a producer that finds it full waits (back-pressure reaches the source, which then reads
more slowly) instead of letting memory grow. The queue can be closed: producers then get
:class:`QueueClosedError`, and consumers still receive every queued item before
:meth:`MemoryQueue.get` returns ``None`` — that is how shutdown drains a stage.

Producers and consumers must run on the same event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

from chatpulse.errors import TransportError

T = TypeVar("T")


class QueueClosedError(TransportError):
    """A producer tried to put into a closed queue."""


class MemoryQueue(Generic[T]):
    """A bounded FIFO with close-and-drain semantics and counters for the status line."""

    def __init__(self, maxsize: int, name: str = "queue") -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.name = name
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._changed = asyncio.Condition()
        self._closed = False
        self.put_count = 0
        self.blocked_s = 0.0  # time producers spent waiting on a full queue

    @property
    def depth(self) -> int:
        """Items waiting now."""
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    async def put(self, item: T) -> None:
        """Append ``item``; waits while the queue is full. Raises QueueClosedError once closed."""
        async with self._changed:
            if len(self._items) >= self.maxsize and not self._closed:
                started = time.perf_counter()
                await self._changed.wait_for(lambda: len(self._items) < self.maxsize or self._closed)
                self.blocked_s += time.perf_counter() - started
            if self._closed:
                raise QueueClosedError(f"{self.name} is closed")
            self._items.append(item)
            self.put_count += 1
            self._changed.notify_all()

    async def get(self) -> T | None:
        """The oldest item; waits while empty. ``None`` once closed and drained."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._items) or self._closed)
            if not self._items:
                return None
            item = self._items.popleft()
            self._changed.notify_all()
            return item

    async def close(self) -> None:
        """No more puts; consumers drain what is queued, then get ``None``. Idempotent."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()

    async def __aiter__(self) -> AsyncIterator[T]:
        while (item := await self.get()) is not None:
            yield item
