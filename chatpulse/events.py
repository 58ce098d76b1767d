"""Typed chat events (schema version 1, see docs/architecture.md); the wire codec is :mod:`chatpulse.wire`.

Events are frozen dataclasses. Times are kept in memory as integer milliseconds since the Unix
epoch (cheap to compare and to store) and written on the wire as ISO-8601 UTC strings with
milliseconds (``2019-09-15T00:00:00.501Z``, :mod:`chatpulse.times`). Wire views
(:mod:`chatpulse.wire_views`) are partial typed readers of the same records.

Classes, by wire ``kind``:

- ``message`` and ``whisper``: :class:`MessageEvent`
- ``usernotice``: :class:`UserNoticeEvent`
- ``clearchat``: :class:`ClearChatEvent`
- ``clearmsg``: :class:`ClearMsgEvent`
- ``coverage``: :class:`CoverageEvent`
- ``error``: :class:`ErrorEvent`
- every other kind (roomstate, notice, join, ping, numeric, other, ...): :class:`ServerEvent`
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Final, Literal, TypeVar

SCHEMA_VERSION: Final = 1

SourceName = Literal["irc", "eventsub", "replay", "synthetic", "archive"]  # archive: chatpulse import
SentimentLabel = Literal["positive", "neutral", "negative"]

KINDS: Final = (
    "message", "usernotice", "clearchat", "clearmsg", "roomstate", "userstate",
    "globaluserstate", "notice", "whisper", "join", "part", "hosttarget", "reconnect",
    "ping", "pong", "cap", "numeric", "coverage", "other", "error",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Emote:
    """One emote occurrence: ``text[start:end] == name`` (code points, ``end`` exclusive)."""

    id: str
    name: str
    start: int
    end: int
    provider: str = "twitch"


@dataclass(frozen=True, slots=True)
class Sentiment:
    """The enrich stage's verdict on one message."""

    label: SentimentLabel
    score: float  # in [-1, 1]
    confidence: float  # in [0, 1]
    model: str  # "<name>@<version>"
    # ISO 639-1 code of a message the analyzer found not to be English (it then says neutral with
    # a guess's confidence instead of reading it by English rules); None: English or unknown.
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class ReplyParent:
    """The message a reply answers."""

    id: str
    user_login: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatEvent:
    """Fields common to every event."""

    kind: str
    received_at: int  # ms since epoch, local receive time
    source: str
    channel: str | None = None
    channel_id: str | None = None
    sent_at: int | None = None  # ms since epoch, server time (tmi-sent-ts)
    tags: dict[str, str] = field(default_factory=dict)
    raw: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEvent(ChatEvent):
    """A chat message (PRIVMSG) or a whisper."""

    kind: str = "message"
    id: str = ""
    user_id: str | None = None
    user_login: str = ""
    user_name: str = ""
    text: str = ""
    is_action: bool = False
    badges: dict[str, str] = field(default_factory=dict)
    badge_info: dict[str, str] = field(default_factory=dict)
    color: str | None = None
    bits: int = 0
    first_msg: bool = False
    returning_chatter: bool = False
    reply_parent: ReplyParent | None = None
    source_channel_id: str | None = None
    emotes: tuple[Emote, ...] = ()
    sentiment: Sentiment | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserNoticeEvent(ChatEvent):
    """Subs, resubs, gifts, raids, announcements, ... (USERNOTICE)."""

    kind: str = "usernotice"
    notice_type: str = ""
    system_text: str = ""
    id: str = ""
    user_id: str | None = None
    user_login: str = ""
    user_name: str = ""
    text: str = ""
    badges: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    emotes: tuple[Emote, ...] = ()
    sentiment: Sentiment | None = None  # set by the enrich stage when the notice has text


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearChatEvent(ChatEvent):
    """A timeout, a ban (``ban_duration`` None) or a whole-chat clear (both targets None)."""

    kind: str = "clearchat"
    target_user_login: str | None = None
    target_user_id: str | None = None
    ban_duration: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearMsgEvent(ChatEvent):
    """A single message deleted by a moderator."""

    kind: str = "clearmsg"
    target_message_id: str = ""
    user_login: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerEvent(ChatEvent):
    """Any other IRC command: state updates, notices, membership, keep-alive, numerics."""

    command: str = ""
    params: tuple[str, ...] = ()
    user_login: str | None = None  # prefix nick, where the command has a sender
    text: str | None = None  # trailing parameter where it is human-readable


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageEvent(ChatEvent):
    """A source connected to or lost a channel: gaps in the data are recorded, not silent."""

    kind: str = "coverage"
    state: Literal["connected", "disconnected"] = "connected"
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEvent(ChatEvent):
    """A line that could not be parsed; ``raw`` keeps it so nothing is lost."""

    kind: str = "error"
    error: str = ""


# --- construction speed ----------------------------------------------------------------------
#
# Parsing must build >= 200k events/s on one core (DESIGN.md section 8). The ``__init__`` that
# ``dataclass(frozen=True)`` writes stores every field with ``object.__setattr__`` looked up
# through a module global; for the 24 fields of a MessageEvent that was the largest single cost
# of parsing a chat line. Storing through each slot's own descriptor does the same in a third of
# the time, so every event class gets such an ``__init__`` (same signature, defaults, factories,
# keyword-only-ness; instances stay frozen). Classes with ``__post_init__`` or ``init=False``
# fields would be left alone; none exist today.


class _FromFactory:
    """Marks "argument not given" for fields with a default_factory (shown as dataclasses does)."""

    def __repr__(self) -> str:
        return "<factory>"


_FROM_FACTORY: Final = _FromFactory()
_T = TypeVar("_T")


def _compile_slot_stores(cls: type[Any], name: str, params: str, first_line: str) -> Any:
    """Compile ``def name(params)`` whose body is ``first_line`` then one slot store per field.

    Generated code, as dataclasses itself does it; the text is built from field names only.
    """
    namespace: dict[str, Any] = {"_FROM_FACTORY": _FROM_FACTORY, "_new": object.__new__, "_cls": cls}
    namespace.update({f"_default_{f.name}": f.default for f in fields(cls) if f.default is not MISSING})
    body = [f"    {first_line}"]
    for f in fields(cls):
        namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__  # the slot's member descriptor
        value = f.name
        if f.default_factory is not MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            value = f"_factory_{f.name}() if {f.name} is _FROM_FACTORY else {f.name}"
        body.append(f"    _set_{f.name}(self, {value})")
    if name != "__init__":
        body.append("    return self")
    exec(f"def {name}({params}):\n" + "\n".join(body) + "\n", namespace)  # noqa: S102
    function = namespace[name]
    function.__qualname__ = f"{cls.__qualname__}.{name}"
    return function


def _store_through_slots(cls: type[Any]) -> None:
    """Replace the dataclass-written ``__init__`` of ``cls`` by the faster equivalent."""
    all_fields = fields(cls)
    if hasattr(cls, "__post_init__") or not all(f.init for f in all_fields):
        return
    positional: list[str] = []
    keyword: list[str] = []
    for f in all_fields:
        if f.default is not MISSING:
            param = f"{f.name}=_default_{f.name}"
        elif f.default_factory is not MISSING:
            param = f"{f.name}=_FROM_FACTORY"
        else:
            param = f.name
        (keyword if f.kw_only else positional).append(param)
    params = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    init = _compile_slot_stores(cls, "__init__", params, "pass")
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init


def positional_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A function building ``cls`` from *every* field, positionally, in ``fields(cls)`` order.

    For hot paths only: Python passes 24 keyword arguments about 1 us slower than 24
    positional ones, which is a sixth of a parsed line. Nothing is checked or defaulted, so a
    caller must pin the field order it relies on and fail at import when it changes (as
    :mod:`chatpulse.irc.twitch` does).
    """
    params = ", ".join(f.name for f in fields(cls))  # type: ignore[arg-type]
    return _compile_slot_stores(cls, "construct", params, "self = _new(_cls)")  # type: ignore[no-any-return]


for _cls in (Emote, ReplyParent, Sentiment, ChatEvent, MessageEvent, UserNoticeEvent,
             ClearChatEvent, ClearMsgEvent, ServerEvent, CoverageEvent, ErrorEvent):  # fmt: skip
    _store_through_slots(_cls)
