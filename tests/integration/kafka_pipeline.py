"""Helpers for the Kafka integration tests: chat lines, services on threads, reading topics."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from confluent_kafka import Consumer, Producer

from chatpulse.config import KafkaSettings, Settings
from chatpulse.services.enrich import run_enrich
from chatpulse.services.ingest import run_ingest
from chatpulse.services.runtime import ConsumerService
from chatpulse.services.sink import run_sink
from chatpulse.sources.base import RawLine, SourceItem, now_ms
from chatpulse.store import open_store
from chatpulse.transport.kafka import ensure_topics


def chat_lines(count: int, channels: Sequence[str] = ("alpha", "bravo", "charlie", "delta")) -> list[str]:
    """``count`` Twitch PRIVMSG lines with unique ids, spread over ``channels``, sent now."""
    start = now_ms()
    words = ("PogChamp what a play", "this is so bad", "LUL", "nice one chat", "I love this stream")
    lines = []
    for i in range(count):
        channel = channels[i % len(channels)]
        tags = (
            f"@id={uuid.uuid4()};tmi-sent-ts={start + i};user-id={1000 + i % 50};display-name=viewer{i % 50}"
        )
        lines.append(
            f"{tags} :viewer{i % 50}!viewer{i % 50}@viewer{i % 50}.tmi.twitch.tv PRIVMSG #{channel} :"
            f"{words[i % len(words)]} {i}"
        )
    return lines


class LineSource:
    """A source that yields prepared lines, ``rate`` per second (None: as fast as taken)."""

    name = "irc"

    def __init__(self, lines: Sequence[str], rate: float | None = None) -> None:
        self.lines = lines
        self.rate = rate
        self.sent = 0
        self._closed = False

    async def stream(self) -> AsyncIterator[SourceItem]:
        started = time.monotonic()
        for line in self.lines:
            if self._closed:
                return
            if self.rate is not None:
                due = started + self.sent / self.rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            self.sent += 1
            yield RawLine(line, now_ms())

    async def close(self) -> None:
        self._closed = True


class ServiceThread:
    """``run_enrich`` or ``run_sink`` on a thread, with its own stop event."""

    def __init__(self, run: Callable[..., Any], settings: Settings, **kwargs: Any) -> None:
        self.stop_event = threading.Event()
        self.ready = threading.Event()
        self.service: ConsumerService | None = None
        self.error: BaseException | None = None

        def on_ready(service: ConsumerService) -> None:
            self.service = service
            self.ready.set()

        def target() -> None:
            try:
                run(settings, self.stop_event, on_ready=on_ready, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - re-raised by stop()
                self.error = exc
                self.ready.set()

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()
        assert self.ready.wait(60), "service did not start"

    @property
    def consumed(self) -> int:
        return self.service.consumer.stats.consumed if self.service else 0

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(60)
        assert not self.thread.is_alive(), "service did not stop"
        if self.error is not None:
            raise self.error


def enrich_thread(settings: Settings, **kwargs: Any) -> ServiceThread:
    return ServiceThread(run_enrich, settings, **kwargs)


def sink_thread(settings: Settings, **kwargs: Any) -> ServiceThread:
    return ServiceThread(run_sink, settings, max_age_s=0.5, **kwargs)


def ingest(settings: Settings, source: Any) -> Any:
    """Run the ingest service to the end of ``source``; returns the IngestService."""
    return asyncio.run(run_ingest(settings, source))


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f}s waiting for {what}"
        time.sleep(0.1)


def produce_in_order(kafka: KafkaSettings, topic: str, values: Sequence[bytes]) -> None:
    """Write ``values`` to partition 0 of ``topic`` (the topics created first), in order."""
    bootstrap = kafka.bootstrap_servers or ""
    ensure_topics({"bootstrap.servers": bootstrap}, kafka)
    producer = Producer({"bootstrap.servers": bootstrap})
    for value in values:
        producer.produce(topic, value, b"alpha", partition=0)
    assert producer.flush(10) == 0


def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0) -> list[Any]:
    """Every record of ``topic`` from the start, once ``expected`` have arrived (or timeout)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": "false",
        }  # fmt: skip
    )
    consumer.subscribe([topic])
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for message in consumer.consume(1000, 0.5):
                if message.error() is None:
                    records.append(message)
        for message in consumer.consume(1000, 1.0):  # anything beyond expected (duplicates)
            if message.error() is None:
                records.append(message)
    finally:
        consumer.close()
    return records


def stored_messages(dsn: str) -> tuple[int, int, int]:
    """(rows, distinct ids, rows with a sentiment) in chat_messages of the store at ``dsn``."""
    from chatpulse.config import StoreSettings

    store = open_store(StoreSettings(dsn=dsn))
    try:
        row = store.query(
            "SELECT count() AS rows, uniqExact(id) AS ids, countIf(sentiment_label != '') AS scored "
            "FROM chat_messages"
        )[0]
    finally:
        store.close()
    return int(row["rows"]), int(row["ids"]), int(row["scored"])
