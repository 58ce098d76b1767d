"""Twitch IRC commands -> ChatPulse events. Pure: the caller passes the receive time.

Tag meanings follow Twitch's IRC reference (dev.twitch.tv/docs/irc/tags and /commands).
:func:`parse_line` never raises: a line that breaks the grammar becomes an :class:`ErrorEvent`
that keeps the raw text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from chatpulse.errors import IrcParseError
from chatpulse.events import (
    ChatEvent,
    ClearChatEvent,
    ClearMsgEvent,
    Emote,
    ErrorEvent,
    MessageEvent,
    ReplyParent,
    ServerEvent,
    UserNoticeEvent,
)
from chatpulse.irc.parser import IrcMessage, parse_irc

_ACTION_PREFIX: Final = "\x01ACTION "
_SIMPLE_KINDS: Final = {
    "ROOMSTATE": "roomstate",
    "USERSTATE": "userstate",
    "GLOBALUSERSTATE": "globaluserstate",
    "NOTICE": "notice",
    "JOIN": "join",
    "PART": "part",
    "HOSTTARGET": "hosttarget",
    "RECONNECT": "reconnect",
    "PING": "ping",
    "PONG": "pong",
    "CAP": "cap",
}


def parse_line(line: str, received_at: int, source: str = "irc") -> ChatEvent:
    """One raw IRC line (no CRLF) -> one event. Never raises."""
    try:
        msg = parse_irc(line)
    except IrcParseError as exc:
        return ErrorEvent(received_at=received_at, source=source, raw=line, error=str(exc))
    try:
        return _to_event(msg, line, received_at, source)
    except (ValueError, IndexError, KeyError) as exc:  # a field Twitch should never send
        return ErrorEvent(
            received_at=received_at, source=source, raw=line, tags=msg.tags,
            error=f"invalid {msg.command}: {exc}",
        )  # fmt: skip


def _to_event(msg: IrcMessage, line: str, received_at: int, source: str) -> ChatEvent:
    builder = _BUILDERS.get(msg.command)
    if builder is not None:
        return builder(msg, line, received_at, source)
    kind = _SIMPLE_KINDS.get(msg.command)
    if kind is None:
        kind = "numeric" if msg.command.isdigit() else "other"
    tags = msg.tags
    text = msg.params[-1] if msg.params and kind in {"notice", "ping", "pong", "numeric"} else None
    channel = _channel(msg.params[0]) if msg.params and msg.params[0].startswith("#") else None
    sender = msg.nick if kind in {"join", "part"} else None
    return ServerEvent(
        kind=kind,
        received_at=received_at,
        source=source,
        channel=channel,
        channel_id=tags.get("room-id") or None,
        sent_at=_sent_at(tags),
        tags=tags,
        raw=line,
        command=msg.command,
        params=tuple(msg.params),
        user_login=sender,
        text=text,
    )


# --- field helpers ---------------------------------------------------------------------------


def _channel(param: str) -> str:
    return param[1:].lower() if param.startswith("#") else param.lower()


def _sent_at(tags: dict[str, str]) -> int | None:
    ts = tags.get("tmi-sent-ts")
    return int(ts) if ts and ts.isdigit() else None


def _badges(value: str | None) -> dict[str, str]:
    """``subscriber/12,premium/1`` -> ``{"subscriber": "12", "premium": "1"}``."""
    if not value:
        return {}
    out: dict[str, str] = {}
    for item in value.split(","):
        name, _, version = item.partition("/")
        if name:
            out[name] = version
    return out


def _flag(tags: dict[str, str], key: str) -> bool:
    return tags.get(key) == "1"


def parse_emotes(value: str | None, text: str) -> tuple[Emote, ...]:
    """``25:0-4,12-16/1902:6-10`` -> emote spans sorted by position.

    Twitch counts code points (so do Python strings) and its end index is inclusive; ours is
    exclusive. Spans that start past the end are dropped, spans that end past it are clamped,
    malformed ranges skipped: Twitch does send such positions (around ``/me`` and emoji).
    """
    if not value:
        return ()
    n = len(text)
    found: list[Emote] = []
    for group in value.split("/"):
        emote_id, _, ranges = group.partition(":")
        if not emote_id or not ranges:
            continue
        for span in ranges.split(","):
            first, _, last = span.partition("-")
            if not (first.isdigit() and last.isdigit()):
                continue
            start, end = int(first), min(int(last) + 1, n)
            if start >= end:
                continue
            found.append(Emote(emote_id, text[start:end], start, end))
    found.sort(key=lambda e: e.start)
    return tuple(found)


def _split_action(text: str) -> tuple[str, bool]:
    if text.startswith(_ACTION_PREFIX):
        body = text[len(_ACTION_PREFIX) :]
        return (body[:-1] if body.endswith("\x01") else body), True
    return text, False


# --- builders --------------------------------------------------------------------------------


def _privmsg(msg: IrcMessage, line: str, received_at: int, source: str) -> ChatEvent:
    tags = msg.tags
    if len(msg.params) < 2:
        raise ValueError("PRIVMSG needs a channel and a text")
    text, is_action = _split_action(msg.params[1])
    login = msg.nick or tags.get("login", "")
    bits = tags.get("bits", "")
    parent_id = tags.get("reply-parent-msg-id")
    reply = (
        ReplyParent(parent_id, tags.get("reply-parent-user-login", ""), tags.get("reply-parent-msg-body", ""))
        if parent_id
        else None
    )
    return MessageEvent(
        kind="message",
        received_at=received_at,
        source=source,
        channel=_channel(msg.params[0]),
        channel_id=tags.get("room-id") or None,
        sent_at=_sent_at(tags),
        tags=tags,
        raw=line,
        id=tags.get("id", ""),
        user_id=tags.get("user-id") or None,
        user_login=login,
        user_name=(tags.get("display-name") or login).strip(),
        text=text,
        is_action=is_action,
        badges=_badges(tags.get("badges")),
        badge_info=_badges(tags.get("badge-info")),
        color=tags.get("color") or None,
        bits=int(bits) if bits.isdigit() else 0,
        first_msg=_flag(tags, "first-msg"),
        returning_chatter=_flag(tags, "returning-chatter"),
        reply_parent=reply,
        source_channel_id=tags.get("source-room-id") or None,
        emotes=parse_emotes(tags.get("emotes"), text),
    )


def _whisper(msg: IrcMessage, line: str, received_at: int, source: str) -> ChatEvent:
    tags = msg.tags
    if len(msg.params) < 2:
        raise ValueError("WHISPER needs a recipient and a text")
    text, is_action = _split_action(msg.params[1])
    login = msg.nick or ""
    return MessageEvent(
        kind="whisper",
        received_at=received_at,
        source=source,
        tags=tags,
        raw=line,
        id=tags.get("message-id", ""),
        user_id=tags.get("user-id") or None,
        user_login=login,
        user_name=(tags.get("display-name") or login).strip(),
        text=text,
        is_action=is_action,
        badges=_badges(tags.get("badges")),
        color=tags.get("color") or None,
        emotes=parse_emotes(tags.get("emotes"), text),
    )


def _usernotice(msg: IrcMessage, line: str, received_at: int, source: str) -> ChatEvent:
    tags = msg.tags
    if not msg.params:
        raise ValueError("USERNOTICE needs a channel")
    text = msg.params[1] if len(msg.params) > 1 else ""
    text, _ = _split_action(text)
    login = tags.get("login", "")
    return UserNoticeEvent(
        received_at=received_at,
        source=source,
        channel=_channel(msg.params[0]),
        channel_id=tags.get("room-id") or None,
        sent_at=_sent_at(tags),
        tags=tags,
        raw=line,
        notice_type=tags.get("msg-id", ""),
        system_text=tags.get("system-msg", ""),
        id=tags.get("id", ""),
        user_id=tags.get("user-id") or None,
        user_login=login,
        user_name=(tags.get("display-name") or login).strip(),
        text=text,
        badges=_badges(tags.get("badges")),
        params={k[10:]: v for k, v in tags.items() if k.startswith("msg-param-")},
        emotes=parse_emotes(tags.get("emotes"), text),
    )


def _clearchat(msg: IrcMessage, line: str, received_at: int, source: str) -> ChatEvent:
    tags = msg.tags
    if not msg.params:
        raise ValueError("CLEARCHAT needs a channel")
    target = msg.params[1].lower() if len(msg.params) > 1 and msg.params[1] else None
    duration = tags.get("ban-duration", "")
    return ClearChatEvent(
        received_at=received_at,
        source=source,
        channel=_channel(msg.params[0]),
        channel_id=tags.get("room-id") or None,
        sent_at=_sent_at(tags),
        tags=tags,
        raw=line,
        target_user_login=target,
        target_user_id=tags.get("target-user-id") or None,
        ban_duration=int(duration) if duration.isdigit() else None,
    )


def _clearmsg(msg: IrcMessage, line: str, received_at: int, source: str) -> ChatEvent:
    tags = msg.tags
    if not msg.params:
        raise ValueError("CLEARMSG needs a channel")
    text = msg.params[1] if len(msg.params) > 1 else ""
    text, _ = _split_action(text)
    return ClearMsgEvent(
        received_at=received_at,
        source=source,
        channel=_channel(msg.params[0]),
        channel_id=tags.get("room-id") or None,
        sent_at=_sent_at(tags),
        tags=tags,
        raw=line,
        target_message_id=tags.get("target-msg-id", ""),
        user_login=tags.get("login", ""),
        text=text,
    )


_Builder = Callable[[IrcMessage, str, int, str], ChatEvent]
_BUILDERS: Final[dict[str, _Builder]] = {
    "PRIVMSG": _privmsg,
    "WHISPER": _whisper,
    "USERNOTICE": _usernotice,
    "CLEARCHAT": _clearchat,
    "CLEARMSG": _clearmsg,
}
