"""Typed chat events and their wire format (schema version 1, see docs/architecture.md).

Events are frozen dataclasses. Times are kept in memory as integer milliseconds since the Unix
epoch (cheap to compare and to store) and written on the wire as ISO-8601 UTC strings with
milliseconds (``2019-09-15T00:00:00.501Z``).

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

import json
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypeVar

import orjson

from chatpulse.errors import WireFormatError

SCHEMA_VERSION: Final = 1

SourceName = Literal["irc", "eventsub", "replay", "synthetic"]
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


# --- time ------------------------------------------------------------------------------------
#
# Every event carries two times and every stage of the Kafka pipeline formats or parses both, so
# these are hot. Chat arrives in bursts, many events share a second: the "YYYY-MM-DDTHH:MM:SS"
# part is cached per second (both ways) and the milliseconds come from tables. The caches are
# cleared when full, so memory stays bounded on a long replay.

_SECOND_CACHE_SIZE: Final = 4096
_MILLIS_SUFFIX: Final = tuple(f".{millis:03d}Z" for millis in range(1000))
_MILLIS_VALUE: Final = {f"{millis:03d}": millis for millis in range(1000)}
_ISO_SECONDS: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", re.ASCII)
_second_text: dict[int, str] = {}  # epoch second -> "2019-09-15T00:00:00"
_second_value: dict[str, int] = {}  # the reverse


def _format_second(seconds: int) -> str:
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if len(_second_text) >= _SECOND_CACHE_SIZE:
        _second_text.clear()
    _second_text[seconds] = text
    return text


def format_time(ms: int) -> str:
    """Milliseconds since epoch -> ``2019-09-15T00:00:00.501Z``."""
    seconds, millis = divmod(ms, 1000)
    return (_second_text.get(seconds) or _format_second(seconds)) + _MILLIS_SUFFIX[millis]


def _parse_time_any(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def parse_time(text: str) -> int:
    """ISO-8601 (``Z`` or offset, any sub-second precision) -> milliseconds since epoch."""
    # Fast path: exactly what format_time writes; anything else takes the general parser.
    if len(text) == 24 and text[19] == "." and text[23] == "Z":
        millis = _MILLIS_VALUE.get(text[20:23])
        if millis is not None:
            prefix = text[:19]
            seconds = _second_value.get(prefix)
            if seconds is None and _ISO_SECONDS.fullmatch(prefix):
                seconds = _parse_time_any(prefix + "Z") // 1000  # raises ValueError for 2019-13-01
                if len(_second_value) >= _SECOND_CACHE_SIZE:
                    _second_value.clear()
                _second_value[prefix] = seconds
            if seconds is not None:
                return seconds * 1000 + millis
    return _parse_time_any(text)


def _wire_time(ms: int | None) -> str | None:
    """:func:`format_time`, None for None, in one call (the encoders call it twice per event)."""
    if ms is None:
        return None
    seconds, millis = divmod(ms, 1000)
    return (_second_text.get(seconds) or _format_second(seconds)) + _MILLIS_SUFFIX[millis]


def _event_time(text: str | None) -> int | None:
    return None if text is None else parse_time(text)


# --- wire format -----------------------------------------------------------------------------
#
# The wire object of an event: ``{"schema": 1, <every field in dataclass order>}`` with times as
# ISO strings, emotes as a list of objects, ``params`` tuples as lists, Sentiment and ReplyParent
# as objects. Each event class gets three functions generated from its fields (the way
# dataclasses writes ``__init__``), so a hot path makes no per-field decisions:
#
# - a *plain* encoder: the wire object with plain dicts and lists (:func:`to_wire`);
# - a *native* encoder: the same object, except that emotes, params, sentiment and reply_parent
#   are left as tuples and dataclasses, which orjson writes exactly as the plain encoder spells
#   them out (a JSON array; an object of the fields in order), in native code (:func:`dumps`);
# - a *full-layout* decoder: every field read by key and passed positionally; an object missing
#   a key (older writers, hand-written records) falls back to the general decoder, which reads
#   what is there and defaults the rest.
#
# JSON itself is orjson (native code, UTF-8 bytes out, non-ASCII kept as is); whatever orjson
# refuses (integers beyond 64 bits, lone surrogates, NaN literals, non-str keys) goes through the
# standard json module as before, so nothing that encoded or decoded before fails now. Two
# spellings differ from the json module's, not the meaning: orjson writes 1e-05 as 0.00001, and a
# NaN or infinite float (not JSON; no analyzer returns one) as null.

_CLASS_BY_KIND: dict[str, type[ChatEvent]] = {
    "message": MessageEvent,
    "whisper": MessageEvent,
    "usernotice": UserNoticeEvent,
    "clearchat": ClearChatEvent,
    "clearmsg": ClearMsgEvent,
    "coverage": CoverageEvent,
    "error": ErrorEvent,
}
_TIME_FIELDS: Final = frozenset({"sent_at", "received_at"})
_WireEncoder = Callable[[ChatEvent], dict[str, Any]]
_WireDecoder = Callable[[dict[str, Any]], ChatEvent]


def _plain_emotes(emotes: tuple[Emote, ...]) -> list[dict[str, Any]]:
    return [{"id": e.id, "name": e.name, "start": e.start, "end": e.end, "provider": e.provider}
            for e in emotes]  # fmt: skip


def _plain_params(params: Any) -> Any:
    return list(params) if isinstance(params, tuple) else params


def _plain_record(value: Any) -> Any:
    if isinstance(value, (Sentiment, ReplyParent)):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return value


def _read_emotes(value: Any) -> tuple[Emote, ...]:
    if value.__class__ is list and not value:
        return ()
    return tuple(Emote(**e) for e in value)


def _read_params(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _read_sentiment(value: Any) -> Sentiment | None:
    return None if value is None else Sentiment(**value)


def _read_reply_parent(value: Any) -> ReplyParent | None:
    return None if value is None else ReplyParent(**value)


_PLAIN_WRITE: Final = {"emotes": "_plain_emotes", "params": "_plain_params",
                       "sentiment": "_plain_record", "reply_parent": "_plain_record"}  # fmt: skip
_READ: Final = {"emotes": "_read_emotes", "params": "_read_params", "sentiment": "_read_sentiment",
                "reply_parent": "_read_reply_parent"}  # fmt: skip
_HELPERS: Final[dict[str, Any]] = {
    "_wire_time": _wire_time, "_event_time": _event_time, "_plain_emotes": _plain_emotes,
    "_plain_params": _plain_params, "_plain_record": _plain_record, "_read_emotes": _read_emotes,
    "_read_params": _read_params, "_read_sentiment": _read_sentiment,
    "_read_reply_parent": _read_reply_parent,
}  # fmt: skip


def _compile(cls: type[ChatEvent], name: str, source: str, namespace: dict[str, Any]) -> Any:
    """``exec`` generated code (its text is built from field names only) and return ``name``."""
    namespace.update(_HELPERS)
    exec(source, namespace)  # noqa: S102
    function = namespace[name]
    function.__qualname__ = f"{cls.__qualname__}.{name}"
    return function


def _field_expressions(
    cls: type[ChatEvent], read: str, time: str, convert: dict[str, str]
) -> list[tuple[str, str]]:
    """(name, expression) per field of ``cls``: ``read`` with the field's name filled in, passed
    through ``time`` for the two times or through the field's function in ``convert``."""
    out = []
    for f in fields(cls):
        value = read.format(name=f.name)
        if f.name in _TIME_FIELDS:
            value = f"{time}({value})"
        elif f.name in convert:
            value = f"{convert[f.name]}({value})"
        out.append((f.name, value))
    return out


def _encoder_source(cls: type[ChatEvent], name: str, special: dict[str, str]) -> str:
    items = [f'"schema": {SCHEMA_VERSION}']
    items += [
        f'"{field}": {value}' for field, value in _field_expressions(cls, "e.{name}", "_wire_time", special)
    ]
    return f"def {name}(e):\n    return {{{', '.join(items)}}}\n"


def _decoder_source(cls: type[ChatEvent], name: str) -> str:
    args = [value for _, value in _field_expressions(cls, 'o["{name}"]', "_event_time", _READ)]
    return f"def {name}(o):\n    return _construct({', '.join(args)})\n"


@dataclass(frozen=True, slots=True)
class _Codec:
    """The generated functions of one event class."""

    plain: _WireEncoder
    native: _WireEncoder
    full_layout: _WireDecoder


def _build_codec(cls: type[ChatEvent]) -> _Codec:
    construct = positional_constructor(cls)
    return _Codec(
        plain=_compile(cls, "plain_wire", _encoder_source(cls, "plain_wire", _PLAIN_WRITE), {}),
        native=_compile(cls, "native_wire", _encoder_source(cls, "native_wire", {}), {}),
        full_layout=_compile(cls, "from_full_wire", _decoder_source(cls, "from_full_wire"),
                             {"_construct": construct}),
    )  # fmt: skip


_CODECS: dict[type[ChatEvent], _Codec] = {}


def _codec(cls: type[ChatEvent]) -> _Codec:
    codec = _CODECS.get(cls)
    if codec is None:  # a subclass defined elsewhere: generated on first use
        codec = _CODECS[cls] = _build_codec(cls)
    return codec


for _cls in (ChatEvent, MessageEvent, UserNoticeEvent, ClearChatEvent, ClearMsgEvent, ServerEvent,
             CoverageEvent, ErrorEvent):  # fmt: skip
    _codec(_cls)
_DECODER_BY_KIND: Final = {kind: _CODECS[_CLASS_BY_KIND.get(kind, ServerEvent)].full_layout for kind in KINDS}


def to_wire(event: ChatEvent) -> dict[str, Any]:
    """The event as a wire JSON object (schema version 1)."""
    return _codec(type(event)).plain(event)


def from_wire(obj: dict[str, Any]) -> ChatEvent:
    """Decode a wire JSON object; raises :class:`WireFormatError` naming what is wrong."""
    if not isinstance(obj, dict):
        raise WireFormatError("event must be a JSON object")
    schema = obj.get("schema")
    if schema != SCHEMA_VERSION:
        raise WireFormatError(f"unsupported schema version {schema!r} (expected {SCHEMA_VERSION})")
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in _DECODER_BY_KIND:
        raise WireFormatError(f"unknown event kind {kind!r}")
    try:
        try:
            return _DECODER_BY_KIND[kind](obj)
        except KeyError:
            return _from_partial_wire(obj, kind)
    except (TypeError, ValueError, AttributeError) as exc:
        raise WireFormatError(f"invalid {kind} event: {exc}") from exc


def _from_partial_wire(obj: dict[str, Any], kind: str) -> ChatEvent:
    """The general decoder: the fields ``obj`` has, converted; defaults for the rest."""
    cls = _CLASS_BY_KIND.get(kind, ServerEvent)
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in obj:
            continue
        value = obj[f.name]
        if f.name in _TIME_FIELDS:
            value = _event_time(value)
        elif f.name in _READ:
            value = _HELPERS[_READ[f.name]](value)
        values[f.name] = value
    if "received_at" not in values:
        raise WireFormatError("event has no received_at")
    return cls(**values)


def dumps_bytes(event: ChatEvent) -> bytes:
    """:func:`dumps` as UTF-8 bytes, without a str in between (what Kafka records carry)."""
    try:
        return orjson.dumps(_codec(type(event)).native(event))
    except TypeError:  # orjson.JSONEncodeError: see the wire format note above
        return _stdlib_dumps(event).encode("utf-8")


def dumps(event: ChatEvent) -> str:
    """One compact JSON line, non-ASCII kept as is."""
    try:
        return orjson.dumps(_codec(type(event)).native(event)).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError: see the wire format note above
        return _stdlib_dumps(event)


def _stdlib_dumps(event: ChatEvent) -> str:
    return json.dumps(to_wire(event), ensure_ascii=False, separators=(",", ":"))


def loads(line: str | bytes) -> ChatEvent:
    """Decode one JSON line; raises :class:`WireFormatError` on anything malformed."""
    try:
        obj = orjson.loads(line)
    except ValueError:  # orjson.JSONDecodeError; the standard parser accepts a little more
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise WireFormatError(f"not JSON: {exc}") from exc
    return from_wire(obj)
