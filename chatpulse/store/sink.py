"""``ClickHouseSink``: events -> columnar batches in ClickHouse, idempotent, never dropping a batch.

Who calls what: the pipeline's store worker (one thread) calls :meth:`ClickHouseSink.add` with
events as they come, :meth:`~ClickHouseSink.poll` when idle (so a quiet channel's last events
still go out after ``max_age_s``), and :meth:`~ClickHouseSink.close` on shutdown. The sink is
synchronous: chDB is synchronous and its data folder belongs to one process.

A flush writes one batch:

1. split it: messages -> ``chat_messages`` (+ one ``chat_emotes`` row per emote), kept kinds
   (:data:`~chatpulse.store.rows.EVENT_KINDS`) -> ``chat_events``, everything else is counted
   in ``stats.skipped`` and not stored;
2. drop what is already stored: duplicates inside the batch, then ids / event keys the store
   already holds in the batch's channels and time range (one query; empty and cheap for live
   data, which is newer than anything stored). Materialized views fire on every insert, so this
   is what keeps the per-minute aggregates exact under replays and retries;
3. insert the three tables, then apply moderation (:mod:`chatpulse.store.moderation`).

A failing write is retried ``retry_attempts`` times with capped exponential backoff and jitter.
If it still fails the batch goes to the on-disk spool (:mod:`chatpulse.store.spool`) and is
replayed, oldest first, before later batches, every ``spool_retry_s``; because step 2 drops what
a half-done attempt already wrote, replaying is always safe. While the spool holds batches, new
batches are spooled behind them, so order (and moderation after its messages) is kept. When
even the spool cannot be written, :meth:`flush` raises StoreError and keeps the batch in memory.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from chatpulse.errors import StoreError
from chatpulse.events import ChatEvent, MessageEvent
from chatpulse.store import Store, moderation
from chatpulse.store.rows import (
    EVENT_KINDS,
    emote_columns,
    event_columns,
    event_key,
    message_columns,
    message_time,
)
from chatpulse.store.spool import Spool

log = logging.getLogger(__name__)

DEFAULT_SPOOL_DIR: Final = Path("data/spool")
_EXISTING_SQL: Final = (  # noqa: S608 - constant text; values are query parameters
    "SELECT 'm' AS t, id AS k FROM chat_messages WHERE {range} "
    "UNION ALL SELECT DISTINCT 'e' AS t, message_id AS k FROM chat_emotes WHERE {range} "
    "UNION ALL SELECT 'v' AS t, event_key AS k FROM chat_events WHERE {range}"
).format(
    range="channel IN {channels:Array(String)} "
    "AND sent_at >= fromUnixTimestamp64Milli({lo:Int64}, 'UTC') "
    "AND sent_at <= fromUnixTimestamp64Milli({hi:Int64}, 'UTC')"
)


@dataclass(slots=True)
class SinkStats:
    """Counters for status lines and metrics (monotonic, except ``spool_pending``)."""

    rows_written: int = 0  # chat_messages rows inserted
    events_written: int = 0  # chat_events rows inserted
    emotes_written: int = 0  # chat_emotes rows inserted
    duplicates: int = 0  # messages/events dropped because they were already stored
    moderation_actions: int = 0  # clearmsg/clearchat actions applied
    skipped: int = 0  # events of kinds that are not stored (join, part, ping, ...)
    batches: int = 0  # batches written to the store
    retries: int = 0  # write attempts after a failure
    failed_batches: int = 0  # batches that failed every attempt (then spooled)
    spooled_batches: int = 0  # batches written to the spool
    spooled_rows: int = 0  # events written to the spool
    spool_replayed_batches: int = 0  # spooled batches later written to the store
    spool_pending: int = 0  # batches waiting in the spool now
    last_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ClickHouseSink:
    """Buffers events and writes them to a :class:`~chatpulse.store.Store` in columnar batches."""

    def __init__(
        self,
        store: Store,
        batch_size: int = 10_000,
        max_age_s: float = 1.0,
        spool_dir: Path | None = None,
        *,
        retry_attempts: int = 3,
        retry_base_s: float = 0.2,
        retry_cap_s: float = 5.0,
        spool_retry_s: float = 5.0,
        moderation_window_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.store = store
        self.batch_size = batch_size
        self.max_age_s = max_age_s
        self.stats = SinkStats()
        self._spool = Spool(spool_dir if spool_dir is not None else DEFAULT_SPOOL_DIR)
        self.stats.spool_pending = len(self._spool.pending())
        self._retry_attempts = max(1, retry_attempts)
        self._retry_base_s = retry_base_s
        self._retry_cap_s = retry_cap_s
        self._spool_retry_s = spool_retry_s
        self._moderation_window_ms = int(moderation_window_s * 1000)
        self._clock = clock
        self._sleep = sleep
        self._buffer: list[ChatEvent] = []
        self._oldest: float | None = None  # clock() when the oldest buffered event arrived
        self._next_spool_try = 0.0
        self._lock = threading.RLock()
        self._closed = False

    # --- public API ------------------------------------------------------------------------

    def add(self, events: Sequence[ChatEvent]) -> None:
        """Buffer ``events``; flush when ``batch_size`` is reached or the oldest is ``max_age_s`` old."""
        with self._lock:
            if self._closed:
                raise StoreError("the sink is closed")
            if not events:
                return
            if self._oldest is None:
                self._oldest = self._clock()
            self._buffer.extend(events)
            if len(self._buffer) >= self.batch_size or self._clock() - self._oldest >= self.max_age_s:
                self.flush()

    def poll(self) -> None:
        """Call when idle: flushes a buffer older than ``max_age_s`` and retries a due spool."""
        with self._lock:
            due = self._oldest is not None and self._clock() - self._oldest >= self.max_age_s
            if due or (self.stats.spool_pending and self._clock() >= self._next_spool_try):
                self.flush()

    def flush(self) -> None:
        """Write everything buffered. On return every event added so far is stored or spooled."""
        with self._lock:
            self._drain_spool(force=False)
            while self._buffer:
                batch = self._buffer[: self.batch_size]
                self._write_or_spool(batch)
                del self._buffer[: len(batch)]
            self._oldest = None

    def close(self) -> None:
        """Flush (trying the spool once more) and refuse further events. The store stays open."""
        with self._lock:
            if self._closed:
                return
            self._next_spool_try = 0.0
            self.flush()
            self._closed = True

    @property
    def spool_dir(self) -> Path:
        return self._spool.folder

    # --- batches ---------------------------------------------------------------------------

    def _write_or_spool(self, batch: list[ChatEvent]) -> None:
        if self.stats.spool_pending:  # keep order: older spooled batches go first
            self._to_spool(batch)
            return
        try:
            self._write_with_retries(batch)
        except StoreError as exc:
            self.stats.failed_batches += 1
            log.warning("store write failed after %d attempts (%s); spooling %d events",
                        self._retry_attempts, exc, len(batch))  # fmt: skip
            self._to_spool(batch)

    def _to_spool(self, batch: list[ChatEvent]) -> None:
        path = self._spool.put(batch)  # raises StoreError: the caller keeps the batch buffered
        self.stats.spooled_batches += 1
        self.stats.spooled_rows += len(batch)
        self.stats.spool_pending += 1
        if self._next_spool_try <= self._clock():
            self._next_spool_try = self._clock() + self._spool_retry_s
        log.info("spooled %d events to %s", len(batch), path)

    def _drain_spool(self, *, force: bool) -> None:
        if not self.stats.spool_pending or (not force and self._clock() < self._next_spool_try):
            return
        for path in self._spool.pending():
            events = self._spool.load(path)
            if events is not None:
                try:
                    self._write_with_retries(events, attempts=1)
                except StoreError as exc:
                    self._next_spool_try = self._clock() + self._spool_retry_s
                    log.info("store still failing (%s); %d spooled batches wait", exc,
                             self.stats.spool_pending)  # fmt: skip
                    return
                self.stats.spool_replayed_batches += 1
            self._spool.remove(path)
            self.stats.spool_pending -= 1
        self.stats.spool_pending = len(self._spool.pending())

    def _write_with_retries(self, batch: Sequence[ChatEvent], attempts: int | None = None) -> None:
        attempts = attempts or self._retry_attempts
        for attempt in range(attempts):
            try:
                self._write(batch)
                return
            except StoreError as exc:
                self.stats.last_error = str(exc)
                if attempt + 1 >= attempts:
                    raise
                self.stats.retries += 1
                delay = min(self._retry_cap_s, self._retry_base_s * 2**attempt)
                self._sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto

    def _write(self, batch: Sequence[ChatEvent]) -> None:
        messages, events = self._split(batch)
        if messages or events:
            existing = self._existing(messages, events)
            new_messages = [m for m in messages if m.id not in existing["m"]]
            emote_rows = [m for m in messages if m.emotes and m.id not in existing["e"]]
            new_events = [(k, e) for k, e in events.items() if k not in existing["v"]]
            self.stats.duplicates += len(messages) - len(new_messages) + len(events) - len(new_events)
            if new_messages:
                self.store.insert("chat_messages", message_columns(new_messages))
            if emote_rows:
                columns = emote_columns(emote_rows)
                self.store.insert("chat_emotes", columns)
                self.stats.emotes_written += len(columns["message_id"])
            if new_events:
                columns = event_columns([e for _, e in new_events])
                columns["event_key"] = [k for k, _ in new_events]
                self.store.insert("chat_events", columns)
            self.stats.rows_written += len(new_messages)
            self.stats.events_written += len(new_events)
            self.stats.moderation_actions += moderation.apply(
                self.store, [e for _, e in events.items()], self._moderation_window_ms
            )
        self.stats.batches += 1

    def _split(self, batch: Sequence[ChatEvent]) -> tuple[list[MessageEvent], dict[str, ChatEvent]]:
        messages: dict[str, MessageEvent] = {}
        events: dict[str, ChatEvent] = {}
        skipped = 0
        for event in batch:
            if isinstance(event, MessageEvent) and event.kind == "message" and event.channel:
                if not event.id:  # not from Twitch; give it a stable identity for dedupe
                    event = replace(event, id=event_key(event))
                messages.setdefault(event.id, event)
            elif event.kind in EVENT_KINDS:
                events.setdefault(event_key(event), event)
            else:
                skipped += 1
        self.stats.skipped += skipped
        self.stats.duplicates += len(batch) - len(messages) - len(events) - skipped
        return list(messages.values()), events

    def _existing(self, messages: list[MessageEvent], events: dict[str, ChatEvent]) -> dict[str, set[str]]:
        times = [message_time(m) for m in messages] + [message_time(e) for e in events.values()]
        channels = {m.channel or "" for m in messages} | {e.channel or "" for e in events.values()}
        rows = self.store.query(
            _EXISTING_SQL, {"channels": sorted(channels), "lo": min(times), "hi": max(times)}
        )
        found: dict[str, set[str]] = {"m": set(), "e": set(), "v": set()}
        for row in rows:
            found[row["t"]].add(row["k"])
        return found
