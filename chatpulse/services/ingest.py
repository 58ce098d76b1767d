"""The ingest service: a source -> parse -> ``kafka.topic_raw`` (key = channel).

:meth:`IngestService.run` reads the source on the event loop, parses raw lines
(:func:`chatpulse.irc.twitch.parse_line`, never raises) and hands each event to the
:class:`~chatpulse.transport.producer.EventProducer`. When the producer cannot take an event
(its queue is full, or the broker is away and the spool is full) ``run`` awaits, so the source is
read more slowly: back-pressure, never a dropped event. A background task polls the producer
for delivery reports and broker recovery. :meth:`IngestService.stop` closes the source; ``run``
then waits (up to ``drain_timeout_s``) for a spool to be sent, flushes the producer and
returns.
"""

from __future__ import annotations

import asyncio
import logging

from chatpulse.emotes import EmoteCache, EmoteIndex
from chatpulse.events import MessageEvent, UserNoticeEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.metrics import StageSnapshot
from chatpulse.sources.base import RawLine, Source
from chatpulse.transport.kafka import EventProducer, event_record

log = logging.getLogger(__name__)


class IngestService:
    """Source -> raw topic."""

    def __init__(
        self,
        source: Source,
        producer: EventProducer,
        topic: str,
        drain_timeout_s: float = 60.0,
        emotes: EmoteIndex | None = None,
        emote_cache: EmoteCache | None = None,
    ) -> None:
        """``emotes``: third-party emotes (7TV/BTTV/FFZ) added to each event's spans after
        parsing, so every later stage (sentiment, store, charts) sees them. ``emote_cache``:
        where each live channel's room id is recorded once, so ``chatpulse emotes refresh
        --channel NAME`` knows the id the providers key channel sets by."""
        self.source = source
        self.emotes = emotes
        self.emote_cache = emote_cache if source.name != "synthetic" else None  # made-up ids
        self._rooms_seen: set[str] = set()
        self.drain_timeout_s = drain_timeout_s  # at the end: how long to wait for the broker to return
        self.producer = producer
        self.topic = topic
        self.received = 0
        self.parse_errors = 0

    def snapshot(self) -> StageSnapshot:
        stats = self.producer.stats
        errors = {"parse": self.parse_errors} if self.parse_errors else {}
        if stats.rejected:
            errors["rejected"] = stats.rejected
        return StageSnapshot(
            events_in=self.received,
            events_out=self.producer.delivered(),
            errors=errors,
            spool_bytes=self.producer.spool.size_bytes,
            spooled=stats.spooled,
        )

    async def run(self) -> None:
        poller = asyncio.create_task(self._poll_forever())
        try:
            async for item in self.source.stream():
                if isinstance(item, RawLine):
                    event = parse_line(item.line, item.received_at, self.source.name)
                else:
                    event = item
                if isinstance(event, (MessageEvent, UserNoticeEvent)):
                    if self.emotes is not None:
                        event = self.emotes.annotate(event)
                    if self.emote_cache is not None and event.channel not in self._rooms_seen:
                        self._remember_room(event)
                self.received += 1
                if event.kind == "error":
                    self.parse_errors += 1
                record = event_record(self.topic, event)
                if not self.producer.send(record):
                    await self.producer.send_async(record)
                if self.received % 256 == 0:
                    await asyncio.sleep(0)  # a source that never waits must not starve the poller
        finally:
            poller.cancel()
            if self.producer.degraded and not self.producer.drain(self.drain_timeout_s):
                log.warning("ingest: kafka still unreachable after %.0f s; %.1f MiB stay in the spool %s "
                            "and are sent first at the next start", self.drain_timeout_s,
                            self.producer.spool.size_bytes / 2**20, self.producer.spool.folder)  # fmt: skip
            while not self.producer.flush(5.0):
                log.warning("ingest: waiting for kafka to acknowledge or spool %d records",
                            self.producer.in_flight())  # fmt: skip

    def _remember_room(self, event: MessageEvent | UserNoticeEvent) -> None:
        if event.channel is None or event.channel_id is None or self.emote_cache is None:
            return
        self._rooms_seen.add(event.channel)
        try:
            self.emote_cache.remember_channel_id(event.channel, event.channel_id)
        except (OSError, ValueError) as exc:  # the cache is a convenience: never stop ingest for it
            log.warning("cannot record room id of %s in the emote cache: %s", event.channel, exc)

    async def stop(self) -> None:
        await self.source.close()

    async def _poll_forever(self) -> None:
        while True:
            self.producer.poll(0)
            await asyncio.sleep(0.05)
