"""Partial, typed views of wire records (schema 1) for the Kafka consumer stages.

A stage reads a few fields of each record, but decoding a record into an event builds every
field, the tags and the raw line included: for chat that was the largest single cost of the
enrich and sink services. msgspec decodes a record into a Struct of the named fields only and
skips the rest without building it (a synthetic chat record: about 2 us instead of 9 for
``chatpulse.wire.loads``, timed in a script).

The Structs are built with ``gc=False`` (msgspec's option: instances are not tracked by the
garbage collector) and emote spans come as tuples, as events carry them: a consumer holds
thousands of views per batch, and tracked ones made every young collection walk them (in a
script decoding 10k-record batches of the xqcow capture: 3.3 us per record tracked, 2.0 not).
Decoded JSON cannot form a reference cycle, which is all the collector would be needed for.

Field names, defaults and nesting are the wire's (= the event classes' attributes), so code that
reads an event by attribute reads a view the same way. Times stay ISO-8601 strings
(:func:`chatpulse.times.parse_time` reads them).

:func:`decode_view` never rejects what :func:`chatpulse.wire.loads` accepts: a record a view
cannot take (another kind, a field of an unexpected type, JSON only the standard parser reads)
is decoded into a full event instead, and only a record that is no event at all raises
:class:`~chatpulse.errors.WireFormatError`.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from chatpulse.events import KINDS, SCHEMA_VERSION, ChatEvent
from chatpulse.wire import loads


class EmoteView(msgspec.Struct, gc=False):
    id: str
    name: str
    start: int
    end: int
    provider: str = "twitch"


class SentimentView(msgspec.Struct, gc=False):
    label: str
    score: float
    confidence: float
    model: str
    lang: str | None = None


class ReplyParentView(msgspec.Struct, gc=False):
    id: str
    user_login: str
    text: str


class RecordView(msgspec.Struct, gc=False):
    """What every stage reads: the envelope, the routing key and the latency reference."""

    schema: int
    kind: str
    received_at: str
    source: str
    channel: str | None = None
    sent_at: str | None = None


class ScoringView(RecordView):
    """What the enrich stage reads: a scorable record's text and emote spans."""

    text: str | None = ""  # None: a server event's (they are not scored)
    emotes: tuple[EmoteView, ...] = ()


class MessageView(RecordView):
    """What the store keeps of a chat message (``chat_messages`` and ``chat_emotes``)."""

    channel_id: str | None = None
    id: str = ""
    user_id: str | None = None
    user_login: str = ""
    user_name: str = ""
    text: str = ""
    is_action: bool = False
    badges: dict[str, str] = {}
    color: str | None = None
    bits: int = 0
    first_msg: bool = False
    returning_chatter: bool = False
    reply_parent: ReplyParentView | None = None
    source_channel_id: str | None = None
    emotes: tuple[EmoteView, ...] = ()
    sentiment: SentimentView | None = None


_View = TypeVar("_View", bound=RecordView)
_KINDS = frozenset(KINDS)


def decode_view(decoder: msgspec.json.Decoder[_View], value: bytes) -> _View | ChatEvent:
    """The record as ``decoder``'s view, else (see the module docstring) as a full event.
    Raises WireFormatError for a record that is no valid event."""
    try:
        view = decoder.decode(value)
    except msgspec.MsgspecError:  # DecodeError, ValidationError: let the full decoder judge
        return loads(value)
    if view.schema != SCHEMA_VERSION or view.kind not in _KINDS:
        return loads(value)  # raises, naming what is wrong
    return view
