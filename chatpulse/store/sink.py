"""``ClickHouseSink``: columnar batches into ClickHouse, idempotent, never dropping a batch.

Who calls what: the ``run`` pipeline's store stage (one thread) calls :meth:`ClickHouseSink.add_batch`
with :class:`~chatpulse.store.rows.StoreBatch` es its worker processes built (Arrow tables);
the Kafka sink service and tools call :meth:`~ClickHouseSink.add` with events, which become the
same batches here. Both call :meth:`~ClickHouseSink.flush` (or rely on ``batch_size`` /
``max_age_s``), :meth:`~ClickHouseSink.poll` when idle, and :meth:`~ClickHouseSink.close` on
shutdown. Calls are thread-safe; chDB's data folder belongs to one process.

Buffered batches are written as one batch (fewer, bigger inserts) by one writer thread, so the
caller decodes and converts the next batch while ClickHouse inserts this one (chDB releases the
GIL while it works); the writer holds one batch at a time, and :meth:`~ClickHouseSink.flush`
returns when everything handed over is written. A write:

1. drops what is already stored: duplicates inside the batch, rows this sink wrote recently (a
   bounded memory of the written ids, kept as Arrow columns), and -- only for rows that could
   be in the store -- ids the store holds (one query). Materialized views fire on every
   insert, so this is what keeps the per-minute aggregates exact under replays and retries.
   "Could be in the store" is decided per channel against a *floor*: the newest time the store
   held for that channel when this sink first saw it (one cheap query per channel), raised as
   ids leave the memory. Above the floor only this sink can have written a row, and then the
   memory knows it. That needs the sink to be the channel's only writer, which chDB
   guarantees (one process per data folder); for a server store (several sink processes may
   share channels) it is off by default (``exclusive``) and every row not in the memory is
   checked against the store;
2. inserts the three tables, then applies moderation (:mod:`chatpulse.store.moderation`): markers
   for targets in the batch itself are built in memory (and inserted right after the batch);
   the store is asked only about targets that may already be stored: a remembered message id,
   a ban whose window holds earlier writes of this sink, or a window reaching below the floor.

A failing write is retried ``retry_attempts`` times with capped exponential backoff and jitter;
what a failed attempt believed about its channels is forgotten (floors are re-learned), so a
half-written batch is checked against the store on the next try. If it still fails the batch
goes to the on-disk spool (Arrow IPC, ``*.arrows``; written, fsynced, renamed) and is replayed,
oldest first, before later batches, every ``spool_retry_s``; because step 1 drops what a
half-done attempt already wrote, replaying is always safe (:mod:`chatpulse.store.spool`).
While the spool holds batches, new batches are spooled behind them, so order (and moderation
after its messages) is kept. When even the spool cannot be written, the next call that waits
for the writer (:meth:`flush`, or an ``add`` that hands over a batch) raises StoreError, and the
batch goes back to the front of the buffer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from chatpulse.backoff import backoff_delay
from chatpulse.errors import StoreDataError, StoreError
from chatpulse.events import ChatEvent
from chatpulse.store import Store, moderation
from chatpulse.store.dedupe import (
    ALWAYS_ASK,
    ASK,
    NEW,
    NO_FLOOR,
    WrittenMemory,
    channels_times,
    emote_keep,
    filtered,
    rows_to_keep,
)
from chatpulse.store.dsn import ChdbTarget
from chatpulse.store.rows import (
    StoreBatch,
    build_batch,
    python_columns,
    split_events,
)
from chatpulse.store.spool import BatchSpool

log = logging.getLogger(__name__)

DEFAULT_SPOOL_DIR: Final = Path("data/spool")
DEFAULT_MEMORY_KEYS: Final = 200_000  # ids remembered (~40 MB); older ones are checked in the store
_EXISTING_SQL: Final = (  # noqa: S608 - constant text; values are query parameters
    "SELECT 'm' AS t, id AS k FROM chat_messages WHERE {range} "
    "UNION ALL SELECT DISTINCT 'e' AS t, message_id AS k FROM chat_emotes WHERE {range} "
    "UNION ALL SELECT 'v' AS t, event_key AS k FROM chat_events WHERE {range}"
).format(
    range="channel IN {channels:Array(String)} "
    "AND sent_at >= fromUnixTimestamp64Milli({lo:Int64}, 'UTC') "
    "AND sent_at <= fromUnixTimestamp64Milli({hi:Int64}, 'UTC')"
)
_FLOORS_SQL: Final = (  # noqa: S608 - constant text; values are query parameters
    "SELECT channel, toUnixTimestamp64Milli(max(t)) AS t FROM ("
    "SELECT channel, max(sent_at) AS t FROM chat_messages WHERE {c} GROUP BY channel "
    "UNION ALL SELECT channel, max(sent_at) AS t FROM chat_events WHERE {c} GROUP BY channel "
    "UNION ALL SELECT channel, max(sent_at) AS t FROM chat_emotes WHERE {c} GROUP BY channel"
    ") GROUP BY channel"
).format(c="channel IN {channels:Array(String)}")


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
    rejected_batches: int = 0  # batches the store refused for their data (set aside, not retried)
    spooled_batches: int = 0  # batches written to the spool
    spooled_rows: int = 0  # events written to the spool
    spool_replayed_batches: int = 0  # spooled batches later written to the store
    spool_pending: int = 0  # batches waiting in the spool now
    store_checks: int = 0  # batches that had to ask the store which rows it already holds
    rows_done: int = 0  # rows of added batches now durable: stored, dropped as stored, or spooled
    last_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ClickHouseSink:
    """Buffers batches and writes them to a :class:`~chatpulse.store.Store`, exactly once each."""

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
        exclusive: bool | None = None,
        memory_keys: int = DEFAULT_MEMORY_KEYS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``exclusive``: this sink is the only writer of its channels while it runs (default:
        True for chDB, whose folder one process owns; False for a server). ``memory_keys``:
        how many written ids to remember for the duplicate check."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.store = store
        self.batch_size = batch_size
        self.max_age_s = max_age_s
        self.stats = SinkStats()
        self._spool = BatchSpool(spool_dir if spool_dir is not None else DEFAULT_SPOOL_DIR)
        self.stats.spool_pending = len(self._spool.pending())
        self._retry_attempts = max(1, retry_attempts)
        self._retry_base_s = retry_base_s
        self._retry_cap_s = retry_cap_s
        self._spool_retry_s = spool_retry_s
        self._window_ms = int(moderation_window_s * 1000)
        if exclusive is None:
            exclusive = isinstance(getattr(store, "target", None), ChdbTarget)
        self.exclusive = exclusive
        self._memory = WrittenMemory(max(1, memory_keys))
        self._insert_arrow: Callable[[str, pa.Table], None] | None = getattr(store, "insert_arrow", None)
        self._clock = clock
        self._sleep = sleep
        self._buffer: list[StoreBatch] = []
        # Writes run on one writer thread so that the caller builds (or decodes) the next batch
        # while ClickHouse inserts this one: chDB releases the GIL while it works.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="chatpulse-sink-writer")
        self._in_flight: tuple[StoreBatch | None, Future[None]] | None = None
        self._buffered_rows = 0
        self._oldest: float | None = None  # clock() when the oldest buffered batch arrived
        self._next_spool_try = 0.0
        self._lock = threading.RLock()
        self._closed = False

    # --- public API ------------------------------------------------------------------------

    def add(self, events: Sequence[ChatEvent]) -> None:
        """Buffer ``events`` (kinds the store does not keep are counted in ``stats.skipped``).

        All or nothing for bad input: StoreError, and nothing buffered, when some event holds a
        value the store cannot (e.g. a negative ``bits``). When handing a batch to the writer
        fails (an earlier write could be neither stored nor spooled), every event is buffered
        all the same and the StoreError is raised at the end.
        """
        batches = []
        for start in range(0, len(events), self.batch_size):
            messages, kept, skipped = split_events(events[start : start + self.batch_size])
            try:
                batches.append(build_batch(messages, kept, skipped=skipped))
            except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
                raise StoreDataError(f"events the store cannot hold: {exc}") from exc
        failure: StoreError | None = None
        for batch in batches:
            try:
                self.add_batch(batch)
            except StoreError as exc:
                if self._closed:
                    raise
                failure = failure or exc  # the batch is buffered: go on buffering the rest
        if failure is not None:
            raise failure

    def add_batch(self, batch: StoreBatch) -> None:
        """Buffer a prepared batch; hand it to the writer when ``batch_size`` rows are buffered or
        the oldest is ``max_age_s`` old. Raises StoreError when the sink is closed, or when an
        earlier write could not even be spooled (that batch is kept and tried again)."""
        with self._lock:
            if self._closed:
                raise StoreError("the sink is closed")
            self.stats.skipped += batch.skipped
            if not batch.rows:
                return
            if self._oldest is None:
                self._oldest = self._clock()
            self._buffer.append(batch)
            self._buffered_rows += batch.rows
            if self._buffered_rows >= self.batch_size or self._clock() - self._oldest >= self.max_age_s:
                self._hand_over()

    def poll(self) -> None:
        """Call when idle: flushes a buffer older than ``max_age_s`` and retries a due spool."""
        with self._lock:
            due = self._oldest is not None and self._clock() - self._oldest >= self.max_age_s
            if due or (self.stats.spool_pending and self._clock() >= self._next_spool_try):
                self.flush()

    def flush(self, *, wait: bool = True) -> None:
        """Write everything buffered. On return every batch added so far is stored or spooled.

        ``wait=False`` returns once the last batch is handed to the writer (it waits only for
        the write before it): the caller goes on adding while ClickHouse works, and learns from
        ``stats.rows_done`` when the rows are durable."""
        with self._lock:
            if self._closed:  # close() flushed everything, and the writer is gone
                return
            self._hand_over()
            if not wait:
                return
            self._settle()
            if self.stats.spool_pending:  # nothing new to write behind it: try the spool alone
                self._in_flight = (None, self._writer.submit(self._drain_spool, force=False))
                self._settle()

    def close(self) -> None:
        """Flush (trying the spool once more) and refuse further events. The store stays open."""
        with self._lock:
            if self._closed:
                return
            self._next_spool_try = 0.0
            self.flush()
            self._closed = True
            self._writer.shutdown()

    @property
    def spool_dir(self) -> Path:
        return self._spool.folder

    # --- batches ---------------------------------------------------------------------------

    def _hand_over(self) -> None:
        """Pass the buffer to the writer thread in batches of up to ``batch_size`` rows, one at a
        time: the call returns while the last one is written (the writer holds at most one)."""
        while self._buffer:
            rows, taken = 0, 0
            while taken < len(self._buffer) and (
                not taken or rows + self._buffer[taken].rows <= self.batch_size
            ):
                rows += self._buffer[taken].rows
                taken += 1
            self._settle()  # the previous batch first: order is kept, memory stays bounded
            batch = _concat(self._buffer[:taken])
            del self._buffer[:taken]
            self._buffered_rows -= rows
            self._in_flight = (batch, self._writer.submit(self._write_job, batch))
        self._oldest = None

    def _settle(self) -> None:
        """Wait for the batch in flight. If it could be neither written nor spooled, it goes
        back to the front of the buffer (nothing is dropped) and its StoreError is raised."""
        if self._in_flight is None:
            return
        batch, write = self._in_flight
        self._in_flight = None
        try:
            write.result()
        except BaseException:
            if batch is not None:
                self._buffer.insert(0, batch)
                self._buffered_rows += batch.rows
                if self._oldest is None:
                    self._oldest = self._clock()
            raise

    # --- the writer thread: everything below runs there, one batch at a time -----------------

    def _write_job(self, batch: StoreBatch) -> None:
        self._drain_spool(force=False)  # older spooled batches go first
        self._write_or_spool(batch)
        self.stats.rows_done += batch.rows

    def _write_or_spool(self, batch: StoreBatch) -> None:
        if self.stats.spool_pending:  # keep order: older spooled batches go first
            self._to_spool(batch)
            return
        try:
            self._write_with_retries(batch)
        except StoreDataError as exc:
            self._reject(batch, exc)
        except StoreError as exc:
            self.stats.failed_batches += 1
            log.warning("store write failed after %d attempts (%s); spooling %d rows",
                        self._retry_attempts, exc, batch.rows)  # fmt: skip
            self._to_spool(batch)

    def _to_spool(self, batch: StoreBatch) -> None:
        path = self._spool.put(batch)  # raises StoreError: the caller keeps the batch buffered
        self.stats.spooled_batches += 1
        self.stats.spooled_rows += batch.rows
        self.stats.spool_pending += 1
        if self._next_spool_try <= self._clock():
            self._next_spool_try = self._clock() + self._spool_retry_s
        log.info("spooled %d rows to %s", batch.rows, path)

    def _reject(self, batch: StoreBatch, exc: StoreDataError) -> None:
        """Set aside a batch the store refused for its data (retrying cannot help), so the
        batches behind it are written; it stays in ``<spool>/rejected`` for a human."""
        path = BatchSpool(self._spool.folder / "rejected").put(batch)
        self.stats.rejected_batches += 1
        log.error("the store refused %d rows for their data (%s); set aside in %s", batch.rows, exc, path)

    def _drain_spool(self, *, force: bool) -> None:
        if not self.stats.spool_pending or (not force and self._clock() < self._next_spool_try):
            return
        for path in self._spool.pending():
            batch = self._spool.load(path)
            if batch is not None:
                try:
                    self._write_with_retries(batch, attempts=1)
                except StoreDataError as exc:
                    self._reject(batch, exc)
                except StoreError as exc:
                    self._next_spool_try = self._clock() + self._spool_retry_s
                    log.info("store still failing (%s); %d spooled batches wait", exc,
                             self.stats.spool_pending)  # fmt: skip
                    return
                self.stats.spool_replayed_batches += 1
            self._spool.remove(path)
            self.stats.spool_pending -= 1
        self.stats.spool_pending = len(self._spool.pending())

    def _write_with_retries(self, batch: StoreBatch, attempts: int | None = None) -> None:
        attempts = attempts or self._retry_attempts
        for attempt in range(attempts):
            try:
                self._write(batch)
                return
            except StoreError as exc:
                self.stats.last_error = str(exc)
                # Part of the batch may be stored now: check these channels in the store again.
                self._memory.forget_floors(_channels(batch))
                if attempt + 1 >= attempts or isinstance(exc, StoreDataError):
                    raise
                self.stats.retries += 1
                self._sleep(backoff_delay(attempt, self._retry_base_s, self._retry_cap_s))

    def _write(self, batch: StoreBatch) -> None:
        messages, emotes, events = batch.messages, batch.emotes, batch.events
        if self.exclusive:
            self._learn_floors(_channels(batch))
        memory = self._memory
        m_checked = memory.classify(messages, "id", self.exclusive)
        v_checked = memory.classify(events, "event_key", self.exclusive)
        new_messages, new_events, new_emotes = messages, events, emotes
        if m_checked is not None or v_checked is not None:  # not plain live chat: filter
            m_state, ids = m_checked or ([NEW] * messages.num_rows, [])
            v_state, keys = v_checked or ([NEW] * events.num_rows, [])
            existing = self._existing(messages, m_state, events, v_state)
            new_messages = filtered(messages, rows_to_keep(m_state, ids, existing["m"]))
            new_events = filtered(events, rows_to_keep(v_state, keys, existing["v"]))
            new_emotes = filtered(emotes, emote_keep(emotes, ids, m_state, existing["e"]))
        self.stats.duplicates += (
            messages.num_rows - new_messages.num_rows + events.num_rows - new_events.num_rows
        )
        by_id, by_user = moderation.actions_in_table(events)
        marked, found = moderation.markers(new_messages, by_id, by_user, self._window_ms)
        stored_ids, since, stored_users = self._stored_targets(by_id, by_user, found)
        # Markers for stored targets, selected before this batch is inserted (so they are never
        # this batch's own messages, marked in memory above) to go in the same INSERT; None
        # from a server, which applies them itself after the batch (INSERT ... SELECT).
        early = moderation.stored_markers(self.store, stored_ids, stored_users, self._window_ms, since)
        self._insert("chat_messages", new_messages)
        # Markers go in an INSERT of their own, after their messages: with ClickHouse's default
        # optimize_on_insert (which a server's settings profile may impose over ours, see
        # store.clickhouse.INSERT_SETTINGS) one INSERT would collapse each original into its
        # marker at once, so the stored version-0 copy, which readers of the live feed and the
        # Superset datasets see until a background merge, would never exist.
        self._insert("chat_messages", marked if early is None else pa.concat_tables([marked, early]))
        self._insert("chat_emotes", new_emotes)
        self._insert("chat_events", new_events)
        if early is None:
            moderation.apply_actions(self.store, stored_ids, (), self._window_ms, since_ms=since)
            moderation.apply_actions(self.store, (), stored_users, self._window_ms)
        self.stats.moderation_actions += len(by_id) + len(by_user)
        self.stats.rows_written += new_messages.num_rows
        self.stats.events_written += new_events.num_rows
        self.stats.emotes_written += new_emotes.num_rows
        self.stats.batches += 1
        memory.remember(new_messages, new_events)

    def _insert(self, table: str, rows: pa.Table) -> None:
        if not rows.num_rows:
            return
        if self._insert_arrow is not None:
            self._insert_arrow(table, rows)
        else:
            self.store.insert(table, python_columns(rows))

    def _learn_floors(self, channels: set[str]) -> None:
        unknown = self._memory.unknown_channels(channels)
        if not unknown:
            return
        rows = self.store.query(_FLOORS_SQL, {"channels": unknown})
        found = {row["channel"]: int(row["t"]) for row in rows}
        self._memory.set_floors({c: found.get(c, NO_FLOOR) for c in unknown})

    def _existing(
        self, messages: pa.Table, m_state: list[int], events: pa.Table, v_state: list[int]
    ) -> dict[str, set[str]]:
        """Ids the store holds among the rows to check (one query; none when there are none)."""
        found: dict[str, set[str]] = {"m": set(), "e": set(), "v": set()}
        if ASK not in m_state and ASK not in v_state:
            return found
        m_channels, m_times = channels_times(messages)
        v_channels, v_times = channels_times(events)
        times = [t for t, s in zip(m_times, m_state, strict=True) if s == ASK]
        times += [t for t, s in zip(v_times, v_state, strict=True) if s == ASK]
        if not times:
            return found
        channels = {c for c, s in zip(m_channels, m_state, strict=True) if s == ASK}
        channels |= {c for c, s in zip(v_channels, v_state, strict=True) if s == ASK}
        self.stats.store_checks += 1
        rows = self.store.query(
            _EXISTING_SQL, {"channels": sorted(channels), "lo": min(times), "hi": max(times)}
        )
        for row in rows:
            found[row["t"]].add(row["k"])
        return found

    def _stored_targets(
        self, by_id: list[moderation.Action], by_user: list[moderation.Action], found: set[int]
    ) -> tuple[list[moderation.Action], int | None, list[moderation.Action]]:
        """The batch's moderation actions whose targets may be stored already: (CLEARMSG
        actions, the earliest time their targets can have, bans/timeouts). ``found``: CLEARMSG
        actions whose message was in the batch itself. The store is asked about nothing else."""
        window = self._window_ms
        stored_ids: list[moderation.Action] = []
        since: int | None = ALWAYS_ASK
        for index, action in enumerate(by_id):
            if index in found:
                continue
            sent = self._memory.message_time(action.key)
            if sent is not None:
                since = min(since, sent) if since is not None else None
            elif not self._memory.outside_store(action.channel, action.at - window, self.exclusive):
                since = None  # could be anywhere in the window
            else:
                continue  # not stored (e.g. sent before this sink's channel history began)
            stored_ids.append(action)
        stored_users = [
            a for a in by_user if self._memory.may_have_messages(a.channel, a.at - window, self.exclusive)
        ]
        return stored_ids, since, stored_users


def _concat(batches: list[StoreBatch]) -> StoreBatch:
    if len(batches) == 1:
        return batches[0]
    return StoreBatch(
        pa.concat_tables([b.messages for b in batches]),
        pa.concat_tables([b.emotes for b in batches]),
        pa.concat_tables([b.events for b in batches]),
    )


def _channels(batch: StoreBatch) -> set[str]:
    return set(pc.unique(batch.messages.column("channel")).to_pylist()) | set(
        pc.unique(batch.events.column("channel")).to_pylist()
    )
