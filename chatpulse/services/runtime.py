"""What every Kafka service shares: stop signals, the status line, metrics, consumer wiring.

Who calls what: :func:`chatpulse.services.enrich.run_enrich` and
:func:`chatpulse.services.sink.run_sink` build their handler and call
:func:`run_consumer_service`; :func:`chatpulse.services.ingest.run_ingest` uses
:class:`StatusLine` and :func:`serve_metrics` directly. The CLI commands, ``run --kafka``, tests
and benchmarks call those three functions (with their own ``stop`` event instead of signals).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from chatpulse.config import Settings
from chatpulse.errors import TransportError
from chatpulse.metrics import Health, MetricsServer, StageMetrics, StageSnapshot
from chatpulse.run.status import StatusLine, stage_status
from chatpulse.transport.kafka import (
    ClientConfig,
    EventConsumer,
    EventProducer,
    StageHandler,
    client_config,
    ensure_topics,
    open_producer,
)

log = logging.getLogger(__name__)

STATUS_INTERVAL_S: Final = 5.0


def latencies_s(references_ms: Iterable[int], now_ms: int) -> Iterator[float]:
    """Seconds from each latency reference (:func:`chatpulse.stages.latency_reference_ms`) to now."""
    return ((now_ms - ref) / 1000.0 for ref in references_ms)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (the service drains, flushes and commits); a second SIGINT
    exits at once. Only on the main thread; elsewhere (tests) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.warning("%s: stopping (drain, flush, commit); Ctrl-C again to exit at once",
                    signal.Signals(signum).name)  # fmt: skip
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve_metrics(metrics: StageMetrics, host: str, port: int | None, health: Health) -> MetricsServer | None:
    """Start ``/metrics`` + ``/healthz`` on ``host:port``; None when ``port`` is None."""
    if port is None:
        return None
    server = MetricsServer(metrics, host=host, port=port, health=health).start()
    log.info("metrics on %s/metrics, health on %s/healthz", server.url, server.url)
    return server


def wait_for_topics(config: ClientConfig, settings: Settings, stop: threading.Event) -> None:
    """:func:`ensure_topics`, retried with capped backoff until it succeeds or ``stop`` is set."""
    delay = 1.0
    while not stop.is_set():
        try:
            ensure_topics(config, settings.kafka)
            return
        except TransportError as exc:
            log.warning("%s; retrying in %.0f s", exc, delay)
            stop.wait(delay)
            delay = min(delay * 2, 30.0)


@dataclass
class ConsumerService:
    """The parts of a running consumer service, for the handler factory and for tests."""

    consumer: EventConsumer
    producer: EventProducer
    metrics: StageMetrics
    handler: StageHandler[Any]


HandlerFactory = Callable[[EventProducer, StageMetrics], StageHandler[Any]]


def run_consumer_service(
    stage: str,
    settings: Settings,
    *,
    topic_in: str,
    make_handler: HandlerFactory,
    stop: threading.Event,
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
    batch_size: int = 5000,
    commit_interval_s: float = 1.0,
    status_interval_s: float = STATUS_INTERVAL_S,
    on_ready: Callable[[ConsumerService], None] | None = None,
) -> ConsumerService | None:
    """Consume ``topic_in`` in group ``<kafka.group_prefix>-<stage>`` until ``stop`` is set.

    The producer (output records and dead letters) spools under ``kafka.spool_dir``. On return
    the handler is durable, offsets are committed, the producer is flushed and closed.
    Returns None when stopped before the topics could be checked.
    """
    config = client_config(settings.kafka)
    wait_for_topics(config, settings, stop)
    if stop.is_set():
        return None
    producer, lock = open_producer(settings.kafka, config, stage)
    consumer_ref: list[EventConsumer] = []
    handler_ref: list[StageHandler[Any]] = []

    def snapshot() -> StageSnapshot:
        stats = consumer_ref[0].stats if consumer_ref else None
        errors = dict(stats.errors) if stats else {}
        if producer.stats.rejected:
            errors["rejected"] = producer.stats.rejected
        return StageSnapshot(
            events_in=stats.consumed if stats else 0,
            events_out=handler_ref[0].passed_on if handler_ref else 0,
            errors=errors,
            dead_letters=stats.dead_letters if stats else 0,
            consumer_lag=stats.lag if stats else None,
            spool_bytes=producer.spool.size_bytes,
            spooled=producer.stats.spooled,
        )

    metrics = StageMetrics(stage, snapshot)
    try:
        handler = make_handler(producer, metrics)
        handler_ref.append(handler)
        consumer = EventConsumer(
            config,
            group_id=f"{settings.kafka.group_prefix}-{stage}",
            topic=topic_in,
            handler=handler,
            dead_letters=producer,
            deadletter_topic=settings.kafka.topic_deadletter,
            stage=stage,
            batch_size=batch_size,
            commit_interval_s=commit_interval_s,
        )
        consumer_ref.append(consumer)
        service = ConsumerService(consumer, producer, metrics, handler)

        def health() -> tuple[bool, str]:
            if producer.degraded:
                return False, "kafka unreachable: spooling"
            return True, "ok"

        server = serve_metrics(metrics, metrics_host, metrics_port, health)
        status = StatusLine(lambda: stage_status(stage, snapshot()), plain_every_s=status_interval_s)
        ticker = threading.Thread(target=_tick_until, args=(status, stop), name="status", daemon=True)
        ticker.start()
        if on_ready is not None:
            on_ready(service)
        try:
            consumer.run(stop)
        finally:
            stop.set()
            ticker.join(timeout=2)
            status.final()
            if server is not None:
                server.stop()
        return service
    finally:
        producer.close()
        lock.release()


def _tick_until(status: StatusLine, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        status.tick()
