"""Moderation applied to stored messages: CLEARMSG and ban/timeout CLEARCHAT mark messages deleted.

A message is never updated in place. The sink inserts a *marker*: a full copy of the message
with ``deleted = true``, ``deleted_at``/``deleted_by`` filled and ``version`` = the moderation
time in ms. ``chat_messages`` is a ReplacingMergeTree(version), so the marker replaces the
original (``FINAL`` shows it at once, merges later), and the ``chat_minute_deleted_mv`` view
counts it. This is plain INSERT ... SELECT, so it behaves the same on chDB and on every server
(no mutations, no lightweight-update table settings).

Markers are made only for messages whose current copy is not deleted yet, so applying the same
moderation twice, or a second ban of an already-cleared user, adds nothing.

- CLEARMSG marks the message with that id (``deleted_by = 'clearmsg'``).
- CLEARCHAT with a target marks that user's messages in that channel sent within
  ``window_ms`` before it (``'timeout'`` or ``'ban'``); Twitch clients hide those lines
  (dev.twitch.tv/docs/chat/irc, CLEARCHAT). A whole-chat clear marks nothing: it resets
  viewers' screens, it does not judge messages. Both are still kept in ``chat_events``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from chatpulse.events import ChatEvent, ClearChatEvent, ClearMsgEvent
from chatpulse.store.rows import message_time

if TYPE_CHECKING:
    from chatpulse.store import Store

# Every chat_messages column except the four a marker sets.
MESSAGE_COLUMNS: Final = (
    "id", "channel", "channel_id", "sent_at", "received_at", "source", "user_id", "user_login",
    "user_name", "text", "is_action", "badges", "color", "bits", "first_msg",
    "returning_chatter", "reply_parent_id", "reply_parent_user_login", "source_channel_id",
    "emote_count", "sentiment_label", "sentiment_score", "sentiment_confidence", "sentiment_model",
)  # fmt: skip
_TARGET = ", ".join((*MESSAGE_COLUMNS, "deleted", "deleted_at", "deleted_by", "version"))
_COPY = ", ".join(f"m.{name}" for name in MESSAGE_COLUMNS)
_MARK = "true, fromUnixTimestamp64Milli(d.at, 'UTC'), d.by, toUInt64(d.at)"
_ACTIONS = (
    "SELECT tupleElement(a, 1) AS channel, tupleElement(a, 2) AS key, tupleElement(a, 3) AS at, "
    "tupleElement(a, 4) AS by FROM (SELECT arrayJoin(arrayZip({channels:Array(String)}, "
    "{keys:Array(String)}, {ats:Array(Int64)}, {bys:Array(String)})) AS a)"
)
_RANGE = (
    "m.channel IN {all_channels:Array(String)} "
    "AND m.sent_at >= fromUnixTimestamp64Milli({lo:Int64}, 'UTC') "
    "AND m.sent_at <= fromUnixTimestamp64Milli({hi:Int64}, 'UTC') AND NOT m.deleted"
)
# Built from the constants above only; every value travels as a query parameter.
CLEARMSG_SQL: Final = (
    f"INSERT INTO chat_messages ({_TARGET}) SELECT {_COPY}, {_MARK} "  # noqa: S608
    f"FROM chat_messages AS m FINAL INNER JOIN ({_ACTIONS}) AS d "
    f"ON m.channel = d.channel AND m.id = d.key WHERE {_RANGE} "
    "ORDER BY d.at LIMIT 1 BY m.id"
)
CLEARCHAT_SQL: Final = (
    f"INSERT INTO chat_messages ({_TARGET}) SELECT {_COPY}, {_MARK} "  # noqa: S608
    f"FROM chat_messages AS m FINAL INNER JOIN ({_ACTIONS}) AS d "
    f"ON m.channel = d.channel AND m.user_login = d.key WHERE {_RANGE} "
    "AND m.sent_at <= fromUnixTimestamp64Milli(d.at, 'UTC') "
    "AND m.sent_at >= fromUnixTimestamp64Milli(d.at - {window:Int64}, 'UTC') "
    "ORDER BY d.at LIMIT 1 BY m.id"
)


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


def apply(store: Store, events: Sequence[ChatEvent], window_ms: int) -> int:
    """Insert markers for the moderation among ``events``; returns how many actions were applied.

    Raises StoreError like any store call; applying again is harmless (see module docstring).
    """
    by_id, by_user = actions(events)
    for sql, batch in ((CLEARMSG_SQL, by_id), (CLEARCHAT_SQL, by_user)):
        if not batch:
            continue
        ats = [a.at for a in batch]
        store.command(
            sql,
            {
                "channels": [a.channel for a in batch],
                "keys": [a.key for a in batch],
                "ats": ats,
                "bys": [a.by for a in batch],
                "all_channels": sorted({a.channel for a in batch}),
                "lo": min(ats) - window_ms,
                "hi": max(ats),
                "window": window_ms,
            },
        )
    return len(by_id) + len(by_user)
