"""Every record of ../shared/data/irc/vectors.jsonl, checked against ChatPulse's parser.

Each record holds a raw line and what a peer library's own test expects, in that library's
vocabulary. The tables below translate each vocabulary into our event fields:

- twitch-irc-rs ``parsed`` / ``parsed_fields``: :data:`RS_COMMON` and :data:`RS_FIELDS`;
  ``irc`` atoms, ``error``: checked against :func:`parse_irc` / :func:`parse_line`.
- go-twitch-irc field paths (``privateMessage.User.ID`` ...): :data:`GO_FIELDS`, after
  :func:`_go_path` strips the Go variable name; ``irc`` atoms against :func:`parse_irc`.
- ircdocs/parser-tests ``irc`` atoms (tags, source, verb, params): :func:`parse_irc`, lenient
  grammar (RFC 1459: one or more spaces between components).
- Twitch developer docs examples: :data:`DOCS_FIELDS`.

A record field with no counterpart in our contract is skipped only through :data:`SKIPPED`,
each with the reason. Where a peer deviates from the IRCv3 spec (flagged in the record's
``notes``, or proven by the ircdocs record for the same line), the spec's answer is used and
the deviation is listed in :data:`GO_SPEC_ANSWERS` / :data:`GO_IRC_DEVIATIONS`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatpulse.errors import IrcParseError
from chatpulse.events import ChatEvent, ErrorEvent, MessageEvent, ServerEvent
from chatpulse.irc.parser import IrcMessage, parse_irc
from chatpulse.irc.twitch import parse_line
from chatpulse.wire import dumps, loads
from tests.conftest import SHARED_DATA

VECTORS_PATH = SHARED_DATA / "irc" / "vectors.jsonl"
RECORDS: list[dict[str, Any]] = (
    [json.loads(line) for line in VECTORS_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    if VECTORS_PATH.is_file()
    else []
)
RECEIVED_AT = 1_700_000_000_000


def _record_id(record: dict[str, Any]) -> str:
    return f"{record['lib'].split(' ')[0]}:{record['test']}"


# --- what counts as "meant to fail" --------------------------------------------------------

# Our reasons, by the peer's error name: a failing line must say why, in these words.
RS_ERROR_REASONS = {
    "IRCParseError::EmptyTagsDeclaration": "empty tags",
    "IRCParseError::NoSpaceAfterTags": "no space after tags",
    "IRCParseError::EmptyPrefixDeclaration": "empty prefix",
    "IRCParseError::NoSpaceAfterPrefix": "no space after prefix",
    "IRCParseError::MalformedCommand": "malformed command",
    "IRCParseError::TooManySpacesInMiddleParams": "spaces",
    "IRCParseError::NewlinesInMessage": "CR or LF",
}
GO_ERROR_REASONS = {
    "parseIRCMessage: partial message": "no space after tags",
    "parseIRCMessage: no command": "no space after prefix",
}
# go-twitch-irc returns a RawMessage instead of an error from ParseMessage; this one has no
# command at all (RawType ""), i.e. go failed to parse it too. The other "TestCantParse..."
# records are valid IRC with a command Twitch does not have: ours gives them kind "other".
GO_FAILED_RAW_MESSAGES = {"TestCantParsePartialMessage"}


# --- fields without a counterpart in our contract ----------------------------------------------

SKIPPED: dict[tuple[str, str], str] = {
    # (vocabulary, field) -> why it has no counterpart
    ("rs", "roundtrip_equal"): "serialising an IrcMessage back to a line is not part of our contract",
    ("rs", "recipient_login"): "a whisper always goes to the logged-in user; MessageEvent has no recipient",
    ("rs", "is_action@clearmsg"): "ClearMsgEvent keeps the unwrapped text, not the /me flag",
    ("rs", "is_sender_anonymous"): "derived flag; we keep notice_type and the sender login it comes from",
    ("go", "Message@clearchat"): "go always reports '' here; ClearChatEvent has no text",
    ("go", "Message@roomstate"): "go always reports '' here; ROOMSTATE has no text",
    ("go", "Message@userstate"): "go always reports '' here; USERSTATE has no text",
    ("go", "User.Name@userstate"): "go lower-cases display-name; USERSTATE carries no login",
    ("go", "User.Name@globaluserstate"): "go lower-cases display-name; GLOBALUSERSTATE carries no login",
    ("docs", "doc_prose"): "prose; its facts are the record's other fields",
}

# go-twitch-irc's unescaping drops CR/LF and trims whitespace (flagged in the records' notes for
# its irctests); its typed tests carry the same deviation without a note. The spec's answers:
GO_SPEC_ANSWERS: dict[str, dict[str, Any]] = {
    "TestCanParseUSERNOTICERaidMessage": {
        # raw tag: ...have\sjoined\n!  -> \n is a line feed per IRCv3, not dropped
        "usernoticeMessage.SystemMsg": "538 raiders from FletcherCodes have joined\n!",
    },
    "TestCanParseUSERNOTICEAnonymousGiftSubMessage": {
        # raw tag ends in \s: a trailing space, which go trims
        "usernoticeMessage.SystemMsg": "An anonymous user gifted a Tier 1 sub to TenureCalculator! ",
    },
}
# go-twitch-irc's irctests where the ircdocs record for the same line (the spec's test vectors)
# answers differently: escapes (flagged in notes) and empty middle params from runs of spaces,
# which RFC 1459 treats as one separator. The ircdocs answer is used for these.
GO_IRC_DEVIATIONS = {
    "irctests.json[11]", "irctests.json[16]", "irctests.json[24]", "irctests.json[25]",
    "irctests.json[26]", "irctests.json[27]", "irctests.json[28]", "irctests.json[29]",
}  # fmt: skip


# --- projections: our event -> the peer's vocabulary ---------------------------------------------

Projection = Callable[[Any, Any], Any]  # (our event, the peer's expected value) -> our value


def _attr(name: str) -> Projection:
    return lambda event, _want: getattr(event, name)


def _tag(key: str) -> Projection:
    return lambda event, _want: event.tags.get(key)


def _rgb(color: str | None) -> dict[str, int] | None:
    if not color:
        return None
    return {"r": int(color[1:3], 16), "g": int(color[3:5], 16), "b": int(color[5:7], 16)}


def _badge_list(badges: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "version": version} for name, version in badges.items()]


def _tag_badges(value: str | None) -> dict[str, str]:
    """Badges read straight from a tag, independently of the parser's own helper."""
    pairs = [item.split("/", 1) for item in (value or "").split(",") if item]
    return {pair[0]: pair[1] for pair in pairs}


def _emote_sets(event: Any, _want: Any) -> list[str]:
    value = event.tags.get("emote-sets", "")
    return value.split(",") if value else []


def _rs_emotes(event: Any, want: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """Ours and the expected list; the expected spans adjusted to our contract.

    twitch-irc-rs keeps Twitch's end index when it runs past the text (and an empty ``code``
    when the whole span does); our contract clamps ``end`` to the text so ``text[start:end] ==
    name`` holds, and drops spans that start at or past the end (DESIGN.md section 3).
    """
    ours = [
        {"id": e.id, "char_range": {"start": e.start, "end": e.end}, "code": e.name} for e in event.emotes
    ]
    expected = []
    for emote in want:
        start, end = emote["char_range"]["start"], min(emote["char_range"]["end"], len(event.text))
        if start < end:
            expected.append({**emote, "char_range": {"start": start, "end": end}})
    return ours, expected


def _rs_sender(event: Any, _want: Any) -> dict[str, Any]:
    return {"id": event.user_id, "login": event.user_login, "name": event.user_name}


def _rs_reply_parent(event: Any, _want: Any) -> dict[str, Any] | None:
    parent = event.reply_parent
    if parent is None:
        return None
    user = {
        "id": event.tags.get("reply-parent-user-id"),
        "login": parent.user_login,
        "name": event.tags.get("reply-parent-display-name"),
    }
    return {"message_id": parent.id, "reply_parent_user": user, "message_text": parent.text}


def _rs_clearchat_action(event: Any, _want: Any) -> Any:
    if event.target_user_login is None:
        return "ClearChatAction::ChatCleared"
    action = {"user_login": event.target_user_login, "user_id": event.target_user_id}
    if event.ban_duration is None:
        return {"_variant": "ClearChatAction::UserBanned", **action}
    timeout = {"_duration_secs": event.ban_duration}
    return {"_variant": "ClearChatAction::UserTimedOut", **action, "timeout_length": timeout}


def _rs_flag(key: str) -> Projection:
    return lambda event, _want: None if key not in event.tags else event.tags[key] == "1"


def _rs_followers_only(event: Any, _want: Any) -> Any:
    value = event.tags.get("followers-only")
    if value is None:
        return None
    if value == "-1":
        return "FollowersOnlyMode::Disabled"
    # Twitch: followers-only is in minutes (dev.twitch.tv/docs/irc/tags, ROOMSTATE).
    return {"_variant": "FollowersOnlyMode::Enabled", "_args": [{"_duration_secs": int(value) * 60}]}


def _rs_slow(event: Any, _want: Any) -> Any:
    value = event.tags.get("slow")
    return None if value is None else {"_duration_secs": int(value)}


# twitch-irc-rs folds msg-id values into event variants; each variant's notice types:
RS_VARIANT_NOTICE_TYPES = {
    "UserNoticeEvent::SubOrResub": {"sub", "resub"},
    "UserNoticeEvent::Raid": {"raid"},
    "UserNoticeEvent::SubGift": {"subgift", "anonsubgift"},
    "UserNoticeEvent::SubMysteryGift": {"submysterygift"},
    # rs derives anonymity from the sender "ananonymousgifter" as well as from the msg-id
    "UserNoticeEvent::AnonSubMysteryGift": {"submysterygift", "anonsubmysterygift"},
    "UserNoticeEvent::GiftPaidUpgrade": {"giftpaidupgrade"},
    "UserNoticeEvent::AnonGiftPaidUpgrade": {"anongiftpaidupgrade"},
    "UserNoticeEvent::Ritual": {"ritual"},
    "UserNoticeEvent::BitsBadgeTier": {"bitsbadgetier"},
    "UserNoticeEvent::Announcement": {"announcement"},
}
# (variant, rs field) -> (our params key, i.e. msg-param-* without the prefix; its type)
RS_VARIANT_PARAMS: dict[tuple[str, str], tuple[str, type]] = {
    ("SubOrResub", "cumulative_months"): ("cumulative-months", int),
    ("SubOrResub", "streak_months"): ("streak-months", int),
    ("SubOrResub", "sub_plan"): ("sub-plan", str),
    ("SubOrResub", "sub_plan_name"): ("sub-plan-name", str),
    ("Raid", "viewer_count"): ("viewerCount", int),
    ("Raid", "profile_image_url"): ("profileImageURL", str),
    ("SubGift", "cumulative_months"): ("months", int),
    ("SubGift", "sub_plan"): ("sub-plan", str),
    ("SubGift", "sub_plan_name"): ("sub-plan-name", str),
    ("SubGift", "num_gifted_months"): ("gift-months", int),
    ("SubMysteryGift", "mass_gift_count"): ("mass-gift-count", int),
    ("SubMysteryGift", "sender_total_gifts"): ("sender-count", int),
    ("SubMysteryGift", "sub_plan"): ("sub-plan", str),
    ("AnonSubMysteryGift", "mass_gift_count"): ("mass-gift-count", int),
    ("AnonSubMysteryGift", "sub_plan"): ("sub-plan", str),
    ("GiftPaidUpgrade", "gifter_login"): ("sender-login", str),
    ("GiftPaidUpgrade", "gifter_name"): ("sender-name", str),
    ("Ritual", "ritual_name"): ("ritual-name", str),
    ("BitsBadgeTier", "threshold"): ("threshold", int),
    ("Announcement", "color"): ("color", str),
}


def _param(params: dict[str, str], key: str, kind: type) -> Any:
    return None if key not in params else kind(params[key])


def _rs_event(event: Any, want: Any) -> Any:
    """Our notice_type and params in twitch-irc-rs's event-variant shape (keys taken from want)."""
    if isinstance(want, str):  # a variant without fields
        known = set().union(*RS_VARIANT_NOTICE_TYPES.values())
        return want if event.notice_type not in known else f"notice_type={event.notice_type}"
    variant = want["_variant"]
    if event.notice_type not in RS_VARIANT_NOTICE_TYPES[variant]:
        return f"notice_type={event.notice_type}", want
    params, short = event.params, variant.split("::")[1]
    out: dict[str, Any] = {"_variant": variant}
    for key in want:
        if key == "_variant" or ("rs", key) in SKIPPED:
            continue
        if key == "is_resub":
            out[key] = event.notice_type == "resub"
        elif key == "recipient":
            out[key] = {
                "id": params.get("recipient-id"),
                "login": params.get("recipient-user-name"),
                "name": params.get("recipient-display-name"),
            }
        elif key == "promotion":
            promo = {
                "promo_name": params.get("promo-name"),
                "total_gifts": _param(params, "promo-gift-total", int),
            }
            out[key] = promo if "promo-name" in params else None
        else:
            out[key] = _param(params, *RS_VARIANT_PARAMS[(short, key)])
    return out, {k: v for k, v in want.items() if ("rs", k) not in SKIPPED}


RS_COMMON: dict[str, Projection] = {
    "channel_login": _attr("channel"),
    "channel_id": _attr("channel_id"),
    "server_timestamp": _attr("sent_at"),
}
_RS_STATE_USER: dict[str, Projection] = {
    "user_id": _tag("user-id"),
    "user_name": _tag("display-name"),
    "badge_info": lambda e, _w: _badge_list(_tag_badges(e.tags.get("badge-info"))),
    "badges": lambda e, _w: _badge_list(_tag_badges(e.tags.get("badges"))),
    "emote_sets": _emote_sets,
    "name_color": lambda e, _w: _rgb(e.tags.get("color")),
}
RS_FIELDS: dict[str, dict[str, Projection]] = {
    "ClearChatMessage": {"action": _rs_clearchat_action},
    "ClearMsgMessage": {
        "sender_login": _attr("user_login"),
        "message_id": _attr("target_message_id"),
        "message_text": _attr("text"),
    },
    "GlobalUserStateMessage": _RS_STATE_USER,
    "UserStateMessage": _RS_STATE_USER,
    "JoinMessage": {"user_login": _attr("user_login")},
    "PartMessage": {"user_login": _attr("user_login")},
    "NoticeMessage": {"message_text": _attr("text"), "message_id": _tag("msg-id")},
    "PingMessage": {},
    "PongMessage": {},
    "ReconnectMessage": {},
    "PrivmsgMessage": {
        "message_text": _attr("text"),
        "is_action": _attr("is_action"),
        "sender": _rs_sender,
        "badge_info": lambda e, _w: _badge_list(e.badge_info),
        "badges": lambda e, _w: _badge_list(e.badges),
        "bits": lambda e, _w: e.bits or None,  # rs: None without a bits tag; ours: 0
        "name_color": lambda e, _w: _rgb(e.color),
        "emotes": _rs_emotes,
        "message_id": _attr("id"),
        "reply_parent": _rs_reply_parent,
    },
    "RoomStateMessage": {
        "emote_only": _rs_flag("emote-only"),
        "followers_only": _rs_followers_only,
        "r9k": _rs_flag("r9k"),
        "slow_mode": _rs_slow,
        "subscribers_only": _rs_flag("subs-only"),
    },
    "UserNoticeMessage": {
        "sender": _rs_sender,
        "message_text": lambda e, _w: e.text or None,  # rs: None without a message; ours: ""
        "system_message": _attr("system_text"),
        "event": _rs_event,
        "event_id": _attr("notice_type"),
        "badge_info": lambda e, _w: _badge_list(_tag_badges(e.tags.get("badge-info"))),
        "badges": lambda e, _w: _badge_list(e.badges),
        "emotes": _rs_emotes,
        "name_color": lambda e, _w: _rgb(e.tags.get("color")),
        "message_id": _attr("id"),
    },
    "WhisperMessage": {
        "sender": _rs_sender,
        "message_text": _attr("text"),
        "name_color": lambda e, _w: _rgb(e.color),
        "badges": lambda e, _w: _badge_list(e.badges),
        "emotes": _rs_emotes,
    },
}
RS_KINDS = {
    "ClearChatMessage": "clearchat", "ClearMsgMessage": "clearmsg",
    "GlobalUserStateMessage": "globaluserstate", "JoinMessage": "join", "NoticeMessage": "notice",
    "PartMessage": "part", "PingMessage": "ping", "PongMessage": "pong", "PrivmsgMessage": "message",
    "ReconnectMessage": "reconnect", "RoomStateMessage": "roomstate",
    "UserNoticeMessage": "usernotice", "UserStateMessage": "userstate", "WhisperMessage": "whisper",
}  # fmt: skip


# go-twitch-irc -------------------------------------------------------------------------------

GO_KINDS = {
    "PrivateMessage": "message", "WhisperMessage": "whisper", "ClearChatMessage": "clearchat",
    "ClearMessage": "clearmsg", "RoomStateMessage": "roomstate", "UserNoticeMessage": "usernotice",
    "UserStateMessage": "userstate", "NoticeMessage": "notice", "PingMessage": "ping",
    "PongMessage": "pong", "GlobalUserStateMessage": "globaluserstate", "RawMessage": "other",
}  # fmt: skip
GO_TYPES = {kind: command for command, kind in {
    "PRIVMSG": "message", "WHISPER": "whisper", "CLEARCHAT": "clearchat", "CLEARMSG": "clearmsg",
    "ROOMSTATE": "roomstate", "USERNOTICE": "usernotice", "USERSTATE": "userstate",
    "NOTICE": "notice", "PING": "ping", "PONG": "pong", "GLOBALUSERSTATE": "globaluserstate",
}.items()}  # fmt: skip
# The Go variable each test binds the message to; the field path starts after it.
_GO_VARIABLES = re.compile(
    r"\b(privateMessage|whisperMessage|usernoticeMessage|clearchatMessage|clearMessage|"
    r"roomstateMessage|userstateMessage|noticeMessage|globalUserStateMessage|rawMessage|msg|message)\."
)


def _go_path(key: str) -> str:
    return _GO_VARIABLES.sub("", key).replace("user.", "User.")


def _server_or(event: Any, typed: Callable[[Any], Any], tag: str, default: Any = "") -> Any:
    """A sender field: typed on messages, read from the tag on USERSTATE-like events."""
    return event.tags.get(tag, default) if isinstance(event, ServerEvent) else typed(event)


def _go_badges(badges: dict[str, str]) -> dict[str, int]:
    return {name: int(version) for name, version in badges.items()}


def _go_message(event: Any, _want: Any) -> str:
    if event.kind in ("ping", "pong"):
        # go keeps the first word of the PING/PONG token; ours keeps the whole token
        return (event.text or "").split(" ")[0]
    if event.kind == "other":
        return " ".join(event.params)
    return str(event.text)


def _go_emote_groups(event: Any) -> list[dict[str, Any]]:
    """Our spans grouped per emote id, in order of first appearance, as go reports them."""
    groups: dict[str, dict[str, Any]] = {}
    for emote in event.emotes:
        group = groups.setdefault(emote.id, {"Name": emote.name, "ID": emote.id, "Count": 0})
        group["Count"] += 1
    return list(groups.values())


_ROOMSTATE_KEYS = {"emote-only", "followers-only", "r9k", "rituals", "slow", "subs-only"}
GO_FIELDS: dict[str, Projection] = {
    "Type": lambda e, _w: GO_TYPES.get(e.kind, "UNSET"),
    "GetType()": lambda e, _w: GO_TYPES.get(e.kind, "UNSET"),
    # IRC commands are case-insensitive; ours are upper-cased, go keeps them as sent
    "RawType": lambda e, w: (e.command if isinstance(e, ServerEvent) else GO_TYPES[e.kind], w.upper()),
    "Message": _go_message,
    "Channel": _attr("channel"),
    "RoomID": _attr("channel_id"),
    "ID": _attr("id"),
    "User.ID": lambda e, _w: _server_or(e, lambda m: m.user_id or "", "user-id"),
    "User.Name": _attr("user_login"),
    "User.DisplayName": lambda e, _w: _server_or(e, lambda m: m.user_name, "display-name"),
    "User.Color": lambda e, _w: (e.color or "") if isinstance(e, MessageEvent) else e.tags.get("color", ""),
    "User.Badges": lambda e, _w: _go_badges(
        _tag_badges(e.tags.get("badges")) if isinstance(e, ServerEvent) else e.badges
    ),
    "User.IsBroadcaster": lambda e, _w: "broadcaster" in e.badges,
    "User.IsMod": lambda e, _w: "moderator" in e.badges,
    "User.IsVip": lambda e, _w: "vip" in e.badges,
    "FirstMessage": _attr("first_msg"),
    "Action": _attr("is_action"),
    "Bits": _attr("bits"),
    "Reply.ParentMsgID": lambda e, _w: e.reply_parent.id,
    "Reply.ParentUserLogin": lambda e, _w: e.reply_parent.user_login,
    "Reply.ParentMsgBody": lambda e, _w: e.reply_parent.text,
    "Reply.ParentUserID": _tag("reply-parent-user-id"),
    "Reply.ParentDisplayName": _tag("reply-parent-display-name"),
    "Source.ID": _tag("source-id"),
    "Source.RoomID": _attr("source_channel_id"),
    "Source.Badges": lambda e, _w: _go_badges(_tag_badges(e.tags.get("source-badges"))),
    "BanDuration": lambda e, _w: e.ban_duration or 0,  # go: 0 for a permanent ban
    "TargetUserID": _attr("target_user_id"),
    "TargetUsername": _attr("target_user_login"),
    "Login": _attr("user_login"),
    "TargetMsgID": _attr("target_message_id"),
    "State": lambda e, _w: {k: int(v) for k, v in e.tags.items() if k in _ROOMSTATE_KEYS},
    "EmoteSets": _emote_sets,
    "MsgID": lambda e, _w: e.notice_type if e.kind == "usernotice" else e.tags.get("msg-id"),
    "MsgParams": lambda e, _w: {f"msg-param-{k}": v for k, v in e.params.items()},
    "SystemMsg": _attr("system_text"),
    "Tags": lambda e, _w: e.tags or None,
    "Emotes": lambda e, _w: _go_emote_groups(e),
    "len(Emotes)": lambda e, _w: len(_go_emote_groups(e)),
    "len(Emotes[0].Positions)": lambda e, _w: _go_emote_groups(e)[0]["Count"],
}
_GO_INDEXED = re.compile(r"^Emotes\[(\d+)\]\.(Name|ID|Count)$")


# Twitch developer docs -----------------------------------------------------------------------

DOCS_KINDS = {"PRIVMSG": "message", "CLEARCHAT": "clearchat"}
DOCS_FIELDS: dict[str, Projection] = {
    "command": lambda e, _w: next(c for c, k in DOCS_KINDS.items() if k == e.kind),
    "channel": _attr("channel"),
    "sender_login": _attr("user_login"),
    "text": _attr("text"),
    "target_user": _attr("target_user_login"),
}


# --- generic IRC atoms ---------------------------------------------------------------------------


def _atoms(message: IrcMessage) -> dict[str, Any]:
    return {
        "tags": message.tags,
        "prefix": message.prefix,
        "command": message.command,
        "params": message.params,
    }


def _rs_atoms(irc: dict[str, Any]) -> dict[str, Any]:
    prefix = irc["prefix"]
    if prefix is not None:
        full = prefix["_variant"] == "IRCPrefix::Full"
        prefix = f"{prefix['nick']}!{prefix['user']}@{prefix['host']}" if full else prefix["host"]
    return {"tags": irc["tags"], "prefix": prefix, "command": irc["command"], "params": irc["params"]}


def _go_atoms(irc: dict[str, Any]) -> dict[str, Any]:
    source = irc.get("source")
    prefix = None
    if source is not None:
        prefix = source["host"]
        if source.get("nickname"):
            user = f"!{source['username']}" if source.get("username") else ""
            prefix = f"{source['nickname']}{user}@{source['host']}"
    tags = {k: "" if v is None else v for k, v in irc.get("tags", {}).items()}  # go: value-less = nil
    # IRC commands are case-insensitive; ours are upper-cased (as twitch-irc-rs does)
    return {
        "tags": tags,
        "prefix": prefix,
        "command": irc["command"].upper(),
        "params": irc.get("params", []),
    }


def _ircdocs_atoms(irc: dict[str, Any]) -> dict[str, Any]:
    return {
        "tags": irc.get("tags", {}),
        "prefix": irc.get("source"),
        "command": irc["verb"].upper(),  # case-insensitive, see _go_atoms
        "params": irc.get("params", []),
    }


IRCDOCS_BY_RAW = {r["raw"]: r for r in RECORDS if r["lib"].startswith("ircdocs")}


# --- the checks ----------------------------------------------------------------------------------


def _event(record: dict[str, Any]) -> ChatEvent:
    event = parse_line(record["raw"], RECEIVED_AT, "replay")
    assert loads(dumps(event)) == event, "every event round-trips through the wire format"
    for emote in getattr(event, "emotes", ()):
        assert event.text[emote.start : emote.end] == emote.name  # type: ignore[attr-defined]
    return event


def _assert_fails(record: dict[str, Any], reason: str) -> None:
    """The line gives an error event that keeps it and says why.

    The peers' half-parsed results on failure (go's ``actual.*``, ``rawMessage.*``) are not
    compared: on failure our contract is the raw line plus a reason.
    """
    event = parse_line(record["raw"], RECEIVED_AT, "replay")
    assert isinstance(event, ErrorEvent), f"expected an error event, got {event.kind}"
    assert event.raw == record["raw"]
    assert reason.lower() in event.error.lower()
    with pytest.raises(IrcParseError):
        parse_irc(record["raw"], strict=True)


def _compare(event: ChatEvent, table: dict[str, Projection], vocabulary: str, fields: dict[str, Any]) -> int:
    """Assert each expected field through its projection; returns how many were checked."""
    checked = 0
    for key, want in fields.items():
        if (vocabulary, key) in SKIPPED or (vocabulary, f"{key}@{event.kind}") in SKIPPED:
            continue
        projection = table.get(key)
        assert projection is not None, (
            f"no mapping for {vocabulary} field {key!r}: add one or a SKIPPED entry"
        )
        got = projection(event, want)
        if isinstance(got, tuple):  # (ours, the expectation adjusted to our contract)
            got, want = got
        assert got == want, f"{vocabulary} field {key!r}"
        checked += 1
    return checked


def _check_rs(record: dict[str, Any]) -> None:
    expect = record["expect"]
    if "error" in expect:
        _assert_fails(record, RS_ERROR_REASONS[expect["error"]])
        return
    if "irc" in expect:
        assert _atoms(parse_irc(record["raw"])) == _rs_atoms(expect["irc"])
        # Twitch-shaped lines parse the same under the strict grammar parse_line uses
        assert _atoms(parse_irc(record["raw"], strict=True)) == _rs_atoms(expect["irc"])
        return
    if "irc_equal_to_parse_of" in expect:
        assert parse_irc(record["raw"]) == parse_irc(expect["irc_equal_to_parse_of"])
        return
    if "parsed_as" not in expect:  # test_lowercase_command
        ((call, want),) = expect["other"].items()
        assert call == 'IRCMessage::parse("ping").unwrap().command'
        assert parse_irc(record["raw"]).command == want
        return
    event = _event(record)
    kind = RS_KINDS[expect["parsed_as"]]
    assert event.kind == kind
    table = {**RS_COMMON, **RS_FIELDS[expect["parsed_as"]]}
    if "other" in expect:  # test_reply_to_message_trait_for_privmsg: accessor calls
        other = expect["other"]
        assert event.channel == other["msg_ref.channel_login()"]
        assert event.id == other["msg_ref.message_id()"] == other["function_with_impl_arg(msg_ref)"]
        return
    if "parsed" in expect:
        _compare(event, table, "rs", expect["parsed"])
        return
    nested: dict[str, Any] = {}
    for dotted, want in expect["parsed_fields"].items():  # "sender.name": ... -> sender projection
        head, _, tail = dotted.partition(".")
        if tail:
            got = table[head](event, None)
            assert got[tail] == want, f"rs field {dotted!r}"
        else:
            nested[head] = want
    _compare(event, table, "rs", nested)


def _check_go(record: dict[str, Any]) -> None:
    expect = record["expect"]
    if "error" in expect:
        _assert_fails(record, GO_ERROR_REASONS[expect["error"]])
        return
    if record["test"] in GO_FAILED_RAW_MESSAGES:
        _assert_fails(record, "no space after tags")
        return
    if "irc" in expect:
        spec = IRCDOCS_BY_RAW.get(record["raw"])
        want = _go_atoms(expect["irc"])
        if record["test"] in GO_IRC_DEVIATIONS:
            assert spec is not None and _ircdocs_atoms(spec["expect"]["irc"]) != want
            want = _ircdocs_atoms(spec["expect"]["irc"])
        assert _atoms(parse_irc(record["raw"])) == want
        return
    event = _event(record)
    if expect.get("parses_without_panic"):
        assert event.kind == "message"
        return
    assert event.kind == GO_KINDS[expect["parsed_as"]]
    answers = GO_SPEC_ANSWERS.get(record["test"], {})
    fields: dict[str, Any] = {}
    for key, want in expect.items():
        if key == "parsed_as":
            continue
        want = answers.get(key, want)
        path = _go_path(key)
        if isinstance(want, dict) and path in ("User", "Reply"):
            fields.update({f"{path}.{k}": v for k, v in want.items()})
        else:
            fields[path] = want
    checked = 0
    for path, want in list(fields.items()):
        indexed = _GO_INDEXED.match(path)
        if indexed:
            group = _go_emote_groups(event)[int(indexed.group(1))]
            assert group[indexed.group(2)] == want, f"go field {path!r}"
            del fields[path]
            checked += 1
    checked += _compare(event, GO_FIELDS, "go", fields)
    assert checked, "every go record asserts at least one field"


def _check_ircdocs(record: dict[str, Any]) -> None:
    assert _atoms(parse_irc(record["raw"])) == _ircdocs_atoms(record["expect"]["irc"])


def _check_docs(record: dict[str, Any]) -> None:
    event = _event(record)
    expect = record["expect"]
    assert event.kind == DOCS_KINDS[expect["command"]]
    assert _compare(event, DOCS_FIELDS, "docs", expect) >= 3


CHECKERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "twitch-irc-rs": _check_rs,
    "go-twitch-irc": _check_go,
    "ircdocs/parser-tests": _check_ircdocs,
    "Twitch": _check_docs,
}


def test_all_records_are_present(shared_data: Path) -> None:
    assert len(RECORDS) == 226
    assert {r["lib"].split(" ")[0] for r in RECORDS} == set(CHECKERS)


@pytest.mark.parametrize("record", RECORDS, ids=[_record_id(r) for r in RECORDS])
def test_vector(record: dict[str, Any]) -> None:
    CHECKERS[record["lib"].split(" ")[0]](record)


def test_go_irc_deviations_are_exactly_the_lines_ircdocs_answers_differently() -> None:
    differing = {
        r["test"]
        for r in RECORDS
        if r["lib"].startswith("go-twitch-irc")
        and "irc" in r["expect"]
        and r["raw"] in IRCDOCS_BY_RAW
        and _go_atoms(r["expect"]["irc"]) != _ircdocs_atoms(IRCDOCS_BY_RAW[r["raw"]]["expect"]["irc"])
    }
    assert differing == GO_IRC_DEVIATIONS


def test_lines_meant_to_fail_all_become_error_events() -> None:
    failing = [r for r in RECORDS if "error" in r["expect"] or r["test"] in GO_FAILED_RAW_MESSAGES]
    assert len(failing) == 21
    for record in failing:
        event = parse_line(record["raw"], RECEIVED_AT)
        assert isinstance(event, ErrorEvent) and event.error and event.raw == record["raw"]
