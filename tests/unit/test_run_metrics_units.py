"""The pure parts behind `run --metrics-port` and `run --kafka`: merged expositions, histogram
quantiles for the status line, the latency tap, source counters, and log de-duplication."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from chatpulse.metrics import MergedMetrics, StageMetrics, StageSnapshot
from chatpulse.run.kafka import RepeatFilter, histogram_quantiles
from chatpulse.run.metrics import LatencyTap, SourceCollector, live_sources, reconnects


def test_merged_stages_share_one_header_per_family_and_keep_every_stage() -> None:
    ingest = StageMetrics("ingest", lambda: StageSnapshot(events_in=5, events_out=4))
    sink = StageMetrics("sink", lambda: StageSnapshot(events_in=4, events_out=3, consumer_lag=1))
    ingest.observe_latency([0.2])
    sink.observe_latency([0.4, 0.6])
    text = MergedMetrics([ingest.registry, sink.registry]).exposition().decode()
    types = [line for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(types) == len(set(types))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    outs = {s.labels["stage"]: s.value for s in families["chatpulse_events_out"].samples}
    assert outs == {"ingest": 4, "sink": 3}
    counts = {
        s.labels["stage"]: s.value
        for s in families["chatpulse_end_to_end_latency_seconds"].samples
        if s.name.endswith("_count")
    }
    assert counts == {"ingest": 1, "sink": 2}


def test_merged_metrics_include_a_stage_added_later() -> None:
    merged = MergedMetrics()
    assert b"chatpulse_events_in" not in merged.exposition()
    merged.add(StageMetrics("enrich", lambda: StageSnapshot(events_in=7)).registry)
    assert b'chatpulse_events_in_total{stage="enrich"} 7.0' in merged.exposition()


def test_quantiles_interpolate_within_buckets_like_prometheus() -> None:
    bounds = [0.5, 1.0, 2.0, float("inf")]
    counts = [0.0, 10.0, 10.0, 10.0]  # all ten observations between 0.5 s and 1 s
    p50, p95 = histogram_quantiles(bounds, counts, (0.5, 0.95))
    assert p50 == 0.75 and abs(p95 - 0.975) < 1e-9
    assert histogram_quantiles(bounds, [0.0, 0.0, 0.0, 4.0], (0.5,)) == (2.0,)  # beyond the last bound


def test_latency_tap_keeps_samples_and_observes_each_in_seconds() -> None:
    seen: list[float] = []
    tap = LatencyTap([5], 3, seen.extend)
    tap.extend([100, 200, 300])
    tap.append(1500)
    assert list(tap) == [200, 300, 1500]  # bounded like the deque it replaces
    assert seen == [0.1, 0.2, 0.3, 1.5]


@dataclass
class _IrcCounters:
    connects: int = 2
    reconnects: int = 1
    lines: int = 40


@dataclass
class _EventSubCounters:
    connects: int = 1
    connection_losses: int = 2
    session_reconnects: int = 1
    by_status: dict[str, int] | None = None


class _Live:
    def __init__(self, name: str, counters: object) -> None:
        self.name, self.counters = name, counters


class _Merged:
    name = "irc+eventsub"

    def __init__(self) -> None:
        self.sources = (_Live("irc", _IrcCounters()), _Live("eventsub", _EventSubCounters()))


def test_reconnects_of_both_live_paths_are_exported() -> None:
    parts = dict(live_sources(_Merged()))
    assert reconnects(parts["irc"]) == 1 and reconnects(parts["eventsub"]) == 3
    assert "by_status" not in parts["eventsub"]  # only counters
    samples = {
        (s.name, s.labels.get("source"), s.labels.get("kind")): s.value
        for family in SourceCollector("run", _Merged()).collect()
        for s in family.samples
    }
    assert samples[("chatpulse_reconnects_total", "eventsub", None)] == 3
    assert samples[("chatpulse_source_activity_total", "irc", "lines")] == 40
    assert list(SourceCollector("run", object()).collect()) == []  # a replay has no counters


def test_repeat_filter_lets_one_line_of_each_shape_through_per_window() -> None:
    now = [0.0]
    repeat = RepeatFilter(window_s=30, clock=lambda: now[0])

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("librdkafka.producer", logging.ERROR, __file__, 1, message, None, None)

    assert repeat.filter(record("Connect to 127.0.0.1:9092 failed (after 0ms)"))
    assert not repeat.filter(record("Connect to 127.0.0.1:9092 failed (after 3ms)"))
    assert repeat.filter(record("another problem"))
    now[0] = 31.0
    assert repeat.filter(record("Connect to 127.0.0.1:9092 failed (after 5ms)"))
    assert repeat.suppressed == 1
