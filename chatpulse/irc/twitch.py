"""Twitch IRC commands -> ChatPulse events. Pure: the caller passes the receive time.

Tag meanings follow Twitch's IRC reference (dev.twitch.tv/docs/irc/tags and /commands).
:func:`parse_line` never raises: a line that breaks the grammar becomes an :class:`ErrorEvent`
that keeps the raw text.

This module is the hot path of ingestion (DESIGN.md section 8 asks for >= 200k lines/s on one
core), so builders take the grammar's parts as plain values instead of an ``IrcMessage``, look
tags up once each, and memoise the few tag values that repeat on almost every line (badges).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from functools import lru_cache
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
    positional_constructor,
)
from chatpulse.irc.parser import prefix_nick, split_irc

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
_TEXT_KINDS: Final = frozenset({"notice", "ping", "numeric"})  # trailing param is the text
_SENDER_KINDS: Final = frozenset({"join", "part"})  # prefix nick is the user

# PRIVMSG is 99% of chat, so its event and its emotes are built positionally (see
# events.positional_constructor). The field order they rely on is pinned here: a change to
# either class stops the import instead of silently filling the wrong fields.
_new_message = positional_constructor(MessageEvent)
_new_emote = positional_constructor(Emote)
_MESSAGE_FIELDS: Final = (
    "kind", "received_at", "source", "channel", "channel_id", "sent_at", "tags", "raw", "id",
    "user_id", "user_login", "user_name", "text", "is_action", "badges", "badge_info", "color",
    "bits", "first_msg", "returning_chatter", "reply_parent", "source_channel_id", "emotes",
    "sentiment",
)  # fmt: skip
_EMOTE_FIELDS: Final = ("id", "name", "start", "end", "provider")
for _cls, _order in ((MessageEvent, _MESSAGE_FIELDS), (Emote, _EMOTE_FIELDS)):
    if tuple(f.name for f in fields(_cls)) != _order:
        raise ImportError(f"{_cls.__name__}'s fields changed: update its positional use in {__name__}")

_Builder = Callable[[str, dict[str, str], "str | None", list[str], str, int, str], ChatEvent]


def parse_line(line: str, received_at: int, source: str = "irc") -> ChatEvent:
    """One raw IRC line (no CRLF) -> one event. Never raises."""
    try:
        tags, prefix, command, params = split_irc(line, True)
    except IrcParseError as exc:
        return ErrorEvent(received_at=received_at, source=source, raw=line, error=str(exc))
    try:
        return _BUILDERS.get(command, _server_event)(command, tags, prefix, params, line, received_at, source)
    except (ValueError, IndexError, KeyError) as exc:  # a field Twitch should never send
        return ErrorEvent(
            received_at=received_at, source=source, raw=line, tags=tags,
            error=f"invalid {command}: {exc}",
        )  # fmt: skip


# --- field helpers ---------------------------------------------------------------------------


def _channel(param: str) -> str:
    return param[1:].lower() if param.startswith("#") else param.lower()


def _nick(prefix: str | None) -> str:
    """The sender's login; "" for no prefix or a server name (``tmi.twitch.tv`` is nobody)."""
    return "" if prefix is None else prefix_nick(prefix) or ""


def _number(value: str | None) -> int | None:
    """A tag holding a non-negative integer; None when absent or not a plain number."""
    # isdecimal() is exactly the set of digits int() accepts (isdigit() also lets superscripts
    # through); the length cap keeps out numbers long enough for int() to refuse (Python limits
    # int-from-str to 4,300 digits) and anything no timestamp or count can be.
    if value and value.isdecimal() and len(value) < 20:
        return int(value)
    return None


@lru_cache(maxsize=4096)
def _parse_badges(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in value.split(","):
        name, _, version = item.partition("/")
        if name:
            out[name] = version
    return out


def _badges(value: str | None) -> dict[str, str]:
    """``subscriber/12,premium/1`` -> ``{"subscriber": "12", "premium": "1"}``.

    The same few badge strings arrive on most lines, so the parse is memoised; each event gets
    its own copy, because a consumer may mutate the dict of one event.
    """
    return _parse_badges(value).copy() if value else {}


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
            # isdecimal() is exactly what int() accepts; the length cap keeps int() cheap and safe.
            if not (first.isdecimal() and last.isdecimal() and len(first) < 10 and len(last) < 10):
                continue
            start = int(first)
            end = min(int(last) + 1, n)
            if start < end:
                found.append(_new_emote(emote_id, text[start:end], start, end, "twitch"))
    if len(found) > 1:
        found.sort(key=_emote_start)
    return tuple(found)


def _emote_start(emote: Emote) -> int:
    return emote.start


def _split_action(text: str) -> tuple[str, bool]:
    """``\\x01ACTION waves\\x01`` (what ``/me waves`` becomes) -> ``("waves", True)``.

    Also takes the empty ``\\x01ACTION\\x01`` and a body whose closing ``\\x01`` got lost.
    """
    if not text.startswith("\x01ACTION"):
        return text, False
    body = text[7:]
    if body.endswith("\x01"):
        body = body[:-1]
    if not body:
        return "", True
    if body.startswith(" "):
        return body[1:], True
    return text, False  # "\x01ACTIONS..." is some other CTCP verb


def _reply_parent(tags: dict[str, str]) -> ReplyParent | None:
    parent_id = tags.get("reply-parent-msg-id")
    if not parent_id:
        return None
    return ReplyParent(
        parent_id, tags.get("reply-parent-user-login", ""), tags.get("reply-parent-msg-body", "")
    )


# --- builders --------------------------------------------------------------------------------


def _privmsg(
    command: str, tags: dict[str, str], prefix: str | None, params: list[str],
    line: str, received_at: int, source: str,
) -> ChatEvent:  # fmt: skip
    if len(params) < 2:
        raise ValueError("PRIVMSG needs a channel and a text")
    text = params[1]
    is_action = False
    if text.startswith("\x01"):
        text, is_action = _split_action(text)
    # The helpers are inlined below where a call per line was measurable (see module docstring).
    get = tags.get
    login = (prefix_nick(prefix) if prefix else None) or get("login", "")
    channel = params[0]
    sent_at = get("tmi-sent-ts")
    bits = get("bits")
    badge_info = get("badge-info")
    emotes = get("emotes")
    return _new_message(
        "message",  # kind
        received_at,
        source,
        channel[1:].lower() if channel.startswith("#") else channel.lower(),  # channel
        get("room-id") or None,  # channel_id
        _number(sent_at) if sent_at else None,  # sent_at
        tags,
        line,  # raw
        get("id", ""),  # id
        get("user-id") or None,  # user_id
        login,  # user_login
        get("display-name") or login,  # user_name
        text,
        is_action,
        _badges(get("badges")),  # badges
        _parse_badges(badge_info).copy() if badge_info else {},  # badge_info
        get("color") or None,  # color
        (_number(bits) or 0) if bits else 0,  # bits
        get("first-msg") == "1",  # first_msg
        get("returning-chatter") == "1",  # returning_chatter
        _reply_parent(tags) if "reply-parent-msg-id" in tags else None,  # reply_parent
        get("source-room-id") or None,  # source_channel_id
        parse_emotes(emotes, text) if emotes else (),  # emotes
        None,  # sentiment: added by the enrich stage
    )


def _whisper(
    command: str, tags: dict[str, str], prefix: str | None, params: list[str],
    line: str, received_at: int, source: str,
) -> ChatEvent:  # fmt: skip
    if len(params) < 2:
        raise ValueError("WHISPER needs a recipient and a text")
    text = params[1]
    # Whispers carry /me as literal text, not as a CTCP ACTION (go-twitch-irc's whisper vectors).
    is_action = text.startswith("/me ")
    if is_action:
        text = text[4:]
    login = _nick(prefix)
    return MessageEvent(
        kind="whisper",
        received_at=received_at,
        source=source,
        tags=tags,
        raw=line,
        id=tags.get("message-id", ""),
        user_id=tags.get("user-id") or None,
        user_login=login,
        user_name=tags.get("display-name") or login,
        text=text,
        is_action=is_action,
        badges=_badges(tags.get("badges")),
        color=tags.get("color") or None,
        emotes=parse_emotes(tags.get("emotes"), text),
    )


def _usernotice(
    command: str, tags: dict[str, str], prefix: str | None, params: list[str],
    line: str, received_at: int, source: str,
) -> ChatEvent:  # fmt: skip
    if not params:
        raise ValueError("USERNOTICE needs a channel")
    # The attached message is kept as sent: Twitch does not turn /me into an ACTION here, and
    # its emote positions count the \x01ACTION wrapper when a user typed one (twitch-irc-rs
    # test_sneaky_action_invalid_emote_tag, twitchdev/issues#175).
    text = params[1] if len(params) > 1 else ""
    login = tags.get("login", "")
    return UserNoticeEvent(
        received_at=received_at,
        source=source,
        channel=_channel(params[0]),
        channel_id=tags.get("room-id") or None,
        sent_at=_number(tags.get("tmi-sent-ts")),
        tags=tags,
        raw=line,
        notice_type=tags.get("msg-id", ""),
        system_text=tags.get("system-msg", ""),
        id=tags.get("id", ""),
        user_id=tags.get("user-id") or None,
        user_login=login,
        user_name=tags.get("display-name") or login,
        text=text,
        badges=_badges(tags.get("badges")),
        params={k[10:]: v for k, v in tags.items() if k.startswith("msg-param-")},
        emotes=parse_emotes(tags.get("emotes"), text),
    )


def _clearchat(
    command: str, tags: dict[str, str], prefix: str | None, params: list[str],
    line: str, received_at: int, source: str,
) -> ChatEvent:  # fmt: skip
    if not params:
        raise ValueError("CLEARCHAT needs a channel")
    target = params[1].lower() if len(params) > 1 and params[1] else None
    return ClearChatEvent(
        received_at=received_at,
        source=source,
        channel=_channel(params[0]),
        channel_id=tags.get("room-id") or None,
        sent_at=_number(tags.get("tmi-sent-ts")),
        tags=tags,
        raw=line,
        target_user_login=target,
        target_user_id=tags.get("target-user-id") or None,
        ban_duration=_number(tags.get("ban-duration")),
    )


def _clearmsg(
    command: str, tags: dict[str, str], prefix: str | None, params: list[str],
    line: str, received_at: int, source: str,
) -> ChatEvent:  # fmt: skip
    if not params:
        raise ValueError("CLEARMSG needs a channel")
    text, _ = _split_action(params[1] if len(params) > 1 else "")
    return ClearMsgEvent(
        received_at=received_at,
        source=source,
        channel=_channel(params[0]),
        channel_id=tags.get("room-id") or None,
        sent_at=_number(tags.get("tmi-sent-ts")),
        tags=tags,
        raw=line,
        target_message_id=tags.get("target-msg-id", ""),
        user_login=tags.get("login", ""),
        text=text,
    )


def _server_event(
    command: str, tags: dict[str, str], prefix: str | None, params: list[str],
    line: str, received_at: int, source: str,
) -> ChatEvent:  # fmt: skip
    """Every command without a dedicated event class: state, notices, membership, keep-alive."""
    kind = _SIMPLE_KINDS.get(command)
    if kind is None:
        kind = "numeric" if command.isdigit() else "other"
    text: str | None = None
    if kind in _TEXT_KINDS:
        text = params[-1] if params else None
    elif kind == "pong":
        # "PONG <server> :<token>": the text is the echoed token, absent after a bare PING.
        text = params[1] if len(params) > 1 else None
    return ServerEvent(
        kind=kind,
        received_at=received_at,
        source=source,
        channel=_channel(params[0]) if params and params[0].startswith("#") else None,
        channel_id=tags.get("room-id") or None,
        sent_at=_number(tags.get("tmi-sent-ts")),
        tags=tags,
        raw=line,
        command=command,
        params=tuple(params),
        user_login=(_nick(prefix) or None) if kind in _SENDER_KINDS else None,
        text=text,
    )


_BUILDERS: Final[dict[str, _Builder]] = {
    "PRIVMSG": _privmsg,
    "WHISPER": _whisper,
    "USERNOTICE": _usernotice,
    "CLEARCHAT": _clearchat,
    "CLEARMSG": _clearmsg,
}
