"""The wire format of events (schema version 1): JSON objects, one per Kafka record or JSONL line.

:func:`dumps` / :func:`dumps_bytes` / :func:`loads` for JSON text, :func:`to_wire` /
:func:`from_wire` for the plain objects. Field names and meanings are DESIGN.md's event contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Final

import orjson

from chatpulse.errors import WireFormatError
from chatpulse.events import (
    KINDS,
    SCHEMA_VERSION,
    ChatEvent,
    ClearChatEvent,
    ClearMsgEvent,
    CoverageEvent,
    Emote,
    ErrorEvent,
    MessageEvent,
    ReplyParent,
    Sentiment,
    ServerEvent,
    UserNoticeEvent,
    positional_constructor,
)
from chatpulse.times import event_time, wire_time

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
    "_wire_time": wire_time, "_event_time": event_time, "_plain_emotes": _plain_emotes,
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
            value = event_time(value)
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
