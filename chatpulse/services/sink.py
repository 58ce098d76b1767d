"""The sink service: ``kafka.topic_enriched`` -> ClickHouse through :class:`ClickHouseSink`.

Events are buffered by the sink (``batch_size`` / ``max_age_s``); offsets are committed only
after :meth:`ClickHouseSink.flush` returned (everything stored, or in the sink's own on-disk
spool). Replays after a crash are harmless: the sink drops events the store already holds.
End-to-end latency is observed when the flush that made a message queryable returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import msgspec
import pyarrow as pa

from chatpulse.config import Settings
from chatpulse.errors import WireFormatError
from chatpulse.events import ChatEvent
from chatpulse.metrics import StageMetrics
from chatpulse.privacy.filter import StoredMessageGuard
from chatpulse.services.gc_tuning import with_gc_tuning
from chatpulse.services.runtime import STATUS_INTERVAL_S, ConsumerService, latencies_s, run_consumer_service
from chatpulse.sources.base import now_ms
from chatpulse.stages import latency_reference_ms, store_rows
from chatpulse.store import Sink, open_store
from chatpulse.store.sink import ClickHouseSink
from chatpulse.transport.kafka import EventProducer
from chatpulse.transport.spool import lock_spool_folder
from chatpulse.wire import loads
from chatpulse.wire_views import MessageView, decode_view

# Each insert batch costs chDB about 0.1 s of CPU besides its rows (statements, new parts and
# their merges, materialized views, moderation lookups). Measured with a chDB sink fed 200k
# xqcow events: 24 us of CPU per event in 10k-row batches, 16 us in 30k-row ones. So under load
# the sink writes all that arrived within ``max_age_s`` in one batch, up to BATCH_ROWS; polls
# decode at most POLL_RECORDS records at a time.
BATCH_ROWS: Final = 100_000
POLL_RECORDS: Final = 10_000


# Latency is a distribution: a few hundred evenly spread samples per batch give the quantiles at
# a fraction of the cost of one locked histogram update per event; the cap bounds memory.
LATENCY_SAMPLES_PER_BATCH: Final = 256
LATENCY_SAMPLES: Final = 20_000  # per commit interval


_MESSAGES: Final = msgspec.json.Decoder(MessageView)


def decode_stored(value: bytes) -> MessageView | ChatEvent:
    """An enriched record as the sink reads it: a chat message the store keeps as a
    :class:`~chatpulse.wire_views.MessageView`, anything else as a full event. Raises
    WireFormatError for a record that is no event."""
    record = decode_view(_MESSAGES, value)
    if isinstance(record, MessageView) and not (record.kind == "message" and record.id and record.channel):
        return loads(value)  # not a chat message the store keeps as it is: the event decides
    return record


class SinkStage:
    """:class:`~chatpulse.transport.consumer.StageHandler` that stores events.

    Chat messages are read as :class:`~chatpulse.wire_views.MessageView` (what the store keeps
    of them) and laid out as rows without becoming events; other records are decoded in full."""

    def __init__(self, sink: Sink, metrics: StageMetrics, guard: StoredMessageGuard | None = None) -> None:
        """``guard``: drops chat messages of users on the opt-out list that were in the topic
        before they were added (ingest withholds the rest)."""
        self.sink = sink
        self.guard = guard
        self.metrics = metrics
        self.stored = 0  # events made durable (stored or spooled, duplicates included)
        self._taken = 0
        self._references: list[int] = []

    @property
    def passed_on(self) -> int:
        return self.stored

    def decode(self, value: bytes) -> MessageView | ChatEvent:
        return decode_stored(value)

    def process(self, records: Sequence[MessageView | ChatEvent], values: Sequence[bytes]) -> None:
        if self.guard is not None:
            records = self.guard.keep(records)
        try:
            batch = store_rows(records)
            references: list[int] = []
            if len(self._references) < LATENCY_SAMPLES:
                step = max(1, len(records) // LATENCY_SAMPLES_PER_BATCH)
                references = [latency_reference_ms(r) for r in records[::step]]
        except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
            # A record's fault, not the store's: the consumer isolates and dead-letters it.
            raise WireFormatError(f"a record the store cannot hold: {exc}") from exc
        self.sink.add_batch(batch)  # last: a batch is buffered whole or not at all
        self._taken += len(records)
        self._references.extend(references)

    def make_durable(self) -> bool:
        self.sink.flush()  # raises StoreError when even the spool cannot be written
        self.stored += self._taken
        self._taken = 0
        self.metrics.observe_latency(latencies_s(self._references, now_ms()))
        self._references.clear()
        return True

    def idle(self) -> None:
        self.sink.poll()


def run_sink(
    settings: Settings,
    stop: threading.Event,
    *,
    batch_size: int = BATCH_ROWS,
    max_age_s: float = 1.0,
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
    status_interval_s: float = STATUS_INTERVAL_S,
    on_ready: Callable[[ConsumerService], None] | None = None,
    tune_gc: bool = False,
    sink: Sink | None = None,
) -> ConsumerService | None:
    """The sink service until ``stop`` is set: ``chatpulse sink``, ``run --kafka``, tests and
    benchmarks all start it here.

    ``sink``: write through this sink (``run --kafka``, whose dashboard reads the same chDB
    folder: a folder belongs to one process) instead of opening ``settings.store``; it is then
    left open for its owner. ``tune_gc``: for a process that only runs this service (see
    :mod:`chatpulse.services.gc_tuning`).
    """
    if sink is not None:
        return _run_sink_stage(settings, stop, sink, max_age_s, batch_size, metrics_host, metrics_port,
                               status_interval_s, on_ready, tune_gc)  # fmt: skip
    store = open_store(settings.store)
    # The store spool (failed inserts) lives beside the Kafka spool, one locked folder per worker.
    store_spool = lock_spool_folder(Path(settings.kafka.spool_dir), "sink-store")
    stages: list[ClickHouseSink] = []
    try:
        store.migrate()

        folder = store_spool.folder
        owned = ClickHouseSink(store, batch_size=batch_size, max_age_s=max_age_s, spool_dir=folder)
        stages.append(owned)
        return _run_sink_stage(settings, stop, owned, max_age_s, batch_size, metrics_host, metrics_port,
                               status_interval_s, on_ready, tune_gc)  # fmt: skip
    finally:
        for owned_sink in stages:
            owned_sink.close()
        store_spool.release()
        store.close()


def _run_sink_stage(
    settings: Settings,
    stop: threading.Event,
    sink: Sink,
    max_age_s: float,
    batch_size: int,
    metrics_host: str,
    metrics_port: int | None,
    status_interval_s: float,
    on_ready: Callable[[ConsumerService], None] | None,
    tune_gc: bool,
) -> ConsumerService | None:
    def make_handler(producer: EventProducer, metrics: StageMetrics) -> SinkStage:
        return SinkStage(sink, metrics, StoredMessageGuard.from_settings(settings.privacy))

    return run_consumer_service(
        "sink",
        settings,
        topic_in=settings.kafka.topic_enriched,
        make_handler=make_handler,
        stop=stop,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
        on_ready=with_gc_tuning(on_ready) if tune_gc else on_ready,
        batch_size=min(batch_size, POLL_RECORDS),
        commit_interval_s=max_age_s,
        status_interval_s=status_interval_s,
    )
