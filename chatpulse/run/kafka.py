"""``chatpulse run --kafka``: the ingest, enrich and sink services in one process, Kafka between.

::

    source --> IngestService (event loop) --> raw topic --> enrich consumer (thread)
        --> enriched topic --> sink consumer (thread) --> ClickHouseSink --> store
                                                          dashboard (event loop) reads it

The stages are the ones ``chatpulse ingest`` / ``enrich`` / ``sink`` run
(:mod:`chatpulse.services`), with the same producer spool, consumer groups
(``<kafka.group_prefix>-enrich`` / ``-sink``), dead letters and commits; here the sink and the
dashboard share one store, because a chDB folder belongs to one process.

Who calls what: ``chatpulse run`` builds a :class:`KafkaRun` (a bad or unreadable properties
file raises :class:`~chatpulse.errors.ConfigError` there, before any work), then supervises it
like the embedded :class:`~chatpulse.run.embedded.Pipeline`: :meth:`KafkaRun.run`,
:meth:`KafkaRun.stop`, :meth:`KafkaRun.snapshot`, :meth:`KafkaRun.status_json`.

Stopping (Ctrl-C, SIGTERM, ``--duration``, the end of a replay): the source closes and ingest
flushes its producer; then each consumer is stopped only once its group has committed up to the
end its input topic had when the stage before it finished, so on return everything received is
in the store. A broker that cannot be reached is not an error: events wait in the producer's
on-disk spool and are sent first at the next start; the run says so on stderr.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from confluent_kafka import Consumer, KafkaException, TopicPartition
from prometheus_client import CollectorRegistry
from rich.console import Console

from chatpulse.config import Settings
from chatpulse.errors import TransportError
from chatpulse.metrics import MergedMetrics, StageMetrics
from chatpulse.run.metrics import SourceCollector, StoreStatsCollector, folder_bytes
from chatpulse.run.status import RecentRate, StatusSnapshot
from chatpulse.sentiment import Analyzer, create_analyzer
from chatpulse.services.enrich import run_enrich
from chatpulse.services.ingest import IngestService
from chatpulse.services.runtime import ConsumerService
from chatpulse.services.sink import BATCH_ROWS, run_sink
from chatpulse.sources.base import Source
from chatpulse.store import ClickHouseSink, Sink, Store
from chatpulse.transport.kafka import client_config, ensure_topics, open_producer

log = logging.getLogger(__name__)

STARTUP_CHECK_S: Final = 5.0  # how long the first topic check may take before we spool instead
RECHECK_EVERY_S: Final = 2.0  # while the broker is away: how often to look for it again
INGEST_DRAIN_S: Final = 10.0  # at the end: how long ingest waits for an away broker to return
DRAIN_STALL_S: Final = 30.0  # a consumer that makes no progress this long is stopped anyway
SINK_MAX_AGE_S: Final = 1.0
ENRICH_BATCH: Final = 5000
STAGES: Final = ("enrich", "sink")


@dataclass
class _Consumer:
    """One consumer service on its thread."""

    stop: threading.Event
    task: asyncio.Task[ConsumerService | None] | None = None
    service: ConsumerService | None = None

    def out(self) -> int:
        """Events this stage passed on: produced (enrich) or made durable in the store (sink)."""
        return self.service.handler.passed_on if self.service is not None else 0


def histogram_quantiles(bounds: list[float], counts: list[float], qs: tuple[float, ...]) -> tuple[float, ...]:
    """Quantiles (seconds) from cumulative histogram bucket counts, interpolated within a bucket
    as Prometheus's ``histogram_quantile`` does (pure)."""
    total = counts[-1]
    out = []
    for q in qs:
        rank = q * total
        lower_bound, lower_count = 0.0, 0.0
        value = bounds[-2] if len(bounds) > 1 else 0.0
        for bound, count in zip(bounds, counts, strict=True):
            if count >= rank:
                if math.isinf(bound):
                    value = lower_bound  # the +Inf bucket: the highest finite bound is all we know
                else:
                    span = count - lower_count
                    value = lower_bound + (bound - lower_bound) * ((rank - lower_count) / span if span else 0)
                break
            lower_bound, lower_count = bound, count
        out.append(value)
    return tuple(out)


class LatencyWindow:
    """p50/p95 of a stage's latency histogram over the observations since the last call."""

    def __init__(self, registry: Callable[[], CollectorRegistry | None], stage: str) -> None:
        self._registry = registry
        self._stage = stage
        self._last: list[float] | None = None
        self.latest: tuple[float, float] | None = None  # milliseconds

    def update(self) -> tuple[float, float] | None:
        registry = self._registry()
        if registry is None:
            return self.latest
        bounds: list[float] = []
        counts: list[float] = []
        for family in registry.collect():
            for sample in family.samples:
                if sample.name.endswith("_bucket") and sample.labels.get("stage") == self._stage:
                    bounds.append(float(sample.labels["le"]))
                    counts.append(sample.value)
        if not counts:
            return self.latest
        previous = self._last or [0.0] * len(counts)
        window = [now - before for now, before in zip(counts, previous, strict=True)]
        self._last = counts
        if window[-1] > 0:
            p50, p95 = histogram_quantiles(bounds, window, (0.5, 0.95))
            self.latest = (p50 * 1000.0, p95 * 1000.0)
        return self.latest


class KafkaRun:
    """Source -> Kafka -> sentiment -> Kafka -> store, all in this process."""

    def __init__(
        self,
        settings: Settings,
        source: Source,
        store: Store,
        *,
        store_spool: Path | None = None,
        console: Console | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.console = console or Console(stderr=True)
        quiet_repeated_kafka_logs()
        self.config = client_config(settings.kafka)  # ConfigError: no servers, unreadable file
        self.analyzer: Analyzer = create_analyzer(settings.sentiment)  # ModelError before any work
        self.producer, self._lock = open_producer(settings.kafka, self.config, "ingest")
        self.ingest = IngestService.from_settings(settings, source, self.producer, INGEST_DRAIN_S)
        # A Sink, not only a ClickHouseSink: chatpulse run wraps it to see the batches (alerts).
        self.sink: Sink = ClickHouseSink(store, batch_size=BATCH_ROWS, max_age_s=SINK_MAX_AGE_S,
                                         spool_dir=store_spool)  # fmt: skip
        self.consumers = {stage: _Consumer(threading.Event()) for stage in STAGES}
        self.metrics = MergedMetrics()
        ingest_metrics = StageMetrics("ingest", self.ingest.snapshot)
        ingest_metrics.registry.register(SourceCollector("ingest", source))
        store_registry = CollectorRegistry()
        store_registry.register(StoreStatsCollector("sink", lambda: self.sink))
        self.metrics.add(ingest_metrics.registry)
        self.metrics.add(store_registry)
        self._latency = LatencyWindow(lambda: self._registry_of("sink"), "sink")
        self._stopping = asyncio.Event()
        self._stop_requested = False
        self.started = time.monotonic()
        self._recent_rate = RecentRate()

    # -- control ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask for a graceful stop: close the source, then drain every stage into the store."""
        self._stop_requested = True
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stop_requested

    async def run(self) -> None:
        """Run until the source ends or :meth:`stop`; raises what a stage could not recover from
        (StoreError when even the store's spool fails, ConfigError for a refused client setting)."""
        watcher = asyncio.create_task(self._close_source_on_stop(), name="stop-watcher")
        history = asyncio.create_task(self._release_history(), name="history")
        starter = asyncio.create_task(self._start_consumers_when_reachable(), name="kafka-check")
        failed: BaseException | None = None
        try:
            ingest = asyncio.create_task(self.ingest.run(), name="ingest")
            await self._until_done_or_failed(ingest)
            if not self.producer.degraded:
                # Everything was acknowledged, so Kafka answers: a short replay can end before
                # the consumers started, and they still have its records to take.
                await asyncio.wait([starter], timeout=DRAIN_STALL_S)
            starter.cancel()
            await self._drain()
        except BaseException as exc:
            failed = exc
            raise
        finally:
            watcher.cancel()
            history.cancel()
            starter.cancel()
            for consumer in self.consumers.values():
                consumer.stop.set()
            tasks = [c.task for c in self.consumers.values() if c.task is not None]
            results = await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(self.sink.close)  # flushes what a failed consumer left buffered
            self.producer.close()
            self._lock.release()
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors and failed is None:
                raise errors[0]

    async def _release_history(self) -> None:
        """Through Kafka the back-fill is not waited for: live chat may start as soon as the
        source has yielded it (see Source.history_stored)."""
        while self.source.in_history:
            await asyncio.sleep(0.05)
        self.source.history_stored()

    async def _close_source_on_stop(self) -> None:
        await self._stopping.wait()
        await self.ingest.stop()

    async def _until_done_or_failed(self, ingest: asyncio.Task[None]) -> None:
        """Wait for ingest to end; a consumer that dies meanwhile stops the run with its error."""
        while not ingest.done():
            running = [c.task for c in self.consumers.values() if c.task is not None]
            await asyncio.wait([ingest, *running], timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
            for task in running:
                if task.done() and not self._stop_requested:
                    self.stop()
                    await asyncio.gather(ingest, return_exceptions=True)
                    task.result()  # re-raises the consumer's error
                    raise TransportError("a Kafka consumer stopped unexpectedly")
        ingest.result()

    # -- start-up ---------------------------------------------------------------------------

    async def _start_consumers_when_reachable(self) -> None:
        """Check (create) the topics; start enrich and sink once Kafka answers. Until then
        ingest spools, and the consumers would only wait for the broker."""
        bootstrap = self.config.get("bootstrap.servers", "?")
        timeout = STARTUP_CHECK_S
        warned = False
        while True:
            try:
                await asyncio.to_thread(ensure_topics, self.config, self.settings.kafka, timeout)
                break
            except TransportError as exc:
                if not warned:
                    self.producer.mark_unreachable(str(exc))
                    self.console.print(
                        f"[yellow]Kafka at {bootstrap} is unreachable: events go to the spool "
                        f"{self.producer.spool.folder} and are sent when it returns[/yellow]"
                    )
                    warned = True
                timeout = RECHECK_EVERY_S
                await asyncio.sleep(RECHECK_EVERY_S)
        if warned:
            self.console.print(f"[green]Kafka at {bootstrap} answers: starting enrich and sink[/green]")
        for stage in STAGES:
            consumer = self.consumers[stage]
            consumer.task = asyncio.create_task(asyncio.to_thread(self._consume, stage), name=stage)

    def _consume(self, stage: str) -> ConsumerService | None:
        """One consumer service, as ``chatpulse enrich`` / ``sink`` run it, until its stop event
        (runs on its own thread). The sink writes through this run's sink: the dashboard reads
        the same store, and a chDB folder belongs to one process."""
        consumer = self.consumers[stage]

        def on_ready(service: ConsumerService) -> None:
            consumer.service = service
            self.metrics.add(service.metrics.registry)

        # run draws one status line for all stages (status_interval_s=inf)
        if stage == "enrich":
            return run_enrich(self.settings, consumer.stop, analyzer=self.analyzer, batch_size=ENRICH_BATCH,
                              commit_interval_s=SINK_MAX_AGE_S, status_interval_s=math.inf,
                              on_ready=on_ready)  # fmt: skip
        return run_sink(self.settings, consumer.stop, sink=self.sink, max_age_s=SINK_MAX_AGE_S,
                        status_interval_s=math.inf, on_ready=on_ready)  # fmt: skip

    # -- draining ---------------------------------------------------------------------------

    async def _drain(self) -> None:
        """Stop enrich, then sink, each once it has taken everything its upstream produced."""
        if self.producer.degraded or any(c.task is None for c in self.consumers.values()):
            self.console.print(
                f"[yellow]Kafka is unreachable: {self.producer.spool.size_bytes / 2**20:.1f} MiB of "
                f"events wait in the spool {self.producer.spool.folder}; the next run sends them "
                "first[/yellow]"
            )
            return
        topics = {"enrich": self.settings.kafka.topic_raw, "sink": self.settings.kafka.topic_enriched}
        for stage in STAGES:
            consumer = self.consumers[stage]
            task = consumer.task
            assert task is not None  # noqa: S101 - checked above
            group = f"{self.settings.kafka.group_prefix}-{stage}"
            alive = _alive(task)
            left = await asyncio.to_thread(
                wait_until_committed, self.config.to_dict(), group, topics[stage], alive
            )
            if left:
                self.console.print(
                    f"[yellow]{stage}: {left if left > 0 else 'some'} records of {topics[stage]} "
                    "were not taken in time; they stay in Kafka for the next run[/yellow]"
                )
            consumer.stop.set()
            await task  # its final commit (and, for enrich, the producer's flush)

    # -- status -----------------------------------------------------------------------------

    def _registry_of(self, stage: str) -> CollectorRegistry | None:
        service = self.consumers[stage].service
        return service.metrics.registry if service is not None else None

    def _stats(self, stage: str) -> Any:
        service = self.consumers[stage].service
        return service.consumer.stats if service is not None else None

    def _stage_out(self) -> tuple[int, int]:
        return self.consumers["enrich"].out(), self.consumers["sink"].out()

    def snapshot(self, extra: str = "") -> StatusSnapshot:
        enriched, stored = self._stage_out()
        errors: dict[str, int] = {"parse": self.ingest.parse_errors, "store": self.sink.stats.failed_batches}
        lags = []
        for stage in STAGES:
            stats = self._stats(stage)
            if stats is not None:
                errors["dead letters" if stage == "enrich" else "sink dead letters"] = stats.dead_letters
                for kind, count in stats.errors.items():
                    errors[f"{stage} {kind}"] = count
                task = self.consumers[stage].task
                if stats.lag is not None and task is not None and not task.done():  # stale once it ended
                    lags.append(f"{stage} lag {stats.lag:,}")
        if self.producer.degraded:
            errors["kafka spooled"] = self.producer.stats.spooled
        note = " │ ".join(lags + ([extra] if extra else []))
        return StatusSnapshot(
            totals={"read": self.ingest.received, "enriched": enriched, "stored": stored},
            errors=errors,
            latency_ms=self._latency.update(),
            extra=note,
        )

    def status_json(self) -> dict[str, Any]:
        """The run's state for the dashboard's ``/api/status`` (the embedded run's keys)."""
        _, stored = self._stage_out()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        enrich, sink = self._stats("enrich"), self._stats("sink")
        errors = self.ingest.parse_errors + self.sink.stats.failed_batches
        errors += sum(sum(s.errors.values()) + s.dead_letters for s in (enrich, sink) if s is not None)
        return {
            "source": self.source.name,
            "transport": "kafka",
            "elapsed_s": round(elapsed, 1),
            "lines": self.ingest.received,
            "messages": self.sink.stats.rows_written,
            "stored": stored,
            "rate_per_s": round(self._recent_rate(stored), 1),
            "errors": errors,
            "spool_pending": self.sink.stats.spool_pending,
            "kafka_spool_bytes": self.producer.spool.size_bytes,
            "latency_ms": self._latency.latest,
            "queues": {},
            "lag": {
                stage: (s.lag if s is not None else None) for stage, s in (("enrich", enrich), ("sink", sink))
            },
        }

    def health(self) -> tuple[bool, str]:
        """``/healthz``: 503 while Kafka is away (spooling) or the store fails."""
        if self.producer.degraded:
            return False, "kafka unreachable: spooling"
        for consumer in self.consumers.values():
            if consumer.service is not None and consumer.service.producer.degraded:
                return False, "kafka unreachable: spooling"
        if self.sink.stats.spool_pending:
            return False, f"store failing: {self.sink.stats.spool_pending} batches wait in the spool"
        return True, "stopping: draining" if self.stopping else "ok"

    def spool_note(self) -> str | None:
        """A closing line when events are left in a spool (nothing is lost; they go next run)."""
        kafka = self.producer.spool.size_bytes
        if kafka:
            return f"{kafka / 2**20:.1f} MiB of events wait in the Kafka spool {self.producer.spool.folder}"
        store = folder_bytes(self.sink.spool_dir) if self.sink.stats.spool_pending else 0
        if store:
            return f"{self.sink.stats.spool_pending} batches wait in the store spool {self.sink.spool_dir}"
        return None


class RepeatFilter(logging.Filter):
    """Lets one log line through per ``window_s`` for each message shape (digits ignored).

    While a broker is away librdkafka reports every reconnect attempt, about 20 lines a second;
    the run's own one-line notice says what is going on, so repeats add nothing but noise.
    """

    def __init__(self, window_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window_s = window_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        shape = re.sub(r"\d+", "#", f"{record.name}:{record.getMessage()}")
        now = self._clock()
        last = self._last.get(shape)
        if last is not None and now - last < self.window_s:
            self.suppressed += 1
            return False
        if len(self._last) > 1000:  # bounded: forget old shapes
            self._last.clear()
        self._last[shape] = now
        return True


def quiet_repeated_kafka_logs(window_s: float = 30.0) -> RepeatFilter:
    """Install :class:`RepeatFilter` on librdkafka's loggers (filters do not inherit)."""
    repeat = RepeatFilter(window_s)
    for name in ("librdkafka.producer", "librdkafka.consumer", "chatpulse.transport.producer"):
        logging.getLogger(name).addFilter(repeat)
    return repeat


def _alive(task: asyncio.Task[Any]) -> Callable[[], bool]:
    return lambda: not task.done()


def wait_until_committed(
    config: dict[str, str], group: str, topic: str, alive: Callable[[], bool], stall_s: float = DRAIN_STALL_S
) -> int:
    """Block until consumer group ``group`` has committed ``topic`` up to the end it has now.

    Returns 0 when it did, else how many records it is still behind (-1: unknown) once it made
    no progress for ``stall_s`` or ``alive()`` turned False. A probe consumer that never
    subscribes reads the committed offsets, so the group is not rebalanced.
    """
    probe = Consumer({**config, "group.id": group, "enable.auto.commit": "false", "logger": log})
    try:
        metadata = probe.list_topics(topic, timeout=10.0)
        partitions = [TopicPartition(topic, p) for p in metadata.topics[topic].partitions]
        ends = {
            tp.partition: probe.get_watermark_offsets(tp, timeout=10.0, cached=False) for tp in partitions
        }
        best: int | None = None
        progress_at = time.monotonic()
        while True:
            committed = probe.committed(partitions, timeout=10.0)
            left = 0
            for tp in committed:
                low, high = ends[tp.partition]
                left += max(0, high - max(tp.offset, low))
            if left == 0:
                return 0
            if best is None or left < best:
                best, progress_at = left, time.monotonic()
            elif time.monotonic() - progress_at > stall_s or not alive():
                return left
            time.sleep(0.2)
    except KafkaException as exc:
        log.warning("cannot read the committed offsets of %s: %s", group, exc)
        return -1
    finally:
        probe.close()
