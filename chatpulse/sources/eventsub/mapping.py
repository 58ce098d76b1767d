"""EventSub WebSocket frames -> ChatPulse events. Pure: no I/O, the caller passes the receive time.

Frame and payload shapes follow Twitch's reference pages:

- frames (metadata + payload; welcome, keepalive, notification, reconnect, revocation):
  https://dev.twitch.tv/docs/eventsub/websocket-reference/
- chat events (``channel.chat.message``, ``.notification``, ``.clear``, ``.clear_user_messages``,
  ``.message_delete``): https://dev.twitch.tv/docs/eventsub/eventsub-reference/ and
  https://dev.twitch.tv/docs/eventsub/eventsub-subscription-types/

Events carry the same fields as their IRC counterparts (``chatpulse.irc.twitch``) so everything
downstream treats both paths alike: ``source`` is ``"eventsub"``, ``tags`` stay empty (EventSub has
none) and ``raw`` keeps the frame's JSON text. :func:`event_from_notification` never raises: a
payload missing a field it needs becomes an :class:`ErrorEvent` that keeps the frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from chatpulse.events import (
    ChatEvent,
    ClearChatEvent,
    ClearMsgEvent,
    Emote,
    ErrorEvent,
    MessageEvent,
    ReplyParent,
    UserNoticeEvent,
)
from chatpulse.times import parse_time

SOURCE: Final = "eventsub"

CHAT_SUBSCRIPTION_TYPES: Final = (
    "channel.chat.message",
    "channel.chat.notification",
    "channel.chat.clear",
    "channel.chat.clear_user_messages",
    "channel.chat.message_delete",
)
"""What :class:`~chatpulse.sources.eventsub.source.EventSubSource` subscribes to for each channel (all
version 1, condition ``broadcaster_user_id`` + ``user_id``, scope ``user:read:chat``)."""


class FrameError(ValueError):
    """A WebSocket text frame is not an EventSub message (not JSON, or no metadata)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One EventSub WebSocket message: its metadata and its payload, plus the text it came in."""

    message_id: str
    message_type: str  # session_welcome, session_keepalive, notification, session_reconnect, revocation
    sent_at: int | None  # metadata.message_timestamp in ms since the epoch
    subscription_type: str | None
    payload: dict[str, Any]
    raw: str


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """``payload.session`` of a welcome or reconnect message."""

    id: str
    keepalive_timeout_s: int | None
    reconnect_url: str | None


@dataclass(frozen=True, slots=True)
class Revocation:
    """``payload.subscription`` of a revocation message."""

    subscription_id: str
    subscription_type: str
    status: str  # authorization_revoked, user_removed, version_removed
    broadcaster_user_id: str | None


def parse_frame(text: str) -> Frame:
    """Decode one text frame; raises :class:`FrameError` when it is not an EventSub message."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise FrameError(f"frame is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
        raise FrameError("frame has no metadata object")
    meta = doc["metadata"]
    payload = doc.get("payload")
    stamp = meta.get("message_timestamp")
    try:
        sent_at = parse_time(stamp) if isinstance(stamp, str) and stamp else None
    except ValueError:
        sent_at = None
    return Frame(
        message_id=str(meta.get("message_id") or ""),
        message_type=str(meta.get("message_type") or ""),
        sent_at=sent_at,
        subscription_type=meta.get("subscription_type"),
        payload=payload if isinstance(payload, dict) else {},
        raw=text,
    )


def session_info(frame: Frame) -> SessionInfo:
    """The session of a welcome/reconnect frame; raises :class:`FrameError` if it has none."""
    session = frame.payload.get("session")
    if not isinstance(session, dict) or not session.get("id"):
        raise FrameError(f"{frame.message_type} frame has no session id")
    keepalive = session.get("keepalive_timeout_seconds")
    return SessionInfo(
        id=str(session["id"]),
        keepalive_timeout_s=keepalive if isinstance(keepalive, int) else None,
        reconnect_url=session.get("reconnect_url") or None,
    )


def revocation_info(frame: Frame) -> Revocation:
    """The revoked subscription of a revocation frame; raises :class:`FrameError` if absent."""
    sub = frame.payload.get("subscription")
    if not isinstance(sub, dict):
        raise FrameError("revocation frame has no subscription")
    condition = sub.get("condition")
    if not isinstance(condition, dict):
        condition = {}
    return Revocation(
        subscription_id=str(sub.get("id") or ""),
        subscription_type=str(sub.get("type") or frame.subscription_type or ""),
        status=str(sub.get("status") or ""),
        broadcaster_user_id=condition.get("broadcaster_user_id"),
    )


def event_from_notification(frame: Frame, received_at: int) -> ChatEvent:
    """A ``notification`` frame -> the event IRC would have produced. Never raises."""
    event = frame.payload.get("event")
    sub = frame.payload.get("subscription")
    sub_type = frame.subscription_type or (sub.get("type") if isinstance(sub, dict) else None)
    if not isinstance(event, dict):
        return _error(frame, received_at, "notification has no event object")
    builder = _BUILDERS.get(sub_type or "")
    if builder is None:
        return _error(frame, received_at, f"unsupported subscription type {sub_type!r}")
    try:
        return builder(event, frame, received_at)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return _error(frame, received_at, f"invalid {sub_type} event: {exc.__class__.__name__}: {exc}")


# --- field helpers ---------------------------------------------------------------------------


def _error(frame: Frame, received_at: int, reason: str) -> ErrorEvent:
    return ErrorEvent(
        received_at=received_at, source=SOURCE, raw=frame.raw, sent_at=frame.sent_at, error=reason
    )


def _common(event: dict[str, Any], frame: Frame, received_at: int) -> dict[str, Any]:
    return {
        "received_at": received_at,
        "source": SOURCE,
        "channel": str(event["broadcaster_user_login"]).lower(),
        "channel_id": event.get("broadcaster_user_id") or None,
        "sent_at": frame.sent_at,
        "raw": frame.raw,
    }


def emotes_from_fragments(fragments: list[dict[str, Any]] | None, text: str) -> tuple[Emote, ...]:
    """Emote spans in ``text`` from a message's fragments, so that ``text[start:end] == name``.

    Fragments split the text in order (text, emote, cheermote, mention); offsets are counted in
    code points like Python strings and IRC's ``emotes`` tag. Should the fragments ever not add
    up to ``text`` exactly, each one is looked up from the running offset instead, and an emote
    that cannot be found is dropped rather than given a wrong span.
    """
    found: list[Emote] = []
    offset = 0
    for fragment in fragments or ():
        piece = fragment.get("text") or ""
        if not piece:
            continue
        start = offset if text.startswith(piece, offset) else text.find(piece, offset)
        if start < 0:
            continue
        end = start + len(piece)
        offset = end
        emote = fragment.get("emote")
        if fragment.get("type") == "emote" and isinstance(emote, dict) and emote.get("id"):
            found.append(Emote(str(emote["id"]), piece, start, end))
    return tuple(found)


def _badges(items: list[dict[str, Any]] | None) -> tuple[dict[str, str], dict[str, str]]:
    """EventSub ``badges`` -> IRC-shaped (``badges``, ``badge_info``).

    ``info`` carries what IRC's ``badge-info`` tag does: the exact subscriber months.
    """
    badges: dict[str, str] = {}
    info: dict[str, str] = {}
    for badge in items or ():
        name = badge.get("set_id")
        if not name:
            continue
        badges[name] = str(badge.get("id") or "")
        if badge.get("info"):
            info[name] = str(badge["info"])
    return badges, info


def _message_text(event: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    message = event.get("message") or {}
    return str(message.get("text") or ""), message.get("fragments")


# --- channel.chat.message --------------------------------------------------------------------


def _chat_message(event: dict[str, Any], frame: Frame, received_at: int) -> ChatEvent:
    text, fragments = _message_text(event)
    badges, badge_info = _badges(event.get("badges"))
    reply = event.get("reply")
    cheer = event.get("cheer")
    login = str(event["chatter_user_login"])
    return MessageEvent(
        **_common(event, frame, received_at),
        id=str(event["message_id"]),
        user_id=event.get("chatter_user_id") or None,
        user_login=login,
        user_name=str(event.get("chatter_user_name") or login).strip(),
        text=text,
        badges=badges,
        badge_info=badge_info,
        color=event.get("color") or None,
        bits=int(cheer.get("bits") or 0) if isinstance(cheer, dict) else 0,
        # EventSub does not say whether this is someone's first message or a returning chatter
        # (IRC's first-msg / returning-chatter tags), so those stay False.
        reply_parent=(
            ReplyParent(
                str(reply["parent_message_id"]),
                str(reply.get("parent_user_login") or ""),
                str(reply.get("parent_message_body") or ""),
            )
            if isinstance(reply, dict) and reply.get("parent_message_id")
            else None
        ),
        source_channel_id=event.get("source_broadcaster_user_id") or None,
        emotes=emotes_from_fragments(fragments, text),
    )


# --- channel.chat.notification ---------------------------------------------------------------

# EventSub notice_type -> (IRC msg-id, renames of the notice object's fields to IRC msg-param
# names). Names from Twitch's IRC tags reference (dev.twitch.tv/docs/irc/tags, USERNOTICE) and
# confirmed against the captures in shared/data. Fields without an IRC name keep their EventSub
# name in kebab-case, so nothing is lost.
_NOTICES: Final[dict[str, tuple[str, dict[str, str]]]] = {
    "sub": ("sub", {"sub_tier": "sub-plan", "duration_months": "multimonth-duration"}),
    "resub": (
        "resub",
        {
            "cumulative_months": "cumulative-months",
            "streak_months": "streak-months",
            "duration_months": "multimonth-duration",
            "sub_tier": "sub-plan",
            "is_gift": "was-gifted",
            "gifter_is_anonymous": "anon-gift",
            "gifter_user_id": "gifter-id",
            "gifter_user_login": "gifter-login",
            "gifter_user_name": "gifter-name",
        },
    ),
    "sub_gift": (
        "subgift",
        {
            "duration_months": "gift-months",
            "cumulative_total": "sender-count",
            "recipient_user_id": "recipient-id",
            "recipient_user_login": "recipient-user-name",
            "recipient_user_name": "recipient-display-name",
            "sub_tier": "sub-plan",
        },
    ),
    "community_sub_gift": (
        "submysterygift",
        {
            "total": "mass-gift-count",
            "cumulative_total": "sender-count",
            "sub_tier": "sub-plan",
            "id": "community-gift-id",
        },
    ),
    "gift_paid_upgrade": (
        "giftpaidupgrade",
        {
            "gifter_user_login": "sender-login",
            "gifter_user_name": "sender-name",
            "gifter_user_id": "sender-id",
        },
    ),
    "prime_paid_upgrade": ("primepaidupgrade", {"sub_tier": "sub-plan"}),
    # IRC splits pay-it-forward into standardpayforward/communitypayforward; EventSub does not say
    # which, so the EventSub name stays.
    "pay_it_forward": (
        "pay_it_forward",
        {
            "gifter_is_anonymous": "prior-gifter-anonymous",
            "gifter_user_id": "prior-gifter-id",
            "gifter_user_login": "prior-gifter-user-name",
            "gifter_user_name": "prior-gifter-display-name",
        },
    ),
    "raid": (
        "raid",
        {
            "user_login": "login",
            "user_name": "displayName",
            "viewer_count": "viewerCount",
            "profile_image_url": "profileImageURL",
        },
    ),
    "unraid": ("unraid", {}),
    "announcement": ("announcement", {"color": "color"}),
    "bits_badge_tier": ("bitsbadgetier", {"tier": "threshold"}),
    "charity_donation": (
        "charitydonation",
        {
            "charity_name": "charity-name",
            "amount.value": "donation-amount",
            "amount.decimal_place": "exponent",
            "amount.currency": "donation-currency",
        },
    ),
}
# Anonymous gifts have their own msg-id on IRC.
_ANONYMOUS: Final = {
    "subgift": "anonsubgift",
    "submysterygift": "anonsubmysterygift",
    "giftpaidupgrade": "anongiftpaidupgrade",
}
_SHARED_PREFIX: Final = "shared_chat_"


def _param_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def notice_params(notice_type: str, detail: dict[str, Any] | None) -> tuple[str, dict[str, str]]:
    """EventSub ``notice_type`` and its detail object -> IRC ``msg-id`` and ``msg-param-*``s.

    Shared-chat notices (``shared_chat_sub``, ...) come as IRC's ``sharedchatnotice`` with the
    original type in ``source-msg-id``, the way IRC reports them.
    """
    shared = notice_type.startswith(_SHARED_PREFIX)
    base_type = notice_type[len(_SHARED_PREFIX) :] if shared else notice_type
    msg_id, renames = _NOTICES.get(base_type, (base_type, {}))
    params: dict[str, str] = {}
    for key, value in _flatten(detail or {}).items():
        text = _param_value(value)
        if text is not None:
            params[renames.get(key, key.replace("_", "-").replace(".", "-"))] = text
    if base_type in {"sub", "resub"} and (detail or {}).get("is_prime"):
        params["sub-plan"] = "Prime"  # IRC's sub-plan value for Prime subs
    if "color" in params:
        params["color"] = params["color"].upper()  # IRC: PRIMARY, BLUE, ...
    if shared:
        params["source-msg-id"] = msg_id
        msg_id = "sharedchatnotice"
    return msg_id, params


def _chat_notification(event: dict[str, Any], frame: Frame, received_at: int) -> ChatEvent:
    kind = str(event["notice_type"])
    detail = event.get(kind)
    msg_id, params = notice_params(kind, detail if isinstance(detail, dict) else None)
    gifter_anonymous = isinstance(detail, dict) and detail.get("gifter_is_anonymous") is True
    if msg_id in _ANONYMOUS and (event.get("chatter_is_anonymous") or gifter_anonymous):
        msg_id = _ANONYMOUS[msg_id]
    text, fragments = _message_text(event)
    badges, _ = _badges(event.get("badges"))
    login = str(event.get("chatter_user_login") or "")
    return UserNoticeEvent(
        **_common(event, frame, received_at),
        notice_type=msg_id,
        system_text=str(event.get("system_message") or ""),
        id=str(event["message_id"]),
        user_id=event.get("chatter_user_id") or None,
        user_login=login,
        user_name=str(event.get("chatter_user_name") or login).strip(),
        text=text,
        badges=badges,
        params=params,
        emotes=emotes_from_fragments(fragments, text),
    )


# --- moderation ------------------------------------------------------------------------------


def _chat_clear(event: dict[str, Any], frame: Frame, received_at: int) -> ChatEvent:
    return ClearChatEvent(**_common(event, frame, received_at))


def _clear_user_messages(event: dict[str, Any], frame: Frame, received_at: int) -> ChatEvent:
    # EventSub does not say whether this was a ban or a timeout, nor for how long: the duration
    # stays unknown (None) rather than guessed.
    return ClearChatEvent(
        **_common(event, frame, received_at),
        target_user_login=str(event["target_user_login"]).lower(),
        target_user_id=event.get("target_user_id") or None,
        ban_duration=None,
    )


def _message_delete(event: dict[str, Any], frame: Frame, received_at: int) -> ChatEvent:
    # Unlike IRC's CLEARMSG, EventSub does not repeat the deleted text.
    return ClearMsgEvent(
        **_common(event, frame, received_at),
        target_message_id=str(event["message_id"]),
        user_login=str(event.get("target_user_login") or ""),
    )


_Builder = Callable[[dict[str, Any], Frame, int], ChatEvent]
_BUILDERS: Final[dict[str, _Builder]] = {
    "channel.chat.message": _chat_message,
    "channel.chat.notification": _chat_notification,
    "channel.chat.clear": _chat_clear,
    "channel.chat.clear_user_messages": _clear_user_messages,
    "channel.chat.message_delete": _message_delete,
}
