"""Benchmark harnesses behind ``chatpulse bench``.

Each benchmark is a module ``chatpulse.bench.<name>`` with a function
``run(options: BenchOptions) -> list[Measurement]`` that measures ChatPulse and, in the same run,
the baseline it is compared with (DESIGN.md section 8). Register it in :data:`BENCHMARKS`.
Benchmarks are never timed tests: they print figures, they do not assert them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

BENCHMARKS: dict[str, str] = {
    # name: one-line description
    "parse": "IRC parse lines/s on the real xqcow capture vs a naive str.split parse",
    "sentiment": "msgs/s and macro-F1 of plain VADER, the lexicon and the transformer analyzer",
    "synthetic": "synthetic chat lines/s; 7TV/BTTV/FFZ emote matching msgs/s vs a naive regex scan",
    "store": "ClickHouseSink rows/s vs a raw chDB columnar insert; report query latency on 10M messages",
    "twitch": "TwitchIrcSource join time and memory for 1,000 channels on the local IRC test server",
    "e2e": "chatpulse run end to end: sustained msgs/s, peak memory; p95 sent_at -> queryable at 1k msgs/s",
    "kafka": "EventProducer vs raw confluent-kafka produce; ingest -> enrich -> sink msgs/s, local broker",
    "streams": "recap of a 10M-message stream; streams recomputed from 10M messages; run cost of keeping",
    "archive": "chatpulse import from a local justlog/rustlog archive vs run --replay --speed max, lines/s",
    "alerts": "alert thread work per line vs a worker; run --replay with a hanging webhook vs without alerts",
}


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """Knobs every benchmark understands."""

    shared_data: Path  # ../shared/data
    quick: bool = False  # smaller inputs, for smoke runs
    extra: dict[str, str] = field(default_factory=dict)  # benchmark-specific --opt key=value


@dataclass(frozen=True, slots=True)
class Measurement:
    """One row of the results table."""

    benchmark: str
    name: str  # what was measured, e.g. "chatpulse parse_line"
    value: float
    unit: str  # "lines/s", "msgs/s", "ms", "MiB", "ratio", ...
    target: str = ""  # the target as text, e.g. ">= 200000" (empty when none)
    met: bool | None = None  # None when there is no target
    note: str = ""
