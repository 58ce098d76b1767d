"""Events -> columnar batches for ``chat_messages``, ``chat_emotes`` and ``chat_events``. Pure.

One list per column, built with one comprehension each: for batches of thousands of events this
is several times faster than building row tuples and transposing them, and the lists go to the
store as they are (chDB: Arrow arrays; server: clickhouse-connect's column-oriented insert).
Times stay integer milliseconds; a message without ``sent_at`` (never from Twitch IRC, possible
from other sources) is filed at its ``received_at``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Final

from chatpulse.events import (
    ChatEvent,
    ClearChatEvent,
    ClearMsgEvent,
    CoverageEvent,
    ErrorEvent,
    MessageEvent,
    ServerEvent,
    UserNoticeEvent,
)

Columns = dict[str, list[Any]]

# Kinds kept in chat_events. Left out on purpose: whispers (private, no channel), join/part
# (membership noise, one line per viewer), keep-alive and capability traffic, userstate.
EVENT_KINDS: Final = frozenset(
    {"usernotice", "clearchat", "clearmsg", "roomstate", "notice", "hosttarget", "coverage", "error"}
)


def message_time(message: ChatEvent) -> int:
    """The time a message is filed under: server time, else local receive time."""
    return message.sent_at if message.sent_at is not None else message.received_at


def message_columns(messages: Sequence[MessageEvent]) -> Columns:
    """``chat_messages`` columns (version 0, not deleted: the table defaults fill those)."""
    m = messages
    return {
        "id": [e.id for e in m],
        "channel": [e.channel or "" for e in m],
        "channel_id": [e.channel_id or "" for e in m],
        "sent_at": [e.received_at if e.sent_at is None else e.sent_at for e in m],
        "received_at": [e.received_at for e in m],
        "source": [e.source for e in m],
        "user_id": [e.user_id or "" for e in m],
        "user_login": [e.user_login for e in m],
        "user_name": [e.user_name for e in m],
        "text": [e.text for e in m],
        "is_action": [e.is_action for e in m],
        "badges": [e.badges for e in m],
        "color": [e.color or "" for e in m],
        "bits": [e.bits for e in m],
        "first_msg": [e.first_msg for e in m],
        "returning_chatter": [e.returning_chatter for e in m],
        "reply_parent_id": [e.reply_parent.id if e.reply_parent else "" for e in m],
        "reply_parent_user_login": [e.reply_parent.user_login if e.reply_parent else "" for e in m],
        "source_channel_id": [e.source_channel_id or "" for e in m],
        "emote_count": [len(e.emotes) for e in m],
        "sentiment_label": [e.sentiment.label if e.sentiment else "" for e in m],
        "sentiment_score": [e.sentiment.score if e.sentiment else None for e in m],
        "sentiment_confidence": [e.sentiment.confidence if e.sentiment else None for e in m],
        "sentiment_model": [e.sentiment.model if e.sentiment else "" for e in m],
    }


def emote_columns(messages: Sequence[MessageEvent]) -> Columns:
    """``chat_emotes`` columns: one row per emote occurrence, ``position`` = its start offset."""
    columns: Columns = {
        name: []
        for name in (
            "channel", "sent_at", "message_id", "position", "emote_id", "emote_name", "provider",
            "user_login",
        )
    }  # fmt: skip
    channel, sent_at, message_id = columns["channel"], columns["sent_at"], columns["message_id"]
    position, emote_id, emote_name = columns["position"], columns["emote_id"], columns["emote_name"]
    provider, user_login = columns["provider"], columns["user_login"]
    for e in messages:
        if not e.emotes:
            continue
        at = message_time(e)
        for emote in e.emotes:
            channel.append(e.channel or "")
            sent_at.append(at)
            message_id.append(e.id)
            position.append(min(emote.start, 65535))
            emote_id.append(emote.id)
            emote_name.append(emote.name)
            provider.append(emote.provider)
            user_login.append(e.user_login)
    return columns


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
