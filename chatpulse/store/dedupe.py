"""The sink's duplicate memory: which rows are new for certain, stored already, or to be checked.

Materialized views fire on every insert, so a replayed or retried batch must never reach the
store twice (see :mod:`chatpulse.store.sink`). :class:`WrittenMemory` remembers what one sink
wrote recently (bounded) and, per channel, a *floor*: the newest time the store held for the
channel when the sink first saw it. A row above its floor that the memory does not know is new
for certain; a remembered row is a duplicate; anything else is asked of the store (one query per
batch, by the sink). Pure apart from its own state; not thread-safe (the sink's writer thread
alone calls it).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

NO_FLOOR: Final = -(2**62)  # a channel the store has never seen: every row is new
ALWAYS_ASK: Final = 2**62  # floor of a non-exclusive sink: every row not remembered is checked
NEW, DUP, ASK = 0, 1, 2  # what a row is: new for certain, stored already, or to be checked


@dataclass(frozen=True, slots=True)
class _Written:
    """One written batch, as the memory keeps it: its keys and times as Arrow columns."""

    message_ids: pa.ChunkedArray
    message_times: pa.ChunkedArray  # int64 ms
    event_keys: pa.ChunkedArray
    event_times: pa.ChunkedArray  # int64 ms
    newest: dict[str, int]  # per channel, the newest sent_at in the batch

    @property
    def rows(self) -> int:
        return len(self.message_ids) + len(self.event_keys)


class WrittenMemory:
    """What this sink wrote recently, bounded; and per channel the floor above which that is all
    the store holds (exclusive sinks only). Not thread-safe: the writer thread alone calls it.

    Written keys stay as the Arrow columns they were inserted with, not as a dict: live chat
    never looks them up (every row is newer than anything written for its channel, which no
    remembered row can be), so it pays no per-row Python work to remember them. Rows that are
    not newer -- replays, redeliveries, chat arriving a little out of order -- are looked up
    with one vectorised ``is_in`` against the batches that reach back to them.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._floors: dict[str, int] = {}  # channel -> floor (ms)
        self._written: dict[str, int] = {}  # channel -> newest sent_at written
        self._batches: deque[_Written] = deque()
        self._rows = 0

    def unknown_channels(self, channels: set[str]) -> list[str]:
        return sorted(c for c in channels if c not in self._floors)

    def set_floors(self, floors: dict[str, int]) -> None:
        self._floors.update(floors)

    def forget_floors(self, channels: set[str]) -> None:
        for channel in channels:
            self._floors.pop(channel, None)

    def floor(self, channel: str, exclusive: bool) -> int:
        return self._floors.get(channel, ALWAYS_ASK) if exclusive else ALWAYS_ASK

    def classify(
        self, table: pa.Table, key_column: str, exclusive: bool
    ) -> tuple[list[int], list[str]] | None:
        """None when every row of ``table`` is new for certain (see :meth:`_all_new`). Else per row
        DUP (earlier in the batch, or written by this sink), NEW (above its channel's floor and
        not written by this sink) or ASK (the store must say), with the rows' keys."""
        if not table.num_rows:
            return None
        column = table.column(key_column)
        floors = self._floors if exclusive else {}
        if exclusive and self._all_new(table, column, key_column == "id"):
            return None
        keys = column.to_pylist()
        channels, times = channels_times(table)
        written = self._written
        recent = [at <= written.get(channel, NO_FLOOR) for channel, at in zip(channels, times, strict=True)]
        known = self._among(
            key_column == "id",
            [key for key, r in zip(keys, recent, strict=True) if r],
            min((at for at, r in zip(times, recent, strict=True) if r), default=0),
        )
        seen: set[str] = set()
        out: list[int] = []
        append, add = out.append, seen.add
        for key, channel, at in zip(keys, channels, times, strict=True):
            if key in seen or key in known:
                append(DUP)
            else:
                append(NEW if at > floors.get(channel, ALWAYS_ASK) else ASK)
                add(key)
        return out, keys

    def _all_new(self, table: pa.Table, keys: pa.ChunkedArray, messages: bool) -> bool:
        """Whether every row is new for certain, decided column-wise: each key once, every row
        above its channel's floor, and none that this sink wrote -- only rows not newer than
        what it wrote for their channel can be; in live chat those are the few that arrive a
        little out of order at a batch boundary."""
        if pc.count_distinct(keys).as_py() != len(keys):
            return False
        per_row = _PerChannel(table.column("channel"))
        times = table.column("sent_at").cast(pa.int64())
        if pc.any(pc.less_equal(times, per_row(self._floors, ALWAYS_ASK))).as_py():
            return False
        recent = pc.less_equal(times, per_row(self._written, NO_FLOOR))
        if not pc.any(recent).as_py():
            return True
        since = pc.min(times.filter(recent)).as_py()
        return not self._among(messages, keys.filter(recent).to_pylist(), since)

    def _among(self, messages: bool, keys: list[str], since: int) -> set[str]:
        """Those of ``keys`` (rows sent at ``since`` or later) that this sink wrote."""
        if not keys:
            return set()
        pool = [
            chunk
            for batch in self._batches
            if newest_of(batch.newest) >= since
            for chunk in (batch.message_ids if messages else batch.event_keys).chunks
        ]
        if not pool:
            return set()
        hits = pc.is_in(pa.array(keys, pa.string()), value_set=pa.concat_arrays(pool)).to_pylist()
        return {key for key, hit in zip(keys, hits, strict=True) if hit}

    def message_time(self, message_id: str) -> int | None:
        """``sent_at`` of a message this sink wrote, None when it is not remembered."""
        for batch in reversed(self._batches):
            at = pc.index(batch.message_ids, message_id).as_py()
            if at >= 0:
                return int(batch.message_times[at].as_py())
        return None

    def outside_store(self, channel: str, since: int, exclusive: bool) -> bool:
        """True when nothing the store holds for ``channel`` from ``since`` on is unknown here."""
        return since > self.floor(channel, exclusive)

    def may_have_messages(self, channel: str, since: int, exclusive: bool) -> bool:
        """Whether the store may hold messages in ``channel`` from ``since`` on. (Per chatter
        would skip a few more lookups, but costs more to keep than the lookups it saves: a
        timeout nearly always follows the chatter's own recent messages.)"""
        if not self.outside_store(channel, since, exclusive):
            return True
        return self._written.get(channel, NO_FLOOR) >= since

    def remember(self, messages: pa.Table, events: pa.Table) -> None:
        """Record a written batch; forget the oldest batches beyond ``capacity`` rows."""
        newest = newest_per_channel(messages, events)
        for channel, at in newest.items():
            if at > self._written.get(channel, NO_FLOOR):
                self._written[channel] = at
        batch = _Written(
            messages.column("id"), messages.column("sent_at").cast(pa.int64()),
            events.column("event_key"), events.column("sent_at").cast(pa.int64()), newest,
        )  # fmt: skip
        self._batches.append(batch)
        self._rows += batch.rows
        while self._rows > self.capacity and self._batches:
            gone = self._batches.popleft()
            self._rows -= gone.rows
            for channel, at in gone.newest.items():  # rows up to here may now be stored unknown to us
                if channel in self._floors and at > self._floors[channel]:
                    self._floors[channel] = at


class _PerChannel:
    """Spreads per-channel values over a column of channels: the channels are looked up once,
    however many values are spread."""

    def __init__(self, channels: pa.ChunkedArray) -> None:
        names = pc.unique(channels)
        self._names = names.to_pylist()
        self._rows = pc.index_in(channels, value_set=names)

    def __call__(self, values: dict[str, int], default: int) -> pa.Array:
        """``values[channel]`` (else ``default``) for each row, as an int64 array."""
        lookup = pa.array([values.get(name, default) for name in self._names], pa.int64())
        return pc.take(lookup, self._rows)


def newest_of(per_channel: dict[str, int]) -> int:
    return max(per_channel.values(), default=NO_FLOOR)


def channels_times(table: pa.Table) -> tuple[list[str], list[int]]:
    """``table``'s channel and ``sent_at`` (ms) columns as lists."""
    return table.column("channel").to_pylist(), table.column("sent_at").cast(pa.int64()).to_pylist()


def rows_to_keep(states: list[int], keys: list[str], stored: set[str]) -> list[bool] | None:
    """Which rows to insert; None for all of them."""
    if DUP not in states and ASK not in states:
        return None
    return [s == NEW or (s == ASK and k not in stored) for s, k in zip(states, keys, strict=True)]


def filtered(table: pa.Table, keep: list[bool] | None) -> pa.Table:
    if keep is None or all(keep):
        return table
    return table.filter(pa.array(keep, pa.bool_()))


def emote_keep(emotes: pa.Table, ids: list[str], m_state: list[int], stored: set[str]) -> list[bool] | None:
    """Emote rows to insert: those of messages new for certain, and of checked messages whose
    emotes the store lacks (a half-written attempt may have stored messages but not emotes)."""
    if not emotes.num_rows or (DUP not in m_state and ASK not in m_state):
        return None  # all messages new, each once: so are their emotes
    state: dict[str, int] = {}
    for key, s in zip(ids, m_state, strict=True):
        state.setdefault(key, s)  # a message's first copy in the batch decides
    message_ids = emotes.column("message_id").to_pylist()
    positions = emotes.column("position").to_pylist()
    seen: set[tuple[str, int]] = set()
    keep: list[bool] = []
    for key, position in zip(message_ids, positions, strict=True):
        s = state.get(key, ASK)
        ok = (s == NEW or (s == ASK and key not in stored)) and (key, position) not in seen
        seen.add((key, position))
        keep.append(ok)
    return keep


def newest_per_channel(messages: pa.Table, events: pa.Table) -> dict[str, int]:
    newest: dict[str, int] = {}
    for table in (messages, events):
        if not table.num_rows:
            continue
        grouped = table.group_by("channel").aggregate([("sent_at", "max")])
        for channel, at in zip(
            grouped.column("channel").to_pylist(),
            grouped.column("sent_at_max").cast(pa.int64()).to_pylist(),
            strict=True,
        ):
            if at > newest.get(channel, NO_FLOOR):
                newest[channel] = at
    return newest
