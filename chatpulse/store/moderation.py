"""Moderation applied to stored messages: CLEARMSG and ban/timeout CLEARCHAT mark messages deleted.

A message is never updated in place. The sink inserts a *marker*: a full copy of the message
with ``deleted = true``, ``deleted_at``/``deleted_by`` filled and ``version`` = the moderation
time in ms. ``chat_messages`` is a ReplacingMergeTree(version), so the marker replaces the
original (``FINAL`` shows it at once, merges later), and the ``chat_minute_deleted_mv`` view
counts it. This is plain INSERTs and SELECTs, so it behaves the same on chDB and on every server
(no mutations, no lightweight-update table settings).

Markers are made only for messages whose current copy is not deleted yet, so applying the same
moderation twice, or a second ban of an already-cleared user, adds nothing.

- CLEARMSG marks the message with that id (``deleted_by = 'clearmsg'``).
- CLEARCHAT with a target marks that user's messages in that channel sent within
  ``window_ms`` before it (``'timeout'`` or ``'ban'``); Twitch clients hide those lines
  (dev.twitch.tv/docs/chat/irc, CLEARCHAT). A whole-chat clear marks nothing: it resets
  viewers' screens, it does not judge messages. Both are still kept in ``chat_events``.

Two ways to make markers, both with the same rules (the earliest action wins per message):

- :func:`markers` builds them in memory from a batch's own new messages (pyarrow; no store
  round trip). Moderation mostly hits recent messages, so most targets are in the same batch.
- For targets already in the store, :func:`stored_markers` selects their markers (``SELECT
  ... FINAL``) for the sink to insert with its batch's own (embedded chDB), and
  :func:`apply_actions` inserts them with one ``INSERT ... SELECT`` per kind (a server: the rows
  never leave it). The sink asks only about actions whose targets may be stored, with the
  narrowest time range it can prove (see :class:`~chatpulse.store.sink.ClickHouseSink`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from chatpulse.events import ChatEvent, ClearChatEvent, ClearMsgEvent
from chatpulse.store.rows import MARKER_SCHEMA, MESSAGE_SCHEMA, message_time

if TYPE_CHECKING:
    from chatpulse.store import Store

# Every chat_messages column except the four a marker sets: the one row layout of store/rows.py.
MESSAGE_COLUMNS: Final = tuple(MESSAGE_SCHEMA.names)
_TARGET = ", ".join((*MESSAGE_COLUMNS, "deleted", "deleted_at", "deleted_by", "version"))
_COPY = ", ".join(f"m.{name}" for name in MESSAGE_COLUMNS)
_MARK = "true, fromUnixTimestamp64Milli(d.at, 'UTC'), d.by, toUInt64(d.at)"
_ACTIONS = (
    "SELECT tupleElement(a, 1) AS channel, tupleElement(a, 2) AS key, tupleElement(a, 3) AS at, "
    "tupleElement(a, 4) AS by FROM (SELECT arrayJoin(arrayZip({channels:Array(String)}, "
    "{keys:Array(String)}, {ats:Array(Int64)}, {bys:Array(String)})) AS a)"
)
_RANGE = (
    "channel IN {all_channels:Array(String)} "
    "AND sent_at >= fromUnixTimestamp64Milli({lo:Int64}, 'UTC') "
    "AND sent_at <= fromUnixTimestamp64Milli({hi:Int64}, 'UTC')"
)


def _current(key: str) -> str:
    # The current copy of the candidate messages. PREWHERE on the key column before FINAL reads
    # every other column only for the few rows it keeps (several times faster than filtering
    # after FINAL); it is exact because every copy of a message has the same id, channel and
    # login (a marker is a full copy), so copies are kept or dropped together. `deleted`
    # differs between copies: it is tested after FINAL.
    columns = ", ".join((*MESSAGE_COLUMNS, "deleted"))
    return (
        f"(SELECT {columns} FROM chat_messages FINAL PREWHERE {key} IN {{keys:Array(String)}} "  # noqa: S608
        f"WHERE {_RANGE}) AS m"
    )


# Built from the constants above only; every value travels as a query parameter.
_CLEARMSG_SELECT: Final = (
    f"SELECT {_COPY}, {_MARK} "  # noqa: S608
    f"FROM {_current('id')} INNER JOIN ({_ACTIONS}) AS d "
    "ON m.channel = d.channel AND m.id = d.key WHERE NOT m.deleted "
    "ORDER BY d.at LIMIT 1 BY m.id"
)
_CLEARCHAT_SELECT: Final = (
    f"SELECT {_COPY}, {_MARK} "  # noqa: S608
    f"FROM {_current('user_login')} INNER JOIN ({_ACTIONS}) AS d "
    "ON m.channel = d.channel AND m.user_login = d.key WHERE NOT m.deleted "
    "AND m.sent_at <= fromUnixTimestamp64Milli(d.at, 'UTC') "
    "AND m.sent_at >= fromUnixTimestamp64Milli(d.at - {window:Int64}, 'UTC') "
    "ORDER BY d.at LIMIT 1 BY m.id"
)
CLEARMSG_SQL: Final = f"INSERT INTO chat_messages ({_TARGET}) {_CLEARMSG_SELECT}"
CLEARCHAT_SQL: Final = f"INSERT INTO chat_messages ({_TARGET}) {_CLEARCHAT_SELECT}"


@dataclass(frozen=True, slots=True)
class Action:
    """One moderation action: which messages (by id or by login) in which channel, when."""

    channel: str
    key: str  # message id (clearmsg) or user login (clearchat)
    at: int  # ms
    by: str  # 'clearmsg' | 'timeout' | 'ban'


def actions(events: Sequence[ChatEvent]) -> tuple[list[Action], list[Action]]:
    """(clearmsg actions, clearchat actions) among ``events``; whole-chat clears are skipped."""
    by_id: list[Action] = []
    by_user: list[Action] = []
    for event in events:
        if not event.channel:
            continue
        if isinstance(event, ClearMsgEvent) and event.target_message_id:
            by_id.append(Action(event.channel, event.target_message_id, message_time(event), "clearmsg"))
        elif isinstance(event, ClearChatEvent) and event.target_user_login:
            kind = "ban" if event.ban_duration is None else "timeout"
            by_user.append(Action(event.channel, event.target_user_login, message_time(event), kind))
    return by_id, by_user


def actions_in_table(events: pa.Table) -> tuple[list[Action], list[Action]]:
    """:func:`actions` for a ``chat_events`` batch (:data:`~chatpulse.store.rows.EVENT_SCHEMA`)."""
    if not events.num_rows:
        return [], []
    wanted = events.filter(pc.is_in(events.column("kind"), pa.array(["clearmsg", "clearchat"])))
    by_id: list[Action] = []
    by_user: list[Action] = []
    if not wanted.num_rows:
        return by_id, by_user
    rows = zip(
        wanted.column("kind").to_pylist(),
        wanted.column("channel").to_pylist(),
        wanted.column("sent_at").cast(pa.int64()).to_pylist(),
        wanted.column("target_message_id").to_pylist(),
        wanted.column("target_user_login").to_pylist(),
        wanted.column("ban_duration").to_pylist(),
        strict=True,
    )
    for kind, channel, at, message_id, login, duration in rows:
        if not channel:
            continue
        if kind == "clearmsg" and message_id:
            by_id.append(Action(channel, message_id, at, "clearmsg"))
        elif kind == "clearchat" and login:
            by_user.append(Action(channel, login, at, "ban" if duration is None else "timeout"))
    return by_id, by_user


def markers(
    messages: pa.Table, by_id: Sequence[Action], by_user: Sequence[Action], window_ms: int
) -> tuple[pa.Table, set[int]]:
    """Markers for the ``messages`` (new, hence not deleted yet) that the actions hit, and the
    indexes (into ``by_id``) of the CLEARMSG actions that found their message here.

    Same rules as the SQL: CLEARMSG by (channel, id), sent at most ``window_ms`` before it;
    CLEARCHAT by (channel, login), sent within ``window_ms`` before it; the earliest action
    wins."""
    found: set[int] = set()
    best: dict[int, tuple[int, str]] = {}  # row -> (at, by)
    sent = messages.column("sent_at")
    for keys, column, actions_ in ((by_id, "id", by_id), (by_user, "user_login", by_user)):
        if not keys:
            continue
        hit = pc.indices_nonzero(pc.is_in(messages.column(column), pa.array({a.key for a in keys})))
        rows = hit.to_pylist()
        if not rows:
            continue
        picked = messages.take(hit)
        by_key: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for row, channel, key, at in zip(
            rows,
            picked.column("channel").to_pylist(),
            picked.column(column).to_pylist(),
            pc.take(sent, hit).cast(pa.int64()).to_pylist(),
            strict=True,
        ):
            by_key.setdefault((channel, key), []).append((row, at))
        for index, action in enumerate(actions_):
            for row, at in by_key.get((action.channel, action.key), ()):
                # A message id is unique: CLEARMSG needs no upper bound (nor does the SQL).
                if action.at - window_ms <= at and (actions_ is by_id or at <= action.at):
                    if actions_ is by_id:
                        found.add(index)
                    if row not in best or action.at < best[row][0]:
                        best[row] = (action.at, action.by)
    if not best:
        return MARKER_SCHEMA.empty_table(), found
    rows = sorted(best)
    ats = [best[r][0] for r in rows]
    copy = messages.select(MESSAGE_SCHEMA.names).take(pa.array(rows, pa.int64()))
    extra = [
        pa.array([True] * len(rows), pa.bool_()),
        pa.array(ats, pa.int64()).cast(MARKER_SCHEMA.field("deleted_at").type),
        pa.array([best[r][1] for r in rows], pa.string()),
        pa.array(ats, pa.uint64()),
    ]
    return pa.Table.from_arrays([*copy.columns, *extra], schema=MARKER_SCHEMA), found


def apply(store: Store, events: Sequence[ChatEvent], window_ms: int) -> int:
    """Insert markers for the moderation among ``events``; returns how many actions were applied.

    Raises StoreError like any store call; applying again is harmless (see module docstring).
    """
    by_id, by_user = actions(events)
    apply_actions(store, by_id, by_user, window_ms)
    return len(by_id) + len(by_user)


def apply_actions(
    store: Store,
    by_id: Sequence[Action],
    by_user: Sequence[Action],
    window_ms: int,
    since_ms: int | None = None,
) -> None:
    """Insert markers for stored messages the actions hit (``INSERT ... SELECT``, one statement
    per kind). ``since_ms``, when the caller knows every CLEARMSG target is at least that
    recent, narrows that scan; by default a scan starts ``window_ms`` before the earliest action.

    Raises StoreError like any store call; applying again is harmless (see module docstring).
    """
    for insert_sql, _, batch, since in _kinds(by_id, by_user, since_ms):
        if batch:
            store.command(insert_sql, _params(batch, window_ms, since))


def stored_markers(
    store: Store,
    by_id: Sequence[Action],
    by_user: Sequence[Action],
    window_ms: int,
    since_ms: int | None = None,
) -> pa.Table | None:
    """The markers :func:`apply_actions` would insert, selected as a :data:`MARKER_SCHEMA` table
    (the earliest action per message, across both kinds), for the caller to insert with rows
    of its own; None when the store cannot return Arrow (a server: use :func:`apply_actions`,
    whose INSERT ... SELECT keeps the rows server-side).

    Why: on embedded chDB an INSERT ... SELECT costs a fixed ~0.1 s (the insert pipeline and
    the views are set up) even when it inserts nothing; a SELECT costs a fraction, and the sink
    puts the markers in the INSERT it makes anyway for its batch's own markers.
    """
    query_arrow = getattr(store, "query_arrow", None)
    if query_arrow is None:
        return None
    found = [
        _as_markers(query_arrow(select_sql, _params(batch, window_ms, since)))
        for _, select_sql, batch, since in _kinds(by_id, by_user, since_ms)
        if batch
    ]
    if not found:
        return MARKER_SCHEMA.empty_table()
    table = pa.concat_tables(found)
    if pc.count_distinct(table.column("id")).as_py() == table.num_rows:
        return table
    # A message hit by a CLEARMSG and a ban at once: the earliest action wins, as in markers().
    table = table.sort_by([("version", "ascending")])
    seen: set[str] = set()
    keep: list[bool] = []
    for key in table.column("id").to_pylist():
        keep.append(key not in seen)
        seen.add(key)
    return table.filter(pa.array(keep, pa.bool_()))


def _kinds(
    by_id: Sequence[Action], by_user: Sequence[Action], since_ms: int | None
) -> tuple[tuple[str, str, Sequence[Action], int | None], ...]:
    """(INSERT ... SELECT, SELECT, actions, scan start) per kind; ``since_ms`` narrows CLEARMSG."""
    return (
        (CLEARMSG_SQL, _CLEARMSG_SELECT, by_id, since_ms),
        (CLEARCHAT_SQL, _CLEARCHAT_SELECT, by_user, None),
    )


def _params(batch: Sequence[Action], window_ms: int, since_ms: int | None) -> dict[str, Any]:
    ats = [a.at for a in batch]
    return {
        "channels": [a.channel for a in batch],
        "keys": [a.key for a in batch],
        "ats": ats,
        "bys": [a.by for a in batch],
        "all_channels": sorted({a.channel for a in batch}),
        "lo": min(ats) - window_ms if since_ms is None else since_ms,
        "hi": max(ats),
        "window": window_ms,
    }


def _as_markers(found: pa.Table) -> pa.Table:
    """The SELECT's result (marker columns in :data:`MARKER_SCHEMA` order, as ClickHouse typed
    them, e.g. dictionaries for LowCardinality) as a :data:`MARKER_SCHEMA` table."""
    columns = [column.cast(f.type) for column, f in zip(found.columns, MARKER_SCHEMA, strict=True)]
    return pa.Table.from_arrays(columns, schema=MARKER_SCHEMA)
