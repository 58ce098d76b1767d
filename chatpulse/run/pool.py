"""Where the embedded run's work batches run: a thread of ``run`` itself, worker processes, or both in turn.

A few channels' chat (hundreds of lines a second) costs one thread a few percent of a core, while
each worker process holds a few hundred MiB (the interpreter, pyarrow, the analyzer). So by
default (:class:`ElasticPool`) batches run in one thread of this process, and only when that
thread is busy more than half the time does the pool start worker processes (one per core plus
one); when the load has stayed low for a while they exit again. A fixed count
(``--workers N``) starts N processes at once and keeps them; ``--workers 0`` never starts any.

Batches leave in the order they were submitted whichever executor ran them (the caller awaits
the futures in order), so moderation still follows its messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import multiprocessing
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Final

import pyarrow as pa

from chatpulse.config import PrivacySettings, SentimentSettings
from chatpulse.run.work import LineBatch, ProcessedBatch, init_worker, process_batch

log = logging.getLogger(__name__)

GROW_BUSY: Final = 0.5  # the thread worker busier than this (fraction of the window) -> processes
GROW_BACKLOG: Final = 3  # ... or this many batches waiting for it
SHRINK_BUSY: Final = 0.15  # the load would keep the thread busy less than this ...
SHRINK_AFTER_S: Final = 30.0  # ... for this long -> the processes exit
WINDOW_S: Final = 2.0  # how far back the load is measured


class ElasticPool:
    """Runs :func:`~chatpulse.run.work.process_batch` in a thread, or in up to ``max_processes``
    worker processes while the load needs them (``fixed``: processes from the start, for good).

    Who calls what: the pipeline's dispatcher calls :meth:`submit` for every batch, in order, on
    the event loop; :meth:`shutdown` once at the end. ``processes`` (how many run now) is read by
    the status line and metrics."""

    def __init__(
        self,
        sentiment: SentimentSettings,
        emote_cache: Path | None,
        max_processes: int,
        *,
        fixed: bool = False,
        privacy: PrivacySettings | None = None,
    ) -> None:
        self.sentiment = sentiment
        self.privacy = privacy
        self.emote_cache = emote_cache
        self.max_processes = max_processes
        self.fixed = fixed and max_processes > 0
        self._thread: ThreadPoolExecutor | None = None
        self._processes: ProcessPoolExecutor | None = None
        self._retired: list[ProcessPoolExecutor] = []
        # (finished at, seconds the thread spent, lines) per batch run in the thread: its cost
        self._thread_work: deque[tuple[float, float, int]] = deque()
        self._cost_per_line = 0.0  # thread seconds per line, as last measured
        self._lines: deque[tuple[float, int]] = deque()  # (submitted at, lines) for the load
        self._low_since: float | None = None
        self._in_thread: deque[asyncio.Future[ProcessedBatch]] = deque()  # submitted, maybe not done
        if self.fixed:
            self._processes = self._start_processes()

    @property
    def processes(self) -> int:
        return self.max_processes if self._processes is not None else 0

    def submit(self, loop: asyncio.AbstractEventLoop, batch: LineBatch) -> asyncio.Future[ProcessedBatch]:
        now = time.monotonic()
        lines = len(batch.received_at) + len(batch.events)
        self._lines.append((now, lines))
        while self._lines and now - self._lines[0][0] > SHRINK_AFTER_S:
            self._lines.popleft()
        if not self.fixed:
            self._adapt(now)
        if self._processes is not None:
            return loop.run_in_executor(self._processes, process_batch, batch)
        future = loop.run_in_executor(self._thread_executor(), self._timed, batch)
        self._in_thread.append(future)
        return future

    def shutdown(self, wait: bool = True) -> None:
        for executor in (self._processes, *self._retired, self._thread):
            if executor is not None:
                executor.shutdown(wait=wait, cancel_futures=not wait)

    # -- how busy -----------------------------------------------------------------------------

    def _timed(self, batch: LineBatch) -> ProcessedBatch:
        started = time.perf_counter()
        result = process_batch(batch)
        spent = time.perf_counter() - started
        self._thread_work.append((time.monotonic(), spent, result.lines + len(batch.events)))
        return result

    def _thread_busy(self, now: float) -> float:
        work = self._thread_work
        while work and now - work[0][0] > WINDOW_S:
            work.popleft()
        done = list(work)  # one atomic copy: the worker thread appends meanwhile
        spent = sum(seconds for _, seconds, _ in done)
        lines = sum(n for _, _, n in done)
        if lines:
            self._cost_per_line = spent / lines
        return spent / WINDOW_S

    def _expected_busy(self, now: float, span_s: float) -> float:
        """How busy the thread would be with the lines submitted over the last ``span_s``."""
        lines = sum(n for at, n in self._lines if now - at <= span_s)
        return lines / span_s * self._cost_per_line

    def _backlog(self) -> int:
        """Batches given to the thread that it has not finished."""
        while self._in_thread and self._in_thread[0].done():
            self._in_thread.popleft()
        return len(self._in_thread)

    def _adapt(self, now: float) -> None:
        if self._processes is None:
            busy = self._backlog() >= GROW_BACKLOG or self._thread_busy(now) > GROW_BUSY
            if self.max_processes > 0 and busy:
                log.info("chat needs more than one thread: starting %d worker processes", self.max_processes)
                self._processes = self._start_processes()
                self._low_since = None
            return
        if self._expected_busy(now, WINDOW_S) >= SHRINK_BUSY:
            self._low_since = None
        elif self._low_since is None:
            self._low_since = now
        elif now - self._low_since >= SHRINK_AFTER_S:
            log.info("chat is quiet again: the worker processes exit, one thread does the work")
            self._processes.shutdown(wait=False)  # batches already given to it still finish
            self._retired.append(self._processes)
            self._processes = None
            self._thread_work.clear()

    # -- executors ----------------------------------------------------------------------------

    def _thread_executor(self) -> ThreadPoolExecutor:
        if self._thread is None:
            init_worker(self.sentiment, False, self.emote_cache, self.privacy)
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="chatpulse-work")
        return self._thread

    def _start_processes(self) -> ProcessPoolExecutor:
        # spawn, not fork: the parent holds chDB and threads, which a fork must not copy.
        return ProcessPoolExecutor(
            self.max_processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(self.sentiment, True, self.emote_cache, self.privacy),
        )


def release_unused_memory() -> None:
    """Return memory freed after a burst to the system: Arrow's allocator keeps freed pages for
    reuse, and so does glibc's malloc until ``malloc_trim`` (a no-op elsewhere)."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
