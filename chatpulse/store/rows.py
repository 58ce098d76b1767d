"""Events -> columnar batches for ``chat_messages``, ``chat_emotes`` and ``chat_events``. Pure.

One list per column, built with one comprehension each: for batches of thousands of events this
is several times faster than building row tuples and transposing them, and the lists go to the
store as they are (chDB: Arrow arrays; server: clickhouse-connect's column-oriented insert).
Times stay integer milliseconds; a message without ``sent_at`` (never from Twitch IRC, possible
from other sources) is filed at its ``received_at``.

:func:`build_batch` goes one step further and returns a :class:`StoreBatch`: the three tables
as pyarrow tables typed like the schema (:data:`MESSAGE_SCHEMA` and friends). The ``run``
pipeline's worker processes build it right after scoring, so what crosses back to the main
process is a few Arrow buffers (cheap to pickle) instead of thousands of event objects, and the
sink (:meth:`~chatpulse.store.sink.ClickHouseSink.add_batch`) inserts it without converting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import attrgetter
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from chatpulse.events import (
    ChatEvent,
    ClearChatEvent,
    ClearMsgEvent,
    CoverageEvent,
    ErrorEvent,
    MessageEvent,
    Sentiment,
    ServerEvent,
    UserNoticeEvent,
)
from chatpulse.times import parse_time
from chatpulse.wire_views import MessageView

Columns = dict[str, list[Any]]

# Kinds kept in chat_events. Left out on purpose: whispers (private, no channel), join/part
# (membership noise, one line per viewer), keep-alive and capability traffic, userstate.
EVENT_KINDS: Final = frozenset(
    {"usernotice", "clearchat", "clearmsg", "roomstate", "notice", "hosttarget", "coverage", "error"}
)


def message_time(message: ChatEvent) -> int:
    """The time a message is filed under: server time, else local receive time."""
    return message.sent_at if message.sent_at is not None else message.received_at


def event_key(event: ChatEvent) -> str:
    """A stable identity: Twitch's ``id`` tag where there is one, else a hash of the content.

    The same line replayed gives the same key, so replays are recognised; the raw line
    includes ``tmi-sent-ts``, so two real events practically never share a key.
    """
    twitch_id = getattr(event, "id", "") or event.tags.get("id", "")
    if twitch_id:
        return str(twitch_id)
    if isinstance(event, CoverageEvent):
        basis = f"coverage|{event.channel}|{event.state}|{event.received_at}|{event.source}|{event.reason}"
    else:
        basis = f"{event.kind}|{event.channel}|{event.sent_at}|{event.raw or event.received_at}"
    return hashlib.blake2b(basis.encode("utf-8"), digest_size=12).hexdigest()


def event_columns(events: Sequence[ChatEvent]) -> Columns:
    """``chat_events`` columns for events whose kind is in :data:`EVENT_KINDS`."""
    names = (
        "event_key", "kind", "channel", "channel_id", "sent_at", "received_at", "source",
        "notice_type", "user_id", "user_login", "target_user_login", "target_user_id",
        "target_message_id", "ban_duration", "text", "system_text", "params", "raw",
    )  # fmt: skip
    columns: Columns = {name: [] for name in names}
    for event in events:
        row = _event_row(event)
        for name in names:
            columns[name].append(row.get(name, ""))
    return columns


def _event_row(event: ChatEvent) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_key": event_key(event),
        "kind": event.kind,
        "channel": event.channel or "",
        "channel_id": event.channel_id or "",
        "sent_at": message_time(event),
        "received_at": event.received_at,
        "source": event.source,
        "ban_duration": None,
        "params": {},
        "raw": event.raw or "",
    }
    if isinstance(event, UserNoticeEvent):
        row.update(
            notice_type=event.notice_type, user_id=event.user_id or "", user_login=event.user_login,
            text=event.text, system_text=event.system_text, params=event.params,
        )  # fmt: skip
    elif isinstance(event, ClearChatEvent):
        row.update(
            target_user_login=event.target_user_login or "",
            target_user_id=event.target_user_id or "",
            ban_duration=event.ban_duration,
            notice_type=_clearchat_type(event),
        )
    elif isinstance(event, ClearMsgEvent):
        row.update(target_message_id=event.target_message_id, user_login=event.user_login, text=event.text)
    elif isinstance(event, CoverageEvent):
        row.update(notice_type=event.state, text=event.reason)
    elif isinstance(event, ErrorEvent):
        row.update(text=event.error)
    elif isinstance(event, ServerEvent):
        row.update(
            notice_type=event.tags.get("msg-id", ""), user_login=event.user_login or "",
            text=event.text or "", params=_roomstate_params(event),
        )  # fmt: skip
    return row


def _clearchat_type(event: ClearChatEvent) -> str:
    if event.target_user_login is None and event.target_user_id is None:
        return "clear"
    return "ban" if event.ban_duration is None else "timeout"


def _roomstate_params(event: ServerEvent) -> dict[str, str]:
    if event.kind != "roomstate":
        return {}
    # ROOMSTATE's settings are its tags (dev.twitch.tv/docs/chat/irc, ROOMSTATE tags).
    return {k: v for k, v in event.tags.items() if k not in {"room-id", "tmi-sent-ts"}}


# --- Arrow batches ---------------------------------------------------------------------------
# The Arrow types that carry each column, as ChdbStore derives them from the table's ClickHouse
# types (String/LowCardinality -> string, DateTime64(3, 'UTC') -> timestamp[ms, UTC], Map ->
# map). Fixed here so that worker processes can build batches without asking the store; a test
# checks them against the migrated schema (tests/integration/test_store_chdb.py).
_TIME = pa.timestamp("ms", tz="UTC")
_TAGS = pa.map_(pa.string(), pa.string())
MESSAGE_SCHEMA: Final = pa.schema([
    ("id", pa.string()), ("channel", pa.string()), ("channel_id", pa.string()),
    ("sent_at", _TIME), ("received_at", _TIME), ("source", pa.string()),
    ("user_id", pa.string()), ("user_login", pa.string()), ("user_name", pa.string()),
    ("text", pa.string()), ("is_action", pa.bool_()), ("badges", _TAGS), ("color", pa.string()),
    ("bits", pa.uint32()), ("first_msg", pa.bool_()), ("returning_chatter", pa.bool_()),
    ("reply_parent_id", pa.string()), ("reply_parent_user_login", pa.string()),
    ("source_channel_id", pa.string()), ("emote_count", pa.uint16()),
    ("sentiment_label", pa.string()), ("sentiment_score", pa.float32()),
    ("sentiment_confidence", pa.float32()), ("sentiment_model", pa.string()),
    ("sentiment_lang", pa.string()),
])  # fmt: skip
# A moderation marker is a message row plus these (see chatpulse.store.moderation).
MARKER_SCHEMA: Final = pa.schema([
    *MESSAGE_SCHEMA, ("deleted", pa.bool_()), ("deleted_at", _TIME), ("deleted_by", pa.string()),
    ("version", pa.uint64()),
])  # fmt: skip
EMOTE_SCHEMA: Final = pa.schema([
    ("channel", pa.string()), ("sent_at", _TIME), ("message_id", pa.string()),
    ("position", pa.uint16()), ("emote_id", pa.string()), ("emote_name", pa.string()),
    ("provider", pa.string()), ("user_login", pa.string()),
])  # fmt: skip
EVENT_SCHEMA: Final = pa.schema([
    ("event_key", pa.string()), ("kind", pa.string()), ("channel", pa.string()),
    ("channel_id", pa.string()), ("sent_at", _TIME), ("received_at", _TIME),
    ("source", pa.string()), ("notice_type", pa.string()), ("user_id", pa.string()),
    ("user_login", pa.string()), ("target_user_login", pa.string()),
    ("target_user_id", pa.string()), ("target_message_id", pa.string()),
    ("ban_duration", pa.uint32()), ("text", pa.string()), ("system_text", pa.string()),
    ("params", _TAGS), ("raw", pa.string()),
])  # fmt: skip
TABLE_SCHEMAS: Final = {
    "chat_messages": MESSAGE_SCHEMA,
    "chat_emotes": EMOTE_SCHEMA,
    "chat_events": EVENT_SCHEMA,
}


@dataclass(frozen=True, slots=True)
class StoreBatch:
    """One batch for the store, as Arrow tables typed like the schema; what the sink writes.

    ``messages`` rows carry an ``id`` (Twitch's, else :func:`event_key`), ``events`` rows their
    ``event_key``. Duplicates are allowed: the sink drops what is already stored.
    """

    messages: pa.Table  # MESSAGE_SCHEMA
    emotes: pa.Table  # EMOTE_SCHEMA
    events: pa.Table  # EVENT_SCHEMA
    skipped: int = 0  # events of kinds the store does not keep (join, part, ping, ...)

    @property
    def rows(self) -> int:
        """Stored-kind events in the batch (messages and kept events)."""
        return int(self.messages.num_rows + self.events.num_rows)


def is_stored_message(event: ChatEvent) -> bool:
    """Whether ``event`` is a row of ``chat_messages``: a chat message in a channel (a whisper
    has none and is not stored)."""
    return isinstance(event, MessageEvent) and event.kind == "message" and bool(event.channel)


def split_events(events: Sequence[ChatEvent]) -> tuple[list[MessageEvent], list[ChatEvent], int]:
    """(chat messages, events of :data:`EVENT_KINDS`, how many of neither kind).

    A message without an id (not from Twitch) gets its content hash as id, so replays of it
    are recognised like Twitch's; a message without a channel (a whisper) is not stored.
    """
    # Comprehensions rather than one loop with appends: a batch is nearly all chat messages,
    # so the second pass (over what is not a stored message) is usually skipped.
    # The condition of is_stored_message, written out: a call per event cost ~2 us per row here.
    messages = [e for e in events if isinstance(e, MessageEvent) and e.kind == "message" and e.channel]
    kept: list[ChatEvent] = []
    if len(messages) < len(events):
        kept = [e for e in events if e.kind in EVENT_KINDS]  # "message" is not one of them
    if not all(map(_ID, messages)):
        messages = [m if m.id else _with_id(m) for m in messages]
    return messages, kept, len(events) - len(messages) - len(kept)


_ID: Final = attrgetter("id")


def _with_id(message: MessageEvent) -> MessageEvent:
    from dataclasses import replace  # rare: only for messages from sources without ids

    return replace(message, id=event_key(message))


def build_batch(
    messages: Sequence[MessageEvent],
    events: Sequence[ChatEvent] = (),
    sentiments: Sequence[Sentiment | None] | None = None,
    skipped: int = 0,
) -> StoreBatch:
    """The :class:`StoreBatch` for ``messages`` (from :func:`split_events`: each has an id) and
    kept ``events``; ``sentiments``, when given, are the messages' verdicts in order (they win over
    ``message.sentiment``). Raises ValueError (pyarrow's
    ArrowInvalid) for values the schema cannot hold, e.g. a negative ``bits``."""
    message_rows = message_table(messages, sentiments)
    return StoreBatch(
        message_rows,
        emote_table(messages, message_rows),
        to_table(event_columns(events), EVENT_SCHEMA),
        skipped,
    )


# Plain comprehensions, one per column: on Python 3.11 their specialised attribute loads beat an
# attrgetter of all fields plus zip(*) (measured ~5x: attrgetter looks every name up by string).


def message_table(
    messages: Sequence[MessageEvent] | Sequence[MessageView],
    sentiments: Sequence[Sentiment | None] | None = None,
) -> pa.Table:
    """``chat_messages`` rows (version 0, not deleted: the table defaults fill those) as a
    :data:`MESSAGE_SCHEMA` table, built column-wise in Arrow; the one layout of a message row.
    ``sentiments`` as for :func:`build_batch`. ``messages`` may also be wire views of chat
    messages (the Kafka sink's), whose times are ISO strings. Raises ValueError as
    :func:`build_batch`."""
    if not messages:
        return MESSAGE_SCHEMA.empty_table()
    m = messages
    n = len(m)
    verdicts = [e.sentiment for e in m] if sentiments is None else sentiments
    times: Callable[[list[Any]], pa.Array] = _wire_times if isinstance(m[0], MessageView) else _event_times
    received = times([e.received_at for e in m])
    sent = times([e.sent_at for e in m])
    if received.null_count:
        raise ValueError("a message without received_at")
    if sent.null_count:
        sent = pc.coalesce(sent, received)
    parents = [e.reply_parent for e in m]
    if any(parents):
        parent_ids = [p.id if p else "" for p in parents]
        parent_logins = [p.user_login if p else "" for p in parents]
    else:
        parent_ids = parent_logins = _blank(n)
    if any(verdicts):
        models = [v.model if v else "" for v in verdicts]
        langs: Any = [v.lang if v else None for v in verdicts]
        if any(langs):  # not English: stored without a mood verdict (see 005_sentiment_lang.sql)
            verdicts = [None if lang else v for v, lang in zip(verdicts, langs, strict=True)]
        labels = [v.label if v else "" for v in verdicts]
        scores = [v.score if v else None for v in verdicts]
        confidences = [v.confidence if v else None for v in verdicts]
    else:
        labels, models, langs = _blank(n), _blank(n), _blank(n)
        scores = confidences = pa.nulls(n, pa.float32())
    return to_table(
        {
            "id": [e.id for e in m], "channel": [e.channel for e in m],
            "channel_id": [e.channel_id for e in m], "sent_at": sent, "received_at": received,
            "source": [e.source for e in m], "user_id": [e.user_id for e in m],
            "user_login": [e.user_login for e in m], "user_name": [e.user_name for e in m],
            "text": [e.text for e in m], "is_action": [e.is_action for e in m],
            "badges": [e.badges for e in m], "color": [e.color for e in m], "bits": [e.bits for e in m],
            "first_msg": [e.first_msg for e in m], "returning_chatter": [e.returning_chatter for e in m],
            "reply_parent_id": parent_ids, "reply_parent_user_login": parent_logins,
            "source_channel_id": [e.source_channel_id for e in m],
            "emote_count": [len(e.emotes) for e in m], "sentiment_label": labels,
            "sentiment_score": scores, "sentiment_confidence": confidences, "sentiment_model": models,
            "sentiment_lang": langs,
        },
        MESSAGE_SCHEMA,
    )  # fmt: skip


def emote_table(messages: Sequence[MessageEvent] | Sequence[MessageView], message_rows: pa.Table) -> pa.Table:
    """``chat_emotes`` rows, one per emote occurrence (``position`` = its start offset), as an
    :data:`EMOTE_SCHEMA` table; ``message_rows`` is
    :func:`message_table` of the same ``messages``, whose per-message columns are repeated
    (Arrow ``take``) once per emote instead of being appended row by row."""
    counts = message_rows.column("emote_count").to_pylist()
    if not any(counts):
        return EMOTE_SCHEMA.empty_table()
    rows = list(chain.from_iterable(map(repeat, range(len(counts)), counts)))
    owners = message_rows.select(["channel", "sent_at", "id", "user_login"]).take(pa.array(rows, pa.int32()))
    flat = [emote for e in messages for emote in e.emotes]
    position = pc.min_element_wise(pa.array([x.start for x in flat], pa.int64()), 65535).cast(pa.uint16())
    arrays = [
        owners.column(0), owners.column(1), owners.column(2), position, _strings([x.id for x in flat]),
        _strings([x.name for x in flat]), _strings([x.provider for x in flat]), owners.column(3),
    ]  # fmt: skip
    return pa.Table.from_arrays(arrays, schema=EMOTE_SCHEMA)


def store_batch(records: Sequence[MessageView | ChatEvent]) -> StoreBatch:
    """:func:`build_batch` for what the Kafka sink decodes: chat messages as wire views (each
    with an id and a channel), every other record as an event. Raises ValueError as
    :func:`build_batch`."""
    views = [r for r in records if isinstance(r, MessageView)]
    events = [r for r in records if not isinstance(r, MessageView)] if len(views) < len(records) else []
    messages, kept, skipped = split_events(events)
    batch = build_batch(messages, kept, skipped=skipped)
    if not views:
        return batch
    message_rows = message_table(views)
    emote_rows = emote_table(views, message_rows)
    if messages:
        message_rows = pa.concat_tables([message_rows, batch.messages])
        emote_rows = pa.concat_tables([emote_rows, batch.emotes])
    return StoreBatch(message_rows, emote_rows, batch.events, skipped)


def warm_up_arrow() -> None:
    """Do Arrow's one-time set-up for time-zoned timestamps (loading the time-zone database,
    ~0.2 s in a fresh process, measured) now rather than in the first batch."""
    pa.array([0], _TIME)


def _event_times(values: Sequence[int | None]) -> pa.Array:
    return pa.array(values, _TIME)


def _wire_times(values: Sequence[str | None]) -> pa.Array:
    """Wire times (ISO-8601 strings) as a timestamp array: Arrow's vectorised parse for the
    form :func:`chatpulse.times.format_time` writes, :func:`chatpulse.times.parse_time` (the
    decoder's rules) for anything Arrow refuses, e.g. more than millisecond precision."""
    try:
        return pa.array(values, pa.string()).cast(_TIME)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else parse_time(v) for v in values], _TIME)


def _strings(values: Sequence[str | None]) -> pa.Array:
    """A string column with None as "" (the tables' String columns are not Nullable)."""
    array = pa.array(values, pa.string())
    return array.fill_null("") if array.null_count else array


def _blank(n: int) -> pa.Array:
    return pa.repeat(pa.scalar("", pa.string()), n)


def to_table(columns: dict[str, Any], schema: pa.Schema) -> pa.Table:
    """``columns`` (every column of ``schema``, in any order: Python values, or Arrow arrays
    taken as they are) as a table of ``schema``; None in a string column is stored as ""."""
    if not columns or not len(next(iter(columns.values()))):
        return schema.empty_table()
    arrays = [
        values if isinstance(values := columns[f.name], pa.Array)
        else _strings(values) if f.type == pa.string()
        else pa.array(values, type=f.type)
        for f in schema
    ]  # fmt: skip
    return pa.Table.from_arrays(arrays, schema=schema)


def python_columns(table: pa.Table) -> Columns:
    """``table`` back as plain Python columns in the :class:`~chatpulse.store.Store` convention
    (DateTime64 as int ms, Map as dict), for backends without an Arrow insert."""
    out: Columns = {}
    for f, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(f.type):
            out[f.name] = column.cast(pa.int64()).to_pylist()
        elif pa.types.is_map(f.type):
            out[f.name] = [dict(pairs) if pairs is not None else {} for pairs in column.to_pylist()]
        else:
            out[f.name] = column.to_pylist()
    return out
