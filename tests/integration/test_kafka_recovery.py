"""Faults through a real Kafka broker: the broker restarts mid-stream; an enrich worker is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from chatpulse.config import SentimentSettings, Settings, StoreSettings
from chatpulse.irc.twitch import parse_line
from chatpulse.services.ingest import IngestService
from chatpulse.sources.base import now_ms
from chatpulse.transport.kafka import client_config, ensure_topics, event_record, open_producer
from tests.integration.conftest import unique_kafka_settings
from tests.integration.kafka_broker import free_port, private_broker
from tests.integration.kafka_pipeline import (
    LineSource,
    chat_lines,
    enrich_thread,
    ingest,
    sink_thread,
    stored_messages,
    wait_until,
)

pytestmark = pytest.mark.slow


def test_broker_stopped_and_restarted_mid_stream_every_event_is_stored_exactly_once(tmp_path: Path) -> None:
    broker = private_broker(tmp_path / "broker")
    broker.up()
    try:
        settings = Settings(
            kafka=unique_kafka_settings(broker.bootstrap, tmp_path / "spool"),
            store=StoreSettings(dsn=f"chdb://{tmp_path / 'store'}"),
            sentiment=SentimentSettings(analyzer="lexicon"),
        )
        lines = chat_lines(3000)
        source = LineSource(lines, rate=400)  # about 7.5 s of chat
        enrich = enrich_thread(settings)
        sink = sink_thread(settings)
        result: dict[str, object] = {}
        try:
            ingesting = threading.Thread(target=lambda: result.update(service=ingest(settings, source)))
            ingesting.start()
            wait_until(lambda: source.sent >= 800, 30, "a third of the stream")
            broker.down()
            time.sleep(2.0)  # chat keeps coming while the broker is away
            broker.up()
            ingesting.join(120)
            assert not ingesting.is_alive()
            service = result["service"]
            assert isinstance(service, IngestService)
            assert service.producer.stats.spooled > 0  # the outage really happened
            wait_until(lambda: sink.consumed >= len(lines), 120, "every event at the sink")
        finally:
            enrich.stop()
            sink.stop()
        rows, ids, _ = stored_messages(settings.store.dsn)
        assert ids == len(lines)
        assert rows == len(lines)  # no duplicates
    finally:
        broker.down()


def _committed(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": "false"})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    finally:
        consumer.close()
    return sum(max(0, tp.offset) for tp in offsets)


def _enrich_process(
    env: dict[str, str], properties: Path, metrics_port: int, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "chatpulse", "enrich", "--batch-size", "200",
             "--properties", str(properties), "--metrics-port", str(metrics_port)],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:  # noqa: S310
        for line in response.read().decode().splitlines():
            if line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_enrich_worker_killed_mid_batch_resumes_from_the_committed_offset_without_loss(
    pipeline_settings: Settings, tmp_path: Path
) -> None:
    kafka = pipeline_settings.kafka
    bootstrap = kafka.bootstrap_servers or ""
    config = client_config(kafka)
    ensure_topics(config, kafka)
    properties = tmp_path / "client.properties"
    # A short session so the killed worker's partitions are handed over within seconds.
    properties.write_text("# test client\nsession.timeout.ms=6000\nheartbeat.interval.ms=500\n")
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "CHATPULSE_KAFKA__TOPIC_RAW": kafka.topic_raw,
        "CHATPULSE_KAFKA__TOPIC_ENRICHED": kafka.topic_enriched,
        "CHATPULSE_KAFKA__TOPIC_DEADLETTER": kafka.topic_deadletter,
        "CHATPULSE_KAFKA__GROUP_PREFIX": kafka.group_prefix,
        "CHATPULSE_KAFKA__SPOOL_DIR": str(tmp_path / "worker-spool"),
    }
    producer, lock = open_producer(kafka, config, "test")
    events = [parse_line(line, now_ms(), "irc") for line in chat_lines(6000)]

    def produce(batch: list) -> None:  # type: ignore[type-arg]
        for event in batch:
            producer.send_blocking(event_record(kafka.topic_raw, event))
        assert producer.flush()

    group = f"{kafka.group_prefix}-enrich"

    def enriched_size() -> int:
        return _topic_size(bootstrap, kafka.topic_enriched, kafka.partitions)

    produce(events[:2000])
    port = free_port()
    worker = _enrich_process(env, properties, port, tmp_path / "enrich-1.log")
    try:
        wait_until(lambda: _committed(bootstrap, group, kafka.topic_raw, kafka.partitions) == 2000, 60,
                   "the first worker to commit the first 2000")  # fmt: skip
        produce(events[2000:])
        enriched_before = enriched_size()
        wait_until(lambda: enriched_size() > enriched_before, 30, "the worker to start on the second part")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    committed = _committed(bootstrap, group, kafka.topic_raw, kafka.partitions)
    assert 2000 <= committed < len(events)

    port = free_port()
    restarted = _enrich_process(env, properties, port, tmp_path / "enrich-2.log")
    sink = sink_thread(pipeline_settings)
    try:
        wait_until(lambda: _committed(bootstrap, group, kafka.topic_raw, kafka.partitions) == len(events), 90,
                   "the restarted worker to commit everything")  # fmt: skip
        consumed_after_restart = _metric(port, "chatpulse_events_in_total")
        wait_until(lambda: sink.consumed >= enriched_size(), 90, "the sink to take every enriched record")
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(30)
        sink.stop()
        producer.close()
        lock.release()
    assert restarted.returncode == 0
    assert consumed_after_restart == len(events) - committed  # resumed where the dead worker committed
    rows, ids, scored = stored_messages(pipeline_settings.store.dsn)
    assert ids == len(events)
    assert rows == len(events)  # records enriched twice were stored once
    assert scored == len(events)


def _topic_size(bootstrap: str, topic: str, partitions: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"size-{uuid.uuid4().hex}"})
    try:
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)
        )
    finally:
        consumer.close()
