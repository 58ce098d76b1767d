"""What every Kafka service shares: stop signals, the status line, metrics, consumer wiring.

Who calls what: the CLI commands (``chatpulse enrich`` / ``sink``) build a handler and call
:func:`run_consumer_service`; ``chatpulse ingest`` uses :class:`StatusLine` and
:func:`serve_metrics` directly. Tests and benchmarks call the same functions with their own
``stop`` event instead of signals.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, TextIO

from chatpulse.config import Settings
from chatpulse.errors import TransportError
from chatpulse.events import ChatEvent, parse_time
from chatpulse.metrics import Health, MetricsServer, StageMetrics, StageSnapshot
from chatpulse.transport.kafka import (
    ClientConfig,
    EventConsumer,
    EventProducer,
    StageHandler,
    client_config,
    ensure_topics,
    open_producer,
)
from chatpulse.wire_views import RecordView

log = logging.getLogger(__name__)

STATUS_INTERVAL_S: Final = 5.0


def latency_reference_ms(record: ChatEvent | RecordView) -> int:
    """Where a record's end-to-end latency starts: the server's ``sent_at`` for live chat, the
    local ``received_at`` for replays (whose ``sent_at`` is history). Events hold times as ms,
    wire views as ISO strings."""
    sent_at = record.sent_at
    reference = sent_at if sent_at is not None and record.source != "replay" else record.received_at
    return parse_time(reference) if isinstance(reference, str) else reference


def latencies_s(references_ms: Iterable[int], now_ms: int) -> Iterator[float]:
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


def _compact(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}"


def format_status(stage: str, snap: StageSnapshot, rate_in: float, rate_out: float, elapsed_s: float) -> str:
    """One plain status line (pure)."""
    errors = sum(snap.errors.values())
    parts = [
        f"{stage} {elapsed_s:,.0f}s",
        f"in {snap.events_in:,} ({_compact(rate_in)}/s)",
        f"out {snap.events_out:,} ({_compact(rate_out)}/s)",
    ]
    if snap.consumer_lag is not None:
        parts.append(f"lag {snap.consumer_lag:,}")
    parts.append(f"dead letters {snap.dead_letters:,}")
    parts.append(f"errors {errors:,}")
    parts.append(f"spool {snap.spool_bytes / 2**20:.1f} MiB")
    return " │ ".join(parts)


class StatusLine:
    """Prints a status line on stderr every ``interval_s`` when :meth:`tick` is called."""

    def __init__(
        self,
        stage: str,
        snapshot: Callable[[], StageSnapshot],
        interval_s: float = STATUS_INTERVAL_S,
        stream: TextIO | None = None,
    ) -> None:
        self.stage = stage
        self._snapshot = snapshot
        self._interval_s = interval_s
        self._stream = stream or sys.stderr
        self._started = self._last = time.monotonic()
        self._last_in = self._last_out = 0

    def tick(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < self._interval_s:
            return
        snap = self._snapshot()
        span = max(now - self._last, 1e-9)
        if final:
            span = max(now - self._started, 1e-9)
            rate_in, rate_out = snap.events_in / span, snap.events_out / span
        else:
            rate_in = (snap.events_in - self._last_in) / span
            rate_out = (snap.events_out - self._last_out) / span
        line = format_status(self.stage, snap, rate_in, rate_out, now - self._started)
        print(("done: " if final else "") + line, file=self._stream, flush=True)
        self._last, self._last_in, self._last_out = now, snap.events_in, snap.events_out


def serve_metrics(metrics: StageMetrics, host: str, port: int | None, health: Health) -> MetricsServer | None:
    """Start ``/metrics`` + ``/healthz`` on ``host:port``; None when ``port`` is None."""
    if port is None:
        return None
    server = MetricsServer(metrics, host=host, port=port, health=health).start()
    log.warning("metrics on %s/metrics, health on %s/healthz", server.url, server.url)
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


HandlerFactory = Callable[[EventProducer, StageMetrics], StageHandler[Any]]
OutCounter = Callable[[], int]


def run_consumer_service(
    stage: str,
    settings: Settings,
    *,
    topic_in: str,
    make_handler: HandlerFactory,
    events_out: OutCounter,
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

    def snapshot() -> StageSnapshot:
        stats = consumer_ref[0].stats if consumer_ref else None
        errors = dict(stats.errors) if stats else {}
        if producer.stats.rejected:
            errors["rejected"] = producer.stats.rejected
        return StageSnapshot(
            events_in=stats.consumed if stats else 0,
            events_out=events_out(),
            errors=errors,
            dead_letters=stats.dead_letters if stats else 0,
            consumer_lag=stats.lag if stats else None,
            spool_bytes=producer.spool.size_bytes,
            spooled=producer.stats.spooled,
        )

    metrics = StageMetrics(stage, snapshot)
    try:
        handler = make_handler(producer, metrics)
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
        service = ConsumerService(consumer, producer, metrics)

        def health() -> tuple[bool, str]:
            if producer.degraded:
                return False, "kafka unreachable: spooling"
            return True, "ok"

        server = serve_metrics(metrics, metrics_host, metrics_port, health)
        status = StatusLine(stage, snapshot, status_interval_s)
        ticker = threading.Thread(target=_tick_until, args=(status, stop), name="status", daemon=True)
        ticker.start()
        if on_ready is not None:
            on_ready(service)
        try:
            consumer.run(stop)
        finally:
            stop.set()
            ticker.join(timeout=2)
            status.tick(final=True)
            if server is not None:
                server.stop()
        return service
    finally:
        producer.close()
        lock.release()


def _tick_until(status: StatusLine, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        status.tick()
