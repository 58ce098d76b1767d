"""Prometheus metrics and health for long-running commands (``/metrics``, ``/healthz``).

Who calls what: a command builds a :class:`StageMetrics` for its stage, gives it a ``snapshot``
callable that reads the counters it already keeps (nothing is counted twice, and the hot path
pays nothing: the snapshot is taken only when Prometheus scrapes), observes end-to-end latencies
with :meth:`StageMetrics.observe_latency`, and serves both on ``--metrics-port`` with
:class:`MetricsServer`. ``/healthz`` answers 200 ``ok`` while the ``health`` callable returns
``(True, ...)`` and 503 with its reason otherwise. A failing snapshot is logged and the scrape
still answers (without the stage families), so monitoring never takes a service down.

Metric names (label ``stage``: ingest, enrich, sink, run, ...)::

    chatpulse_events_in_total            events the stage received
    chatpulse_events_out_total           events the stage passed on (produced / stored)
    chatpulse_errors_total{kind}         errors by kind (decode, process, broker, commit, ...)
    chatpulse_dead_letters_total         records sent to the dead-letter topic
    chatpulse_consumer_lag               records behind the newest on the assigned partitions
    chatpulse_spool_bytes                bytes waiting in the on-disk spool
    chatpulse_spooled_total              records written to the spool (broker unreachable)
    chatpulse_end_to_end_latency_seconds histogram: sent_at (or received_at) -> this stage done

``chatpulse run`` adds its pipeline's own families (:mod:`chatpulse.run.metrics`) and, through
Kafka, serves all three stages on one port: :class:`MergedMetrics` joins several registries
into one exposition (each family once, its samples from every stage).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final, Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from chatpulse.errors import ConfigError

log = logging.getLogger(__name__)

# Seconds; chat latency targets are around 2 s (DESIGN.md section 8), so resolve 5 ms .. 2 min.
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)

Health = Callable[[], tuple[bool, str]]


@dataclass(frozen=True, slots=True)
class StageSnapshot:
    """A stage's counters at one moment (monotonic totals, except the gauges)."""

    events_in: int = 0
    events_out: int = 0
    errors: Mapping[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    consumer_lag: int | None = None  # None: not a consumer, or unknown right now
    spool_bytes: int = 0
    spooled: int = 0


class _SnapshotCollector(Collector):
    def __init__(self, stage: str, snapshot: Callable[[], StageSnapshot]) -> None:
        self._stage = stage
        self._snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        try:
            snap = self._snapshot()
        except Exception:  # noqa: BLE001 - a scrape must answer even if the stage is in trouble
            log.exception("metrics snapshot of %s failed", self._stage)
            return []
        stage = [self._stage]

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            family = CounterMetricFamily(name, doc, labels=["stage"])
            family.add_metric(stage, value)
            return family

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            family = GaugeMetricFamily(name, doc, labels=["stage"])
            family.add_metric(stage, value)
            return family

        errors = CounterMetricFamily("chatpulse_errors", "Errors by kind.", labels=["stage", "kind"])
        for kind, count in sorted(snap.errors.items()):
            errors.add_metric([self._stage, kind], count)
        families: list[Metric] = [
            counter("chatpulse_events_in", "Events the stage received.", snap.events_in),
            counter("chatpulse_events_out", "Events the stage passed on.", snap.events_out),
            errors,
            counter("chatpulse_dead_letters", "Records sent to the dead-letter topic.", snap.dead_letters),
            gauge("chatpulse_spool_bytes", "Bytes waiting in the on-disk spool.", snap.spool_bytes),
            counter("chatpulse_spooled", "Records written to the on-disk spool.", snap.spooled),
        ]
        if snap.consumer_lag is not None:
            families.append(
                gauge(
                    "chatpulse_consumer_lag",
                    "Records behind the newest, over the assignment.",
                    snap.consumer_lag,
                )
            )
        return families


class StageMetrics:
    """One stage's metrics in its own registry (so tests can run several stages in one process)."""

    def __init__(self, stage: str, snapshot: Callable[[], StageSnapshot]) -> None:
        self.stage = stage
        self.registry = CollectorRegistry()
        self.registry.register(_SnapshotCollector(stage, snapshot))
        self._latency = Histogram(
            "chatpulse_end_to_end_latency_seconds",
            "From a message's sent_at (received_at for replays) to this stage having handled it.",
            labelnames=["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        ).labels(stage)

    def observe_latency(self, seconds: Iterable[float]) -> None:
        for value in seconds:
            self._latency.observe(max(0.0, value))

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


class Exposition(Protocol):
    """Anything :class:`MetricsServer` can serve: :class:`StageMetrics`, :class:`MergedMetrics`."""

    def exposition(self) -> bytes: ...


class _MergedCollector(Collector):
    def __init__(self, registries: list[CollectorRegistry]) -> None:
        self._registries = registries  # shared with MergedMetrics.add

    def collect(self) -> Iterable[Metric]:
        # The text format allows one HELP/TYPE block per family, so the stages' samples of one
        # family are joined under a single header instead of repeating it per stage.
        merged: dict[str, Metric] = {}
        for registry in self._registries:
            for family in registry.collect():
                into = merged.get(family.name)
                if into is None:
                    into = Metric(family.name, family.documentation, family.type, family.unit)
                    merged[family.name] = into
                into.samples.extend(family.samples)
        return list(merged.values())


class MergedMetrics:
    """Several stages' registries served as one exposition (``chatpulse run --kafka``)."""

    def __init__(self, registries: Iterable[CollectorRegistry] = ()) -> None:
        self._registries: list[CollectorRegistry] = list(registries)
        self.registry = CollectorRegistry()
        self.registry.register(_MergedCollector(self._registries))

    def add(self, registry: CollectorRegistry) -> None:
        """Include ``registry`` from the next scrape on (a stage that started later)."""
        self._registries.append(registry)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsServer:
    """``/metrics`` and ``/healthz`` over HTTP, served from a daemon thread."""

    def __init__(
        self, metrics: Exposition, host: str = "127.0.0.1", port: int = 0, health: Health | None = None
    ):
        self._metrics = metrics
        self._health = health or (lambda: (True, "ok"))
        handler = self._handler_class()
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self._server.server_address[0])
        return f"http://{host}:{self.port}"

    def start(self) -> MetricsServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._answer(200, CONTENT_TYPE_LATEST, outer._metrics.exposition())
                elif path == "/healthz":
                    ok, reason = outer._health()
                    self._answer(200 if ok else 503, "text/plain; charset=utf-8", (reason + "\n").encode())
                else:
                    self._answer(404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n")

            def _answer(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                log.debug("metrics: " + format, *args)

        return Handler


class MetricsEndpoint:
    """``--metrics-port``: bound before any work (a taken port is a clear error at once), fed the
    running pipeline's metrics and health once it exists."""

    def __init__(self, host: str, port: int) -> None:
        self._metrics: Exposition | None = None
        self._health: Health | None = None
        try:
            self.server = MetricsServer(self, host=host, port=port, health=self.health)
        except OSError as exc:
            raise ConfigError(
                f"cannot serve metrics on {host}:{port}: {exc.strerror or exc} "
                "(choose another --metrics-port)"
            ) from None

    def attach(self, metrics: Exposition, health: Health) -> None:
        self._metrics, self._health = metrics, health
        self.server.start()

    def exposition(self) -> bytes:
        return self._metrics.exposition() if self._metrics is not None else b""

    def health(self) -> tuple[bool, str]:
        return self._health() if self._health is not None else (False, "starting")
