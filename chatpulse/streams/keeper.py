"""Keeping the ``streams`` table current while ``run`` stores chat.

:class:`StreamsSink` wraps the run's sink (both run shapes hand it every batch): after the sink
took a batch it notes the batch's channels and earliest time (two Arrow reductions, no copy).
:class:`StreamKeeper`'s thread then, every ``streams.update_interval_s``, recomputes from the
minute aggregates the chat sessions of the channels that spoke, from the start of the session
their new chat joins (:func:`chatpulse.streams.recompute.recompute_channels`, all channels of
a pass at once), plus those whose
newest session was still open (so a channel that falls silent gets its end). In the usual
case (chat after the start of a channel's newest session) a pass is three queries and one
insert for all its channels, off the store thread; a last pass runs once the sink is closed.
Twitch's own streams are refreshed by :mod:`chatpulse.streams.watcher`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from chatpulse.events import ChatEvent
from chatpulse.store import Sink, Store
from chatpulse.store.rows import StoreBatch
from chatpulse.store.sink import SinkStats
from chatpulse.streams.recompute import recompute_channels
from chatpulse.streams.sessions import MINUTE_MS
from chatpulse.streams.table import session_starts

log = logging.getLogger(__name__)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class StreamKeeper:
    """Recomputes the sessions of channels that spoke (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        gap_minutes: float,
        interval_s: float,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.gap_minutes = gap_minutes
        self.interval_s = interval_s
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}  # channel -> earliest chat time seen since the last pass
        self._open: dict[str, int] = {}  # channel -> start of its newest session, while open
        self._starts: dict[str, int] = {}  # channel -> start of its newest session
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        self.updated = 0  # channel recomputes done
        self.failures = 0
        self.busy_s = 0.0  # time spent in passes
        self.note_s = 0.0  # time spent noting batches (on the store thread)

    def note(self, batch: StoreBatch) -> None:
        """Remember which channels ``batch`` holds chat of, and its earliest time."""
        messages = batch.messages
        if messages.num_rows == 0:
            return
        started = time.perf_counter()
        earliest = pc.min(messages.column("sent_at")).cast(pa.int64()).as_py()
        channels = pc.unique(messages.column("channel")).to_pylist()
        with self._lock:
            for channel in channels:
                if channel:
                    self._pending[channel] = min(self._pending.get(channel, earliest), earliest)
            self.note_s += time.perf_counter() - started

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="streams", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_pass()

    def close(self) -> None:
        """Stop the thread and make a last pass (call once the sink has stored everything)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.run_pass()

    def run_pass(self) -> int:
        """One pass over the channels that spoke or are open; returns how many were updated."""
        with self._lock:
            pending, self._pending = self._pending, {}
        todo = dict(self._open)
        for channel, earliest in pending.items():
            todo[channel] = min(earliest, todo.get(channel, earliest))
        if not todo:
            return 0
        started = time.perf_counter()
        try:
            self._update(todo, self.clock())
        except Exception:  # the run goes on; the next pass tries again
            self.failures += 1
            with self._lock:
                for channel, earliest in todo.items():
                    self._pending[channel] = min(self._pending.get(channel, earliest), earliest)
            log.warning("streams: could not update %d channel(s)", len(todo), exc_info=True)
            return 0
        finally:
            self.busy_s += time.perf_counter() - started
        self.passes += 1
        self.updated += len(todo)
        return len(todo)

    def _update(self, todo: dict[str, int], now: int) -> None:
        # Chat at or after the start of a channel's newest session can only extend that session
        # or start new ones (an earlier session ended at least a gap before it), so recomputing
        # from that start suffices and no stored session can vanish. Chat from before it (a
        # late batch, imported history) may join sessions: start from the newest session that
        # began a gap before it, and look for sessions that are gone.
        late = {c: t for c, t in todo.items() if c not in self._starts or t < self._starts[c]}
        gap_ms = int(self.gap_minutes * MINUTE_MS)
        starts = session_starts(self.store, {c: t - gap_ms for c, t in late.items()})
        since = {c: self._starts[c] if c not in late else starts.get(c, 0) for c in todo}
        found = recompute_channels(self.store, since, self.gap_minutes, now, drop_stale=bool(late))
        for channel, sessions in found.items():
            if sessions:
                self._starts[channel] = sessions[-1].started_at
            if sessions and sessions[-1].ended_at is None:
                self._open[channel] = sessions[-1].started_at
            else:
                self._open.pop(channel, None)


class StreamsSink:
    """A :class:`~chatpulse.store.Sink` that also shows every batch it took to a
    :class:`StreamKeeper`; everything else is the wrapped sink's."""

    def __init__(self, inner: Sink, keeper: StreamKeeper) -> None:
        self.inner = inner
        self.keeper = keeper
        self.stats: SinkStats = inner.stats

    @property
    def spool_dir(self) -> Path:
        return self.inner.spool_dir

    def add(self, events: Sequence[ChatEvent]) -> None:
        self.inner.add(events)

    def add_batch(self, batch: StoreBatch) -> None:
        self.inner.add_batch(batch)
        self.keeper.note(batch)

    def flush(self, *, wait: bool = True) -> None:
        self.inner.flush(wait=wait)

    def poll(self) -> None:
        self.inner.poll()

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.keeper.close()


def with_streams(sink: Sink, keeper: StreamKeeper | None) -> Sink:
    """``sink``, keeping the streams table current through ``keeper`` when there is one."""
    if keeper is None:
        return sink
    keeper.start()
    return StreamsSink(sink, keeper)
