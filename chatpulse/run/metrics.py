"""Prometheus metrics of ``chatpulse run``, read from the counters its parts already keep.

Who calls what: ``chatpulse run --metrics-port`` calls :func:`embedded_run_metrics` for the
embedded pipeline (stage ``run``); ``chatpulse run --kafka`` registers
:class:`StoreStatsCollector` (stage ``sink``) and :class:`SourceCollector` (stage ``ingest``)
next to the services' own :class:`~chatpulse.metrics.StageMetrics`. Nothing here touches the
hot path: collectors read :class:`~chatpulse.run.embedded.Counters`, the sink's ``stats``, the
queues' depths and the source's ``counters`` only when Prometheus scrapes. A collector that
fails is logged and skipped (:mod:`chatpulse.metrics` does the same), so a scrape always answers.

Families beyond :mod:`chatpulse.metrics` (label ``stage`` everywhere)::

    chatpulse_pipeline_items_total{step}        read, parsed, messages, stored, skipped, withheld
    chatpulse_queue_depth{queue} / chatpulse_queue_capacity{queue}   bounded in-process queues
    chatpulse_store_rows_written_total{table}   chat_messages, chat_events, chat_emotes
    chatpulse_store_batches_total{outcome}      written, failed, spooled, replayed
    chatpulse_store_retries_total               insert attempts after a failure
    chatpulse_store_duplicates_total            rows dropped because the store held them already
    chatpulse_store_spool_pending_batches       batches waiting in the store's on-disk spool
    chatpulse_reconnects_total{source}          live sources: IRC reconnects, EventSub losses
    chatpulse_source_activity_total{source,kind} every counter a live source keeps
    chatpulse_store_up                          ``chatpulse dashboard``: the store answered
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from chatpulse.errors import StoreError
from chatpulse.metrics import Health, MergedMetrics, StageMetrics, StageSnapshot

if TYPE_CHECKING:
    from chatpulse.run.embedded import Pipeline
    from chatpulse.store import Sink, Store

log = logging.getLogger(__name__)


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder`` (0 when it does not exist); for spool gauges."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:  # removed between listing and stat: the spool was just sent
                continue
    return total


class _Families:
    """Small helpers that label every family with the stage."""

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def counter(self, name: str, doc: str, labels: Mapping[str, float] | float, label: str = "") -> Metric:
        return self._family(CounterMetricFamily, name, doc, labels, label)

    def gauge(self, name: str, doc: str, labels: Mapping[str, float] | float, label: str = "") -> Metric:
        return self._family(GaugeMetricFamily, name, doc, labels, label)

    def _family(
        self, kind: Callable[..., Any], name: str, doc: str, values: Mapping[str, float] | float, label: str
    ) -> Metric:
        if isinstance(values, Mapping):
            family = kind(name, doc, labels=["stage", label])
            for key, value in values.items():
                family.add_metric([self.stage, key], value)
        else:
            family = kind(name, doc, labels=["stage"])
            family.add_metric([self.stage], values)
        metric: Metric = family
        return metric


class _SafeCollector(Collector):
    def collect(self) -> Iterable[Metric]:
        try:
            return list(self.families())
        except Exception:  # noqa: BLE001 - a scrape must answer even if a part is in trouble
            log.exception("metrics collector %s failed", type(self).__name__)
            return []

    def families(self) -> Iterator[Metric]:
        raise NotImplementedError


class PipelineCollector(_SafeCollector):
    """The embedded pipeline's step counters and queue depths."""

    def __init__(self, stage: str, pipeline: Pipeline) -> None:
        self._f = _Families(stage)
        self._pipeline = pipeline

    def families(self) -> Iterator[Metric]:
        p, c = self._pipeline, self._pipeline.counters
        steps = {"read": c.lines + c.source_events, "parsed": c.parsed, "messages": c.messages,
                 "stored": c.stored, "skipped": c.skipped, "withheld": c.withheld}  # fmt: skip
        yield self._f.counter("chatpulse_pipeline_items", "Items through each pipeline step.", steps, "step")
        queues = (p.raw_queue, p.inflight, p.store_queue)
        yield self._f.gauge("chatpulse_queue_depth", "Items in a bounded in-process queue.",
                            {q.name: q.depth for q in queues}, "queue")  # fmt: skip
        yield self._f.gauge("chatpulse_queue_capacity", "Size of a bounded in-process queue.",
                            {q.name: q.maxsize for q in queues}, "queue")  # fmt: skip


class StoreStatsCollector(_SafeCollector):
    """A :class:`~chatpulse.store.sink.ClickHouseSink`'s ``stats`` (None until it exists)."""

    def __init__(self, stage: str, sink: Callable[[], Sink | None]) -> None:
        self._f = _Families(stage)
        self._sink = sink

    def families(self) -> Iterator[Metric]:
        sink = self._sink()
        if sink is None:
            return
        s, f = sink.stats, self._f
        tables = {"chat_messages": s.rows_written, "chat_events": s.events_written,
                  "chat_emotes": s.emotes_written}  # fmt: skip
        yield f.counter("chatpulse_store_rows_written", "Rows inserted into the store.", tables, "table")
        outcomes = {"written": s.batches, "failed": s.failed_batches, "spooled": s.spooled_batches,
                    "replayed": s.spool_replayed_batches}  # fmt: skip
        yield f.counter("chatpulse_store_batches", "Store batches by outcome.", outcomes, "outcome")
        yield f.counter("chatpulse_store_retries", "Insert attempts after a failure.", s.retries)
        yield f.counter("chatpulse_store_duplicates", "Rows the store already held.", s.duplicates)
        yield f.gauge("chatpulse_store_spool_pending_batches", "Batches waiting in the store spool.",
                      s.spool_pending)  # fmt: skip


def _int_fields(counters: object) -> dict[str, int]:
    if not dataclasses.is_dataclass(counters):
        return {}
    values = {f.name: getattr(counters, f.name) for f in dataclasses.fields(counters)}
    return {name: value for name, value in values.items() if isinstance(value, int)}


def live_sources(source: object) -> list[tuple[str, dict[str, int]]]:
    """``(name, counters)`` of each live source inside ``source`` (a merged source holds two)."""
    found: list[tuple[str, dict[str, int]]] = []
    for part in (*getattr(source, "sources", ()), source):
        counters = getattr(part, "counters", None)
        if counters is not None:
            found.append((str(getattr(part, "name", type(part).__name__)), _int_fields(counters)))
    return found


def reconnects(counters: dict[str, int]) -> int:
    """IRC counts ``reconnects``; EventSub counts lost connections and Twitch-asked moves."""
    if "reconnects" in counters:
        return counters["reconnects"]
    return counters.get("connection_losses", 0) + counters.get("session_reconnects", 0)


class SourceCollector(_SafeCollector):
    """Reconnects and other counters of live sources (IRC, EventSub); nothing for replays."""

    def __init__(self, stage: str, source: object) -> None:
        self._stage = stage
        self._source = source

    def families(self) -> Iterator[Metric]:
        parts = live_sources(self._source)
        if not parts:
            return
        again = CounterMetricFamily("chatpulse_reconnects", "Reconnects of a live chat source.",
                                    labels=["stage", "source"])  # fmt: skip
        activity = CounterMetricFamily("chatpulse_source_activity", "Counters of a live chat source.",
                                       labels=["stage", "source", "kind"])  # fmt: skip
        for name, counters in parts:
            again.add_metric([self._stage, name], reconnects(counters))
            for kind, value in sorted(counters.items()):
                activity.add_metric([self._stage, name, kind], value)
        yield again
        yield activity


class LatencyTap(deque[int]):
    """Stands in for ``Pipeline.latencies`` (milliseconds): keeps the same bounded samples for
    the status line and also observes each one in the latency histogram as it arrives.

    The pipeline appends a sample of each flush's latencies, so the histogram's count is a
    sample count, not a message count; its quantiles are what matters.
    """

    def __init__(
        self, samples: Iterable[int], maxlen: int | None, observe: Callable[[Iterable[float]], None]
    ):
        super().__init__(samples, maxlen)
        self._observe = observe

    def append(self, value: int) -> None:
        super().append(value)
        self._observe((value / 1000.0,))

    def extend(self, values: Iterable[int]) -> None:
        taken = list(values)
        super().extend(taken)
        self._observe(v / 1000.0 for v in taken)


def embedded_run_metrics(pipeline: Pipeline) -> StageMetrics:
    """Metrics of the embedded pipeline (stage ``run``); installs the latency tap."""
    sink = pipeline.sink

    def snapshot() -> StageSnapshot:
        c, stats = pipeline.counters, sink.stats
        return StageSnapshot(
            events_in=c.lines + c.source_events,
            events_out=c.stored,
            errors={"parse": c.parse_errors, "store": stats.failed_batches},
            spool_bytes=folder_bytes(sink.spool_dir),
            spooled=stats.spooled_rows,
        )

    metrics = StageMetrics("run", snapshot)
    metrics.registry.register(PipelineCollector("run", pipeline))
    metrics.registry.register(StoreStatsCollector("run", lambda: sink))
    metrics.registry.register(SourceCollector("run", pipeline.source))
    old = pipeline.latencies
    pipeline.latencies = LatencyTap(old, old.maxlen, metrics.observe_latency)
    return metrics


def embedded_run_health(pipeline: Pipeline) -> Health:
    """``/healthz`` of the embedded run: 503 while the store fails (batches go to the spool)."""

    def health() -> tuple[bool, str]:
        pending = pipeline.sink.stats.spool_pending
        if pending:
            return False, f"store failing: {pending} batches wait in the spool"
        return True, "stopping: draining" if pipeline.stopping else "ok"

    return health


class StoreUpCollector(_SafeCollector):
    """Whether the store answered a trivial query at this scrape (``chatpulse dashboard``)."""

    def __init__(self, stage: str, probe: Callable[[], tuple[bool, str]]) -> None:
        self._f = _Families(stage)
        self._probe = probe

    def families(self) -> Iterator[Metric]:
        ok, _ = self._probe()
        yield self._f.gauge(
            "chatpulse_store_up", "1 when the store answered at this scrape.", 1.0 if ok else 0.0
        )


def store_metrics(stage: str, store: Store) -> tuple[MergedMetrics, Health]:
    """Metrics and health of a command that only reads the store (the dashboard): ``/healthz``
    is 200 while the store answers ``SELECT 1``, 503 with the store's error otherwise."""

    def probe() -> tuple[bool, str]:
        try:
            store.query("SELECT 1 AS ok")
        except StoreError as exc:
            return False, f"store unavailable: {exc}"
        return True, "ok"

    registry = CollectorRegistry()
    registry.register(StoreUpCollector(stage, probe))
    return MergedMetrics([registry]), probe
