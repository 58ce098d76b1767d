"""Collecting items into batches by size and by age, for analyzers that prefer batches.

A transformer is much faster per message on a batch of 64 than on 64 single messages, but a
quiet chat must not wait for 64 messages: a batch is released when it is full or when its first
item has waited ``max_age_s``, whichever comes first.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def iter_batches(items: Iterable[T], size: int, max_age_s: float) -> Iterator[list[T]]:
    """Batches of at most ``size`` items, in order; the last may be shorter.

    ``items`` is read on a background thread so a slow producer (a pipe, a socket) cannot hold
    back a batch past its age. An exception raised while reading is re-raised here, after the
    items read before it have been yielded.
    """
    if size < 1:
        raise ValueError("batch size must be at least 1")
    inbox: queue.Queue[object] = queue.Queue(maxsize=size * 4)  # bounded: a slow consumer slows the reader
    failure: list[BaseException] = []

    def read() -> None:
        try:
            for item in items:
                inbox.put(item)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread
            failure.append(exc)
        finally:
            inbox.put(_DONE)

    threading.Thread(target=read, name="batch-reader", daemon=True).start()
    batch: list[T] = []
    deadline = 0.0
    while True:
        timeout = None if not batch else max(0.0, deadline - time.monotonic())
        try:
            item = inbox.get(timeout=timeout)
        except queue.Empty:
            yield batch
            batch = []
            continue
        if item is _DONE:
            break
        if not batch:
            deadline = time.monotonic() + max_age_s
        batch.append(item)  # type: ignore[arg-type]
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
    if failure:
        raise failure[0]
