"""The ingest service: a source -> parse -> ``kafka.topic_raw`` (key = channel).

:meth:`IngestService.run` reads the source on the event loop, parses raw lines and adds
third-party emotes (:mod:`chatpulse.stages`, as the embedded run does) and hands each event to the
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
import threading

from chatpulse.config import Settings
from chatpulse.emotes import EmoteCache, EmoteIndex
from chatpulse.errors import TransportError
from chatpulse.metrics import StageMetrics, StageSnapshot
from chatpulse.privacy.filter import PrivacyFilter
from chatpulse.run.status import StatusLine, stage_status
from chatpulse.services.runtime import STATUS_INTERVAL_S, serve_metrics
from chatpulse.sources.base import Source
from chatpulse.stages import Annotator, RoomIds, parse
from chatpulse.transport.kafka import EventProducer, client_config, ensure_topics, event_record, open_producer

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
        privacy: PrivacyFilter | None = None,
    ) -> None:
        """``emotes``: third-party emotes (7TV/BTTV/FFZ) added to each event's spans after
        parsing, so every later stage (sentiment, store, charts) sees them. ``emote_cache``:
        where each live channel's room id is recorded once, so ``chatpulse emotes refresh
        --channel NAME`` knows the id the providers key channel sets by. ``privacy``: the
        opt-out list and pseudonyms, applied right after parsing, so nothing an opted-out user
        wrote reaches Kafka."""
        self.source = source
        self.privacy = privacy
        self.annotator = Annotator(emotes)
        self.room_ids = RoomIds(emote_cache, source.name)
        self.drain_timeout_s = drain_timeout_s  # at the end: how long to wait for the broker to return
        self.producer = producer
        self.topic = topic
        self.received = 0
        self.parse_errors = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, source: Source, producer: EventProducer, drain_timeout_s: float = 60.0
    ) -> IngestService:
        """The service ``chatpulse ingest`` and ``run --kafka`` run: the raw topic and the
        third-party emote cache (``emotes.cache_dir``) come from ``settings``."""
        cache = EmoteCache(settings.emotes.cache_folder())
        return cls(source, producer, settings.kafka.topic_raw, drain_timeout_s,
                   emotes=EmoteIndex.from_cache(cache), emote_cache=cache,
                   privacy=PrivacyFilter.from_settings(settings.privacy))  # fmt: skip

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
            name = self.source.name
            annotate, room_ids, privacy = self.annotator.annotate_one, self.room_ids, self.privacy
            async for item in self.source.stream():
                event = parse(item, name)
                if privacy is not None:
                    kept = privacy.apply_one(event)
                    if kept is None:  # an opted-out user's: counted by the filter, never sent
                        self.received += 1
                        continue
                    event = kept
                event = annotate(event)
                if event.channel_id and event.channel and event.channel not in room_ids.known:
                    new = room_ids.new(RoomIds.seen_in((event,)))
                    if new:
                        room_ids.record(new)  # once per channel and run
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
            if self.privacy is not None and self.privacy.withheld:
                log.info("ingest: %d messages of opted-out users withheld", self.privacy.withheld)
            if self.producer.degraded and not self.producer.drain(self.drain_timeout_s):
                log.warning("ingest: kafka still unreachable after %.0f s; %.1f MiB stay in the spool %s "
                            "and are sent first at the next start", self.drain_timeout_s,
                            self.producer.spool.size_bytes / 2**20, self.producer.spool.folder)  # fmt: skip
            while not self.producer.flush(5.0):
                log.warning("ingest: waiting for kafka to acknowledge or spool %d records",
                            self.producer.in_flight())  # fmt: skip

    async def stop(self) -> None:
        await self.source.close()

    async def _poll_forever(self) -> None:
        while True:
            self.producer.poll(0)
            await asyncio.sleep(0.05)


async def run_ingest(
    settings: Settings,
    source: Source,
    duration: float | None = None,
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
    stop: threading.Event | None = None,
) -> IngestService:
    """Run :class:`IngestService` until the source ends, ``duration`` passes or ``stop`` is set
    (``chatpulse ingest`` sets it on SIGINT/SIGTERM through
    :func:`~chatpulse.services.runtime.stop_on_signals`, as ``enrich`` and ``sink`` do)."""
    config = client_config(settings.kafka)
    producer, lock = open_producer(settings.kafka, config, "ingest")
    try:
        try:
            ensure_topics(config, settings.kafka, timeout_s=10.0)
        except TransportError as exc:
            producer.mark_unreachable(str(exc))
        service = IngestService.from_settings(settings, source, producer)
        metrics = StageMetrics("ingest", service.snapshot)
        server = serve_metrics(
            metrics,
            metrics_host,
            metrics_port,
            lambda: (
                not producer.degraded,
                "ok" if not producer.degraded else "kafka unreachable: spooling",
            ),  # fmt: skip
        )
        status = StatusLine(
            lambda: stage_status("ingest", service.snapshot()), plain_every_s=STATUS_INTERVAL_S
        )
        loop = asyncio.get_running_loop()
        timer = loop.call_later(duration, lambda: asyncio.ensure_future(service.stop())) if duration else None
        watcher = asyncio.create_task(_stop_when_set(stop, service)) if stop is not None else None
        ticker = asyncio.create_task(_tick(status))
        try:
            await service.run()
        finally:
            ticker.cancel()
            if timer is not None:
                timer.cancel()
            if watcher is not None:
                watcher.cancel()
            status.final()
            if server is not None:
                server.stop()
        return service
    finally:
        producer.close()
        lock.release()


async def _tick(status: StatusLine) -> None:
    while True:
        await asyncio.sleep(0.5)
        status.tick()


async def _stop_when_set(stop: threading.Event, service: IngestService) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.1)
    await service.stop()
