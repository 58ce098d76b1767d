"""The embedded pipeline: source -> parse -> sentiment -> store, in one process. Wiring only.

::

    source.stream()  --RawLine-->  reader  --LineBatch-->  [raw queue]  --> dispatcher
        --> process pool (parse_line + third-party emotes + analyzer + store rows, per batch)
        --> [in-flight queue, FIFO]  --> collector  --ProcessedBatch-->  [store queue]
        --> store stage (one thread)  --> ClickHouseSink.add_batch / flush  --> writer thread
        --> queryable

- asyncio does the I/O (source, dashboard); CPU work runs off the event loop: parsing and
  scoring in a pool of worker processes (one per core plus one by default; ``workers=0`` runs
  them in a thread instead, for small runs and tests), the sink's blocking store calls in one
  thread.
- Every queue is a bounded :class:`~chatpulse.transport.memory.MemoryQueue` and at most
  ``workers * 2`` batches are in the pool at once, so a slow store slows the reader, which
  slows the source (back-pressure), instead of growing memory.
- Batches leave the pool in the order they entered it, so moderation (CLEARMSG, bans) always
  reaches the sink after the messages it targets.
- The workers return the store's rows as Arrow tables (:class:`~chatpulse.store.rows.StoreBatch`),
  not event objects: a batch of Arrow buffers pickles and unpickles in a fraction of the time
  of thousands of frozen dataclasses, and the main process (source, event loop, sink) is the
  busiest one. Third-party emotes (7TV/BTTV/FFZ, from the on-disk cache that
  ``chatpulse emotes refresh`` fills) are added in the workers before scoring, so the lexicon,
  ``chat_emotes`` and the top-emote charts see them; the main process records each channel's
  room id in that cache the first time it sees it.
- :meth:`Pipeline.stop` (Ctrl-C, SIGTERM, ``--duration``) closes the source; every stage then
  drains what it holds and the sink flushes: on return of :meth:`Pipeline.run` everything
  received is in the store (or in the sink's on-disk spool if the store was failing).
- The store stage does not wait for a flush to be written: it hands it to the sink's writer
  thread (``flush(wait=False)``) and goes on taking batches, and counts the flush as stored
  when ``sink.stats.rows_done`` passes it. So the workers keep working while ClickHouse
  inserts, and the writer holds one flush at a time (back-pressure stays).

Latency is measured from each message's ``sent_at`` (the server's clock; for a replay, whose
``sent_at`` is history, from ``received_at``) to the end of the flush that made it queryable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from array import array
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from chatpulse.config import PrivacySettings, SentimentSettings
from chatpulse.emotes import EmoteCache
from chatpulse.events import ChatEvent
from chatpulse.run.pool import ElasticPool, release_unused_memory
from chatpulse.run.status import RecentRate, StatusSnapshot
from chatpulse.run.work import LineBatch, ProcessedBatch
from chatpulse.sources.base import RawLine, Source
from chatpulse.stages import RoomIds
from chatpulse.store import Sink
from chatpulse.transport.memory import MemoryQueue

log = logging.getLogger(__name__)

LATENCY_SAMPLES: Final = 20_000


def default_workers() -> int:
    """One worker process per core, plus one. The parent (event loop, source, store stage and
    chDB's inserts) needs about a core in bursts; with one worker per core a core sat idle
    whenever the parent waited. In ``bench e2e`` on 2 cores, 3 workers beat 2 in 8 of 8 paired
    runs: sustained 54.1k vs 50.8k msgs/s on average; the rate including the pool's start-up
    was the same (42.6k), and a worker holds ~360 MiB."""
    return (os.cpu_count() or 1) + 1


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Sizes and timings; the defaults suit both a laptop demo and the throughput benchmark."""

    # Worker processes: None = as many as the load needs, up to default_workers() (a thread of
    # this process while one suffices, see chatpulse.run.pool); N = N processes from the start;
    # 0 = a thread, never a process.
    workers: int | None = None

    @property
    def max_workers(self) -> int:
        return default_workers() if self.workers is None else self.workers

    # Lines per work batch. Each batch costs fixed work (pickling, Arrow tables, a future); with
    # 5,000 instead of 2,000 lines bench e2e ran ~9 % faster (5 of 6 paired runs; 10,000 gained
    # nothing more). Latency is bounded by the age below: up to 50k lines/s, batches leave by age.
    batch_lines: int = 5000
    batch_age_s: float = 0.1  # a partial batch leaves the reader after this long
    queue_batches: int = 4  # size of the raw and store queues, in batches
    flush_rows: int = 100_000  # the store stage flushes the sink at this many events ...
    flush_age_s: float = 0.5  # ... or when the oldest unflushed event is this old ...
    # ... or this old while processed batches wait for the store stage or the sink is still
    # writing the previous flush: then the pipeline is busy, and bigger inserts cost ClickHouse
    # much less per row (fewer parts to write and merge).
    busy_flush_age_s: float = 1.5


# --- the pipeline -------------------------------------------------------------------------------


@dataclass(slots=True)
class Counters:
    lines: int = 0
    parsed: int = 0
    messages: int = 0
    stored: int = 0  # events flushed to the store (messages and kept events)
    parse_errors: int = 0
    skipped: int = 0
    source_events: int = 0  # ready-made events from the source (coverage)
    withheld: int = 0  # chat messages of opted-out users: dropped, only counted (privacy.opt_out)


class Pipeline:
    """Runs one source into one sink until the source ends or :meth:`stop` is called."""

    def __init__(
        self,
        source: Source,
        sink: Sink,
        sentiment: SentimentSettings,
        config: PipelineConfig | None = None,
        *,
        emote_cache: Path | None = None,
        privacy: PrivacySettings | None = None,
    ) -> None:
        """``emote_cache``: the third-party emote cache folder (``emotes.cache_dir``); None
        leaves emotes to what Twitch tags. ``privacy``: the opt-out list and pseudonyms the
        workers apply right after parsing; None applies none (benchmarks, tests)."""
        self.source = source
        self.sink = sink
        self.sentiment = sentiment
        self.config = config or PipelineConfig()
        self.emote_cache = emote_cache
        self.privacy = privacy
        self.room_ids = RoomIds(EmoteCache(emote_cache) if emote_cache is not None else None, source.name)
        size = self.config.queue_batches
        self.raw_queue: MemoryQueue[LineBatch] = MemoryQueue(size, "raw")
        self.inflight: MemoryQueue[asyncio.Future[ProcessedBatch]] = MemoryQueue(
            max(2, 2 * self.config.max_workers), "pool"
        )
        self.store_queue: MemoryQueue[ProcessedBatch] = MemoryQueue(size, "store")
        self.counters = Counters()
        self.latencies: deque[int] = deque(maxlen=LATENCY_SAMPLES)
        self._stopping = asyncio.Event()
        self._pending: list[RawLine | ChatEvent] = []
        self._pending_since = 0.0
        self._pending_history = False
        self._history_items = 0  # lines read while the source was in its history
        self._store_thread = ThreadPoolExecutor(1, thread_name_prefix="chatpulse-store")
        self.failure: BaseException | None = None
        self.started = time.monotonic()
        self._recent_rate = RecentRate()

    # -- control ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask for a graceful stop: the source is closed, every stage drains, the sink flushes."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self) -> Counters:
        """Run to the end; returns the counters. Raises what a stage could not recover from
        (e.g. SourceError for refused credentials, StoreError when even the spool fails)."""
        pool = self._make_pool()
        drained = False
        try:
            tasks = [
                asyncio.create_task(self._read(), name="read"),
                asyncio.create_task(self._dispatch(pool), name="dispatch"),
                asyncio.create_task(self._collect(pool), name="collect"),
                asyncio.create_task(self._store(), name="store"),
            ]
            watcher = asyncio.create_task(self._watch_stop(), name="stop-watcher")
            history = asyncio.create_task(self._release_history(), name="history")
            try:
                await asyncio.gather(*tasks)
                drained = True
            except BaseException:
                for task in tasks:
                    task.cancel()
                raise
            finally:
                watcher.cancel()
                history.cancel()
        finally:
            # After a clean drain the workers are idle: wait for them (their memory is then
            # counted in RUSAGE_CHILDREN); after a failure, do not wait on a broken pool.
            pool.shutdown(wait=drained)
            self._store_thread.shutdown(wait=True)
        return self.counters

    def _make_pool(self) -> ElasticPool:
        config = self.config
        return ElasticPool(
            self.sentiment, self.emote_cache, config.max_workers, fixed=config.workers is not None,
            privacy=self.privacy,
        )  # fmt: skip

    async def _release_history(self) -> None:
        """Tell the source when its back-fill is queryable (see Source.history_stored)."""
        if not self.source.in_history:
            return
        while self.source.in_history:
            await asyncio.sleep(0.05)
        while self.counters.stored < self._history_items:
            await asyncio.sleep(0.05)
        self.source.history_stored()
        # The back-fill was a burst: hand the memory it needed back to the system.
        await asyncio.to_thread(release_unused_memory)

    async def _watch_stop(self) -> None:
        await self._stopping.wait()
        await self.source.close()

    # -- stages -----------------------------------------------------------------------------

    async def _read(self) -> None:
        flusher = asyncio.create_task(self._flush_aged())
        try:
            async for item in self.source.stream():
                history = self.source.in_history
                if self._pending and history != self._pending_history:
                    await self._send_pending()  # history and live chat never share a batch
                if not self._pending:
                    self._pending_since = time.monotonic()
                    self._pending_history = history
                self._pending.append(item)
                if len(self._pending) >= self.config.batch_lines:
                    await self._send_pending()
                if self._stopping.is_set():
                    break
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await self._send_pending()
            await self.raw_queue.close()

    async def _flush_aged(self) -> None:
        while True:
            await asyncio.sleep(self.config.batch_age_s / 2)
            if self._pending and time.monotonic() - self._pending_since >= self.config.batch_age_s:
                await self._send_pending()

    async def _send_pending(self) -> None:
        items, self._pending = self._pending, []
        # A source may be replaying history first (the demo's back-fill): it says so.
        await self._send_items(items, history=self._pending_history)

    async def _send_items(self, items: list[RawLine | ChatEvent], history: bool) -> None:
        if not items:
            return
        lines: list[str] = []
        received: list[int] = []
        events: list[ChatEvent] = []
        for item in items:
            if isinstance(item, RawLine):
                lines.append(item.line)
                received.append(item.received_at)
            else:
                events.append(item)
        self.counters.lines += len(lines)
        self.counters.source_events += len(events)
        if history:
            self._history_items += len(items)
        joined = "\n".join(lines)
        packed: str | list[str] = joined if joined.count("\n") == len(lines) - 1 else lines
        batch = LineBatch(self.source.name, packed, array("q", received), events, history)
        await self.raw_queue.put(batch)

    async def _dispatch(self, pool: ElasticPool) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for batch in self.raw_queue:
                await self.inflight.put(pool.submit(loop, batch))
        finally:
            await self.inflight.close()

    async def _collect(self, pool: ElasticPool) -> None:
        try:
            async for future in self.inflight:
                result = await future
                self.counters.parsed += result.items
                self.counters.messages += result.messages
                self.counters.parse_errors += result.errors
                self.counters.skipped += result.skipped
                self.counters.withheld += result.withheld
                new_rooms = self.room_ids.new(result.room_ids)
                if new_rooms:  # file writes, once per channel: off the event loop
                    await asyncio.to_thread(self.room_ids.record, new_rooms)
                await self.store_queue.put(result)
        finally:
            await self.store_queue.close()
        # Every batch is back: the workers exit while the store stage writes the last flush,
        # rather than after it (that took ~0.2 s of the end of a run, measured in a script).
        await asyncio.to_thread(pool.shutdown, wait=True)

    async def _store(self) -> None:
        loop = asyncio.get_running_loop()
        unflushed = 0
        unflushed_items = 0
        origins: list[int] = []
        oldest = 0.0
        added = 0  # rows given to the sink so far
        # Flushed batches the sink's writer thread may still be writing: (rows added when
        # flushed, items in the flush, origins). The store stage goes on taking batches while
        # ClickHouse inserts, so the workers do not stall behind a long insert.
        writing: deque[tuple[int, int, list[int]]] = deque()
        while True:
            batch: ProcessedBatch | None = None
            if self.store_queue.depth or self.store_queue.closed:
                batch = await self.store_queue.get()
                if batch is None:
                    break
            if batch is not None:
                if not unflushed_items:
                    oldest = time.monotonic()
                if batch.store.rows or batch.skipped:
                    await loop.run_in_executor(self._store_thread, self.sink.add_batch, batch.store)
                unflushed += batch.store.rows
                unflushed_items += batch.items
                added += batch.store.rows
                origins.extend(batch.origins)
            age = time.monotonic() - oldest
            # Busy: batches wait, or the writer is still on the previous flush; then a bigger,
            # later insert costs ClickHouse less per row than another small one would.
            busy = self.store_queue.depth or writing
            limit = self.config.busy_flush_age_s if busy else self.config.flush_age_s
            due = unflushed_items and (unflushed >= self.config.flush_rows or age >= limit)
            if due:
                await loop.run_in_executor(self._store_thread, partial(self.sink.flush, wait=False))
                writing.append((added, unflushed_items, origins))
                unflushed, unflushed_items, origins = 0, 0, []
            elif batch is None:
                await asyncio.sleep(0.05)
                await loop.run_in_executor(self._store_thread, self.sink.poll)
            self._confirm(writing)
        await loop.run_in_executor(self._store_thread, self.sink.close)
        self._confirm(writing)
        self._flushed(unflushed_items, origins)

    def _confirm(self, writing: deque[tuple[int, int, list[int]]]) -> None:
        """Count the flushes whose rows the sink's writer has made durable."""
        done = self.sink.stats.rows_done
        while writing and writing[0][0] <= done:
            _, count, origins = writing.popleft()
            self._flushed(count, origins)

    def _flushed(self, items: int, origins: Sequence[int]) -> None:
        """``items`` (lines and ready events) are durable now: their rows stored or spooled, or
        not kept by design (join, part, ping)."""
        self.counters.stored += items
        if origins:
            now = time.time_ns() // 1_000_000
            step = max(1, len(origins) // 2000)  # sample big batches: the status needs a shape
            self.latencies.extend(now - origin for origin in origins[::step])

    # -- status -----------------------------------------------------------------------------

    def latency_ms(self) -> tuple[float, float] | None:
        """(p50, p95) over the most recent latency samples; None before the first flush."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return float(ordered[len(ordered) // 2]), float(
            ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        )

    def snapshot(self, extra: str = "") -> StatusSnapshot:
        c, stats = self.counters, self.sink.stats
        errors = {"parse": c.parse_errors, "store": stats.failed_batches, "spooled": stats.spool_pending}
        # All three count chat lines (and ready events), so a finished run reads N, N, N.
        note = f"{c.skipped:,} not kept (join, part, ping…)" if c.skipped else ""
        if c.withheld:
            note = " │ ".join(x for x in (note, f"{c.withheld:,} withheld (opted out)") if x)
        return StatusSnapshot(
            totals={"read": c.lines + c.source_events, "scored": c.parsed, "stored": c.stored},
            queues={
                "raw": (self.raw_queue.depth, self.raw_queue.maxsize),
                "pool": (self.inflight.depth, self.inflight.maxsize),
                "store": (self.store_queue.depth, self.store_queue.maxsize),
            },
            errors=errors,
            latency_ms=self.latency_ms(),
            extra=" │ ".join(x for x in (note, extra) if x),
        )

    def status_json(self) -> dict[str, Any]:
        """The pipeline's state for the dashboard's ``/api/status``."""
        c = self.counters
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return {
            "source": self.source.name,
            "elapsed_s": round(elapsed, 1),
            "lines": c.lines,
            "messages": c.messages,
            "withheld": c.withheld,
            "stored": c.stored,
            "rate_per_s": round(self._recent_rate(c.stored), 1),
            "errors": c.parse_errors + self.sink.stats.failed_batches,
            "spool_pending": self.sink.stats.spool_pending,
            "latency_ms": self.latency_ms(),
            "queues": {
                q.name: [q.depth, q.maxsize] for q in (self.raw_queue, self.inflight, self.store_queue)
            },
        }
