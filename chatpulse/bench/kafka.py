"""``chatpulse bench kafka``: the Kafka transport on a local broker (DESIGN.md section 8).

1. Producer: :class:`EventProducer` vs a raw confluent-kafka ``Producer.produce`` loop with the
   same configuration and the same pre-encoded records (the xqcow capture's events), rounds
   alternated, best of each. Target: ours >= 0.7 x raw.
2. End to end: ``ingest`` -> ``enrich`` (lexicon) -> ``sink`` (chDB), each a child process as
   the ``chatpulse`` services run, all through the broker, counted by what the sink reports
   stored (its ``/metrics``, updated at each commit). Sustained msgs/s, as ``bench e2e`` measures
   ``run``: from the sink's first commit until it reports every event stored, so the start-up
   (consumers' first fetch, the first flush) is left out; the rate from the first line read is
   reported beside it. Target: sustained >= 30k msgs/s.

The broker: ``--opt bootstrap=HOST:PORT``, else ``KAFKA_BOOTSTRAP_SERVERS``, else a private one
``deploy/kafka/kafka-up.sh`` starts on free ports for this bench and stops after it. Options:
``events`` (end-to-end count), ``produce_events``, ``enrich_workers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import re
import tempfile
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

from chatpulse.bench import BenchOptions, Measurement
from chatpulse.config import KafkaSettings, SentimentSettings, Settings, StoreSettings
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.base import RawLine, SourceItem, now_ms
from chatpulse.sources.replay import iter_lines
from chatpulse.testing.kafka_broker import running_broker
from chatpulse.transport.kafka import client_config, ensure_topics, event_record
from chatpulse.transport.producer import PRODUCER_DEFAULTS, EventProducer
from chatpulse.transport.spool import RecordSpool, SpooledRecord
from chatpulse.transport.topics import Topics

PRODUCE_TARGET: Final = 0.7
E2E_TARGET: Final = 30_000
_ID = re.compile(r"(^@|;)id=([^;]*)")
_SENT = re.compile(r"(^@|;)tmi-sent-ts=(\d+)")


@contextlib.contextmanager
def _bootstrap(options: BenchOptions, folder: Path) -> Iterator[str]:
    """The broker to measure: the one given, else a private one on free ports in ``folder``,
    stopped when the bench ends (also when it fails)."""
    given = options.extra.get("bootstrap") or os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    with running_broker(folder) as broker:
        yield broker.bootstrap


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
    """The capture's lines, repeated until ``count`` lines were sent. Each copy continues the
    chat: fresh message ids, and server times moved past the previous copy's, as live chat
    would be (copies at the capture's own times would be replays to the sink)."""

    in_history = False  # see Source.in_history

    def history_stored(self) -> None:
        """No history: nothing waits for it."""

    name = "synthetic"

    def __init__(self, lines: Sequence[str], count: int) -> None:
        self.lines = lines
        self.count = count
        # Each line as a template, made once: a source should cost next to nothing per line.
        self._templates = [_template(line) for line in lines]
        times = [sent for _, sent in self._templates if sent]
        self._span_ms = max(times) - min(times) + 1000 if times else 0

    async def stream(self) -> AsyncIterator[SourceItem]:
        for i in range(self.count):
            copy, index = divmod(i, len(self.lines))
            line = self.lines[index]
            if copy:
                template, sent = self._templates[index]
                line = template.format(copy=copy, sent=sent + copy * self._span_ms)
            yield RawLine(line, now_ms())

    async def close(self) -> None:
        return None


def _template(line: str) -> tuple[str, int]:
    """``line`` as a format string with ``{copy}`` after the id tag's value and ``{sent}`` in
    place of the tmi-sent-ts value, and that value (0 when the line has none)."""
    ident, sent = _ID.search(line), _SENT.search(line)
    cuts = [(ident.end(2), ident.end(2), "-{copy}")] if ident else []
    cuts += [(sent.start(2), sent.end(2), "{sent}")] if sent else []
    pieces, at = [], 0
    for start, end, field in sorted(cuts):
        pieces += [_literal(line[at:start]), field]
        at = end
    pieces.append(_literal(line[at:]))
    return "".join(pieces), int(sent.group(2)) if sent else 0


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _ingest_child(settings: Settings, capture: Path, count: int, go: Any, finished: Any) -> None:
    """``chatpulse ingest`` of ``count`` lines of the capture, once ``go`` is set; the wall-clock
    time it finished goes to ``finished`` (a process of its own, as the service runs: as a thread
    of the measuring process it shared the GIL with the polling of the sink's metrics)."""
    from chatpulse.services.ingest import run_ingest

    source = _CopiesSource(list(iter_lines(capture)), count)
    go.wait()
    asyncio.run(run_ingest(settings, source))
    finished.value = time.time()


def _enrich_child(settings: Settings, stop: Any) -> None:
    from chatpulse.services.enrich import run_enrich

    run_enrich(settings, stop, tune_gc=True)  # as the chatpulse enrich command runs it


def _sink_child(settings: Settings, stop: Any, port: int) -> None:
    from chatpulse.services.sink import run_sink

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


def _end_to_end_rows(settings: Settings, capture: Path, count: int, enrich_workers: int) -> list[Measurement]:
    ensure_topics(client_config(settings.kafka), settings.kafka)
    context = multiprocessing.get_context("spawn")
    stop, go = context.Event(), context.Event()
    finished = context.Value("d", 0.0)
    port = _free_port()
    children = [context.Process(target=_enrich_child, args=(settings, stop)) for _ in range(enrich_workers)]
    children.append(context.Process(target=_sink_child, args=(settings, stop, port)))
    ingest = context.Process(target=_ingest_child, args=(settings, capture, count, go, finished))
    for child in [*children, ingest]:
        child.start()
    try:
        deadline = time.monotonic() + 60
        while _stored(port) == 0 and time.monotonic() < deadline and not _metrics_up(port):
            time.sleep(0.2)
        time.sleep(3)  # let the consumer groups settle (and ingest load) before the clock starts
        started, started_wall = time.perf_counter(), time.time()
        go.set()
        first: tuple[float, float] | None = None  # (when, stored) at the sink's first commit
        stored = 0.0
        deadline = time.monotonic() + 600
        while stored < count and time.monotonic() < deadline:
            time.sleep(0.05)
            stored = _stored(port)
            if first is None and stored:
                first = (time.perf_counter(), stored)
        ended = time.perf_counter()
        ingest.join(60)
    finally:
        go.set()
        stop.set()
        for child in [*children, ingest]:
            child.join(60)
            if child.is_alive():
                child.terminate()
    overall = stored / (ended - started)
    since, base = first or (started, 0.0)
    sustained = (stored - base) / max(ended - since, 1e-9)
    note = f"{count:,} events, {enrich_workers} enrich worker(s), lexicon, chDB; stored {stored:,.0f}"
    ingest_rate = count / (finished.value - started_wall) if finished.value else 0.0
    return [
        Measurement("kafka", "ingest: parse + produce (beside enrich, sink)", ingest_rate, "msgs/s"),
        Measurement("kafka", "end to end ingest -> enrich -> sink, sustained", sustained, "msgs/s",
                    f">= {E2E_TARGET:,}", sustained >= E2E_TARGET and stored >= count,
                    note=f"{note}; from the sink's first commit ({since - started:.1f} s) to the last"),
        Measurement("kafka", "end to end, overall incl. start-up", overall, "msgs/s", note=note),
    ]  # fmt: skip


def _metrics_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):  # noqa: S310
            return True
    except OSError:
        return False


def run(options: BenchOptions) -> list[Measurement]:
    capture = options.shared_data / "replay" / "xqcow-2019-09-15.irc.gz"
    lines = list(iter_lines(capture))
    produce_events = int(options.extra.get("produce_events", 20_000 if options.quick else 100_000))
    events = int(options.extra.get("events", 50_000 if options.quick else 300_000))
    workers = int(options.extra.get("enrich_workers", 1))
    with (
        tempfile.TemporaryDirectory(prefix="chatpulse-bench-kafka-") as tmp,
        _bootstrap(options, Path(tmp) / "broker") as bootstrap,
    ):
        folder = Path(tmp)
        produce, end_to_end = _settings(bootstrap, folder), _settings(bootstrap, folder / "e2e")
        try:
            ensure_topics(client_config(produce.kafka), produce.kafka)
            rows = _producer_rows(produce, lines, produce_events, 2 if options.quick else 3, folder)
            rows += _end_to_end_rows(end_to_end, capture, events, workers)
        finally:
            _delete_topics(bootstrap, [produce.kafka, end_to_end.kafka])
    return rows


def _delete_topics(bootstrap: str, used: Sequence[KafkaSettings]) -> None:
    """Remove the run's topics: a run leaves about a GiB in them, and a broker with thousands
    of partitions left over from earlier runs is slower for every later one."""
    names = [name for kafka in used for name in Topics.from_settings(kafka).all()]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_topics(names, operation_timeout=30).values():
        with contextlib.suppress(KafkaException):  # never created (the run failed before)
            future.result(timeout=60)
