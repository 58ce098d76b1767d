"""The core every run shape calls: parse, annotate, score, lay out rows, time latency; one rule each.

The embedded run (:mod:`chatpulse.run.embedded`: all steps in one worker process per batch) and
the Kafka services (:mod:`chatpulse.services`: ``ingest`` parses and annotates, ``enrich``
scores, ``sink`` lays out rows) call these functions and nothing else for the steps they share,
so the same recording stores the same rows either way (a test replays both captures through
both shapes and compares the tables).

::

    raw line --parse_lines--> ChatEvent --Annotator.annotate--> + 7TV/BTTV/FFZ emotes
        --scorable/score--> + Sentiment --store_rows--> StoreBatch (Arrow) --> ClickHouseSink
    latency_reference_ms: where a stored message's end-to-end latency is timed from

Pure apart from the analyzer and the emote index handed in, and :class:`RoomIds`, which writes
each channel's room id to the emote cache once (a convenience file; failures are logged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, TypeVar

from chatpulse.emotes import EmoteCache, EmoteIndex
from chatpulse.events import ChatEvent, MessageEvent, Sentiment, UserNoticeEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sentiment.base import Analyzer, MessageLike
from chatpulse.sources.base import RawLine
from chatpulse.store.rows import StoreBatch, build_batch, is_stored_message, split_events, store_batch
from chatpulse.times import parse_time
from chatpulse.wire_views import MessageView, RecordView

log = logging.getLogger(__name__)

__all__ = [
    "HISTORY_AFTER_MS",
    "LIVE_SOURCES",
    "Annotator",
    "RoomIds",
    "is_scorable",
    "latency_reference_ms",
    "parse",
    "parse_lines",
    "score",
    "store_rows",
]

# --- parse ------------------------------------------------------------------------------------


def parse_lines(lines: Iterable[str], received_at: Iterable[int], source: str) -> list[ChatEvent]:
    """One event per line, in order (:func:`chatpulse.irc.twitch.parse_line`: never raises; a
    bad line becomes an ``error`` event carrying the raw text)."""
    return [parse_line(line, at, source) for line, at in zip(lines, received_at, strict=True)]


def parse(item: RawLine | ChatEvent, source: str) -> ChatEvent:
    """One source item as an event: a raw line parsed as :func:`parse_lines` does, a ready
    event (coverage, EventSub) as it is."""
    return parse_line(item.line, item.received_at, source) if isinstance(item, RawLine) else item


# --- annotate ---------------------------------------------------------------------------------

_Event = TypeVar("_Event", bound=ChatEvent)


class Annotator:
    """Adds third-party emotes (7TV, BTTV, FFZ) to chat messages and user notices.

    IRC tags mark only Twitch's own emotes; the others are found by name in the text
    (:class:`~chatpulse.emotes.EmoteIndex`). Done before scoring, so the lexicon, ``chat_emotes``
    and the charts all see them. An empty index costs nothing per event."""

    def __init__(self, emotes: EmoteIndex | None) -> None:
        self.emotes = emotes if emotes is not None and len(emotes) else None

    @classmethod
    def from_cache(cls, cache: EmoteCache | None) -> Annotator:
        """From the on-disk cache ``chatpulse emotes refresh`` fills; None or an unreadable
        cache means no third-party emotes (the cache logs why), never a failed start."""
        return cls(EmoteIndex.from_cache(cache) if cache is not None else None)

    def annotate_one(self, event: _Event) -> _Event:
        """:meth:`annotate` for one event (the ingest service's per-event path)."""
        if self.emotes is None or not isinstance(event, (MessageEvent, UserNoticeEvent)):
            return event
        return self.emotes.annotate(event)

    def annotate(self, events: list[ChatEvent]) -> list[ChatEvent]:
        """``events`` with emotes added to messages and user notices (same list when none)."""
        index = self.emotes
        if index is None:
            return events
        add = index.annotate
        return [add(e) if isinstance(e, (MessageEvent, UserNoticeEvent)) else e for e in events]


class RoomIds:
    """Records each channel's Twitch room id in the emote cache, once per channel and run, so
    ``chatpulse emotes refresh --channel NAME`` can fetch its sets without asking Twitch.
    Synthetic chat is left out: its made-up ids must not land in the user's cache."""

    def __init__(self, cache: EmoteCache | None, source: str) -> None:
        self.cache = cache if source != "synthetic" else None
        self.known: dict[str, str] = {}

    @staticmethod
    def seen_in(events: Iterable[ChatEvent]) -> dict[str, str]:
        """Channel login -> room id, from the messages and user notices in ``events`` (pure)."""
        return {
            e.channel: e.channel_id
            for e in events
            if isinstance(e, (MessageEvent, UserNoticeEvent)) and e.channel and e.channel_id
        }

    def new(self, seen: Mapping[str, str]) -> dict[str, str]:
        """The entries of ``seen`` not recorded yet (cheap: call it for every batch)."""
        return {c: r for c, r in seen.items() if self.known.get(c) != r}

    def record(self, rooms: Mapping[str, str]) -> None:
        """Write ``rooms`` (from :meth:`new`) to the cache: file I/O, keep it off event loops."""
        self.known.update(rooms)
        if self.cache is None:
            return
        for login, room_id in rooms.items():
            try:
                self.cache.remember_channel_id(login, room_id)
            except (OSError, ValueError) as exc:  # a convenience: never stop the chat for it
                log.warning("cannot record room id of %s in the emote cache: %s", login, exc)


# --- score ------------------------------------------------------------------------------------


def is_scorable(record: ChatEvent | RecordView) -> bool:
    """The one rule of what gets a sentiment verdict: chat messages, and user notices with text
    (a resub's message). Takes events and the wire views the Kafka stages read."""
    kind = record.kind
    return kind == "message" or (kind == "usernotice" and bool(getattr(record, "text", None)))


_Record = TypeVar("_Record", bound="ChatEvent | RecordView")


def score(records: Sequence[_Record], analyzer: Analyzer) -> dict[int, Sentiment]:
    """Verdicts for the scorable ``records``, keyed by their index: one ``analyze`` call for the
    batch. Raises what the analyzer raises for a batch it cannot take."""
    targets = [i for i, record in enumerate(records) if is_scorable(record)]
    if not targets:
        return {}
    texts: list[MessageLike] = [records[i] for i in targets]  # type: ignore[misc]  # scorable = has text
    return dict(zip(targets, analyzer.analyze(texts), strict=True))


# --- rows -------------------------------------------------------------------------------------


def store_rows(
    records: Sequence[ChatEvent | MessageView], verdicts: Mapping[int, Sentiment] | None = None
) -> StoreBatch:
    """The store's rows (``chat_messages``, ``chat_emotes``, ``chat_events``) for ``records``.

    ``records`` are events (embedded) or the Kafka sink's wire views of chat messages mixed with
    events; ``verdicts`` (from :func:`score`, keyed by index) are used instead of the records'
    own ``sentiment``, so the embedded run never copies an event to attach one. Raises
    ValueError for a value the schema cannot hold (e.g. a negative ``bits``)."""
    if verdicts is None:
        return store_batch(records)
    events: Sequence[ChatEvent] = records  # type: ignore[assignment]  # verdicts come with events
    messages, kept, skipped = split_events(events)
    sentiments = [verdicts.get(i) for i, e in enumerate(events) if is_stored_message(e)]
    return build_batch(messages, kept, sentiments, skipped)


# --- latency ----------------------------------------------------------------------------------

# Sources whose ``sent_at`` is "now" (the server's clock); a replay's is history.
LIVE_SOURCES: Final = frozenset({"irc", "eventsub", "synthetic"})
# A live message received this long after it was sent is history (a join's recent messages).
HISTORY_AFTER_MS: Final = 60_000


def latency_reference_ms(record: ChatEvent | RecordView) -> int:
    """Where a stored message's end-to-end latency (to being queryable) is timed from: its
    ``sent_at`` (the server's clock) for live chat; its ``received_at`` for replays (whose
    ``sent_at`` is the past) and for anything received more than a minute after it was sent (a
    join's recent messages). Events hold times as ms, views as ISO text. Chat a source flags as
    back-fill (``Source.in_history``) adds no sample at all (the embedded run knows the flag;
    it does not travel through Kafka)."""
    received = record.received_at
    received_ms = parse_time(received) if isinstance(received, str) else received
    sent = record.sent_at
    if sent is None or record.source not in LIVE_SOURCES:
        return received_ms
    sent_ms = parse_time(sent) if isinstance(sent, str) else sent
    return sent_ms if sent_ms >= received_ms - HISTORY_AFTER_MS else received_ms
