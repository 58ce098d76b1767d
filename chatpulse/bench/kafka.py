"""``chatpulse bench kafka``: the Kafka transport on a local broker (DESIGN.md section 8).

1. Producer: :class:`EventProducer` vs a raw confluent-kafka ``Producer.produce`` loop with the
   same configuration and the same pre-encoded records (the xqcow capture's events), rounds
   alternated, best of each. Target: ours >= 0.7 x raw.
2. End to end: ``ingest`` (this process) -> ``enrich`` (lexicon, child process) -> ``sink``
   (chDB, child process), all through the broker: msgs/s from the first line read until the
   sink reports every event stored (read from its ``/metrics``). Target: >= 30k msgs/s.

The broker: ``--opt bootstrap=HOST:PORT``, else ``KAFKA_BOOTSTRAP_SERVERS``, else the one
``deploy/kafka/kafka-up.sh`` starts. Options: ``events`` (end-to-end count),
``produce_events``, ``enrich_workers``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Final

from confluent_kafka import Producer

from chatpulse.bench import BenchOptions, Measurement
from chatpulse.config import KafkaSettings, SentimentSettings, Settings, StoreSettings
from chatpulse.errors import ConfigError
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.base import RawLine, SourceItem, now_ms
from chatpulse.sources.replay import iter_lines
from chatpulse.transport.kafka import client_config, ensure_topics, event_record
from chatpulse.transport.producer import PRODUCER_DEFAULTS, EventProducer
from chatpulse.transport.spool import RecordSpool, SpooledRecord

PRODUCE_TARGET: Final = 0.7
E2E_TARGET: Final = 30_000
_KAFKA_UP: Final = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "kafka-up.sh"
_ID = re.compile(r"(^@|;)id=([^;]*)")


def _bootstrap(options: BenchOptions) -> str:
    given = options.extra.get("bootstrap") or os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        return given
    if not _KAFKA_UP.is_file():
        raise ConfigError("bench kafka: set KAFKA_BOOTSTRAP_SERVERS (deploy/kafka/kafka-up.sh not found)")
    subprocess.run([str(_KAFKA_UP)], check=True, timeout=300)  # noqa: S603 - our own script
    return "127.0.0.1:9092"


def _settings(bootstrap: str, folder: Path) -> Settings:
    tag = uuid.uuid4().hex[:8]
    kafka = KafkaSettings(
        bootstrap_servers=bootstrap,
        topic_raw=f"bench.{tag}.raw",
        topic_enriched=f"bench.{tag}.enriched",
        topic_deadletter=f"bench.{tag}.deadletter",
        partitions=6,
        group_prefix=f"bench-{tag}",
        spool_dir=folder / "kafka-spool",
    )
    return Settings(
        kafka=kafka, store=StoreSettings(dsn=f"chdb://{folder / 'store'}"), sentiment=SentimentSettings()
    )


# --- 1. producer -------------------------------------------------------------------------------


def _ours(settings: Settings, records: Sequence[SpooledRecord], folder: Path) -> float:
    producer = EventProducer(client_config(settings.kafka), RecordSpool(folder, max_bytes=2**30))
    started = time.perf_counter()
    for record in records:
        if not producer.send(record):
            producer.send_blocking(record)
    producer.flush(120)
    elapsed = time.perf_counter() - started
    producer.close()
    return len(records) / elapsed


def _raw(settings: Settings, records: Sequence[SpooledRecord]) -> float:
    conf: dict[str, Any] = dict(PRODUCER_DEFAULTS)
    conf["bootstrap.servers"] = settings.kafka.bootstrap_servers
    producer = Producer(conf)
    started = time.perf_counter()
    for record in records:
        while True:
            try:
                producer.produce(record.topic, record.value, record.key, headers=list(record.headers))
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(120)
    return len(records) / (time.perf_counter() - started)


def _producer_rows(
    settings: Settings, lines: list[str], count: int, rounds: int, folder: Path
) -> list[Measurement]:
    events = [parse_line(line, now_ms(), "replay") for line in lines]
    records = [event_record(settings.kafka.topic_raw, events[i % len(events)]) for i in range(count)]
    ours: list[float] = []
    raw: list[float] = []
    for i in range(rounds):
        ours.append(_ours(settings, records, folder / f"spool-{i}"))
        raw.append(_raw(settings, records))
    best_ours, best_raw = max(ours), max(raw)
    ratio = best_ours / best_raw
    note = f"{count:,} xqcow events, lz4, acks=all, idempotent; best of {rounds}"
    return [
        Measurement("kafka", "EventProducer.send", best_ours, "msgs/s", note=note),
        Measurement("kafka", "raw confluent-kafka Producer.produce", best_raw, "msgs/s", note=note),
        Measurement("kafka", "EventProducer / raw produce", ratio, "ratio", f">= {PRODUCE_TARGET}",
                    ratio >= PRODUCE_TARGET),
    ]  # fmt: skip


# --- 2. end to end ----------------------------------------------------------------------------


class _CopiesSource:
    """The capture's lines, repeated with fresh message ids until ``count`` lines were sent."""

    name = "synthetic"

    def __init__(self, lines: Sequence[str], count: int) -> None:
        self.lines = lines
        self.count = count
        # Where each line's id ends (-1: no id), found once: a source should cost next to nothing.
        self._id_ends = [match.end(2) if (match := _ID.search(line)) else -1 for line in lines]

    async def stream(self) -> AsyncIterator[SourceItem]:
        for i in range(self.count):
            copy, index = divmod(i, len(self.lines))
            line = self.lines[index]
            end = self._id_ends[index]
            if copy and end >= 0:
                line = f"{line[:end]}-{copy}{line[end:]}"
            yield RawLine(line, now_ms())

    async def close(self) -> None:
        return None


def _enrich_child(settings: Settings, stop: Any) -> None:
    from chatpulse.cli.enrich import run_enrich

    run_enrich(settings, stop, tune_gc=True)  # as the chatpulse enrich command runs it


def _sink_child(settings: Settings, stop: Any, port: int) -> None:
    from chatpulse.cli.sink import run_sink

    run_sink(settings, stop, metrics_port=port, tune_gc=True)  # as the chatpulse sink command runs it


def _stored(port: int) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:  # noqa: S310
            for line in response.read().decode().splitlines():
                if line.startswith("chatpulse_events_out_total{"):
                    return float(line.rsplit(" ", 1)[1])
    except OSError:
        pass
    return 0.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _end_to_end_rows(
    settings: Settings, lines: list[str], count: int, enrich_workers: int
) -> list[Measurement]:
    from chatpulse.cli.ingest import run_ingest

    ensure_topics(client_config(settings.kafka), settings.kafka)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    port = _free_port()
    children = [context.Process(target=_enrich_child, args=(settings, stop)) for _ in range(enrich_workers)]
    children.append(context.Process(target=_sink_child, args=(settings, stop, port)))
    for child in children:
        child.start()
    try:
        deadline = time.monotonic() + 60
        while _stored(port) == 0 and time.monotonic() < deadline and not _metrics_up(port):
            time.sleep(0.2)
        time.sleep(3)  # let the consumer groups settle before the clock starts
        started = time.perf_counter()
        asyncio.run(run_ingest(settings, _CopiesSource(lines, count)))
        ingested = time.perf_counter() - started
        deadline = time.monotonic() + 600
        while _stored(port) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stored = _stored(port)
    finally:
        stop.set()
        for child in children:
            child.join(60)
    rate = stored / elapsed
    note = f"{count:,} events, {enrich_workers} enrich worker(s), lexicon, chDB"
    return [
        Measurement("kafka", "ingest: parse + produce (with enrich, sink)", count / ingested, "msgs/s"),
        Measurement("kafka", "end to end ingest -> enrich -> sink", rate, "msgs/s", f">= {E2E_TARGET:,}",
                    rate >= E2E_TARGET and stored >= count, note=f"{note}; stored {stored:,.0f}"),
    ]  # fmt: skip


def _metrics_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):  # noqa: S310
            return True
    except OSError:
        return False


def run(options: BenchOptions) -> list[Measurement]:
    bootstrap = _bootstrap(options)
    lines = list(iter_lines(options.shared_data / "replay" / "xqcow-2019-09-15.irc.gz"))
    produce_events = int(options.extra.get("produce_events", 20_000 if options.quick else 100_000))
    events = int(options.extra.get("events", 20_000 if options.quick else 100_000))
    workers = int(options.extra.get("enrich_workers", 1))
    with tempfile.TemporaryDirectory(prefix="chatpulse-bench-kafka-") as tmp:
        folder = Path(tmp)
        settings = _settings(bootstrap, folder)
        ensure_topics(client_config(settings.kafka), settings.kafka)
        rows = _producer_rows(settings, lines, produce_events, 2 if options.quick else 3, folder)
        rows += _end_to_end_rows(_settings(bootstrap, folder / "e2e"), lines, events, workers)
    return rows
