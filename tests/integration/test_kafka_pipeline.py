"""ingest -> enrich -> sink through a real Kafka broker: counts, dead letters, scale-out."""

from __future__ import annotations

import time
from pathlib import Path

from chatpulse.config import KafkaSettings, Settings
from chatpulse.services.sink import run_sink
from chatpulse.sources.replay import ReplaySource, iter_lines
from chatpulse.transport.kafka import ensure_topics
from chatpulse.transport.topics import HEADER_ERROR, HEADER_SCHEMA, HEADER_SOURCE, Topics
from chatpulse.wire import loads
from tests.integration.kafka_pipeline import (
    LineSource,
    ServiceThread,
    chat_lines,
    enrich_thread,
    ingest,
    produce_in_order,
    read_topic,
    sink_thread,
    stored_messages,
    wait_until,
)


def test_round_trip_of_the_xqcow_capture_stores_every_message_once_with_sentiment(
    pipeline_settings: Settings, shared_data: Path
) -> None:
    capture = shared_data / "replay" / "xqcow-2019-09-15.irc.gz"
    lines = list(iter_lines(capture))
    enrich = enrich_thread(pipeline_settings)
    sink = sink_thread(pipeline_settings)
    try:
        service = ingest(pipeline_settings, ReplaySource(capture, speed=None))
        assert service.received == len(lines)
        assert service.producer.delivered() == len(lines)
        wait_until(lambda: sink.consumed == len(lines), 60, "the sink to receive every event")
    finally:
        enrich.stop()
        sink.stop()
    assert enrich.consumed == len(lines)
    raw = read_topic(
        pipeline_settings.kafka.bootstrap_servers or "", pipeline_settings.kafka.topic_raw, len(lines)
    )
    assert len(raw) == len(lines)
    first = raw[0]
    headers = dict(first.headers())
    assert headers[HEADER_SCHEMA] == b"1" and headers[HEADER_SOURCE] == b"replay"
    assert first.key() == b"xqcow"
    message_ids = {line.split("id=", 1)[1].split(";", 1)[0] for line in lines if " PRIVMSG " in line}
    rows, ids, scored = stored_messages(pipeline_settings.store.dsn)
    assert ids == len(message_ids)
    assert scored >= ids  # every stored message carries the enrich stage's sentiment


def test_a_malformed_record_goes_to_the_dead_letter_topic_and_the_stream_goes_on(
    pipeline_settings: Settings,
) -> None:
    kafka = pipeline_settings.kafka
    bootstrap = kafka.bootstrap_servers or ""
    good = chat_lines(2)
    from chatpulse.irc.twitch import parse_line
    from chatpulse.wire import dumps

    malformed = b'{"schema": 1, "kind": "message", "received_at": '
    produce_in_order(
        kafka,
        kafka.topic_raw,
        [
            dumps(parse_line(good[0], 1, "irc")).encode(),
            malformed,
            dumps(parse_line(good[1], 2, "irc")).encode(),
        ],
    )

    enrich = enrich_thread(pipeline_settings)
    try:
        enriched = read_topic(bootstrap, kafka.topic_enriched, 2)
        dead = read_topic(bootstrap, kafka.topic_deadletter, 1)
    finally:
        enrich.stop()
    texts = sorted(loads(m.value()).text for m in enriched)  # type: ignore[attr-defined]
    assert texts == ["PogChamp what a play 0", "this is so bad 1"]
    assert all(loads(m.value()).sentiment is not None for m in enriched)  # type: ignore[attr-defined]
    assert len(dead) == 1
    assert dead[0].value() == b'{"schema": 1, "kind": "message", "received_at": '
    error = dict(dead[0].headers())[HEADER_ERROR].decode()
    assert error.startswith("WireFormatError")
    assert enrich.service is not None and enrich.service.consumer.stats.dead_letters == 1


def test_two_enrich_workers_in_one_group_split_the_partitions(pipeline_settings: Settings) -> None:
    kafka = pipeline_settings.kafka
    lines = chat_lines(4000, channels=[f"channel{i}" for i in range(24)])
    first = enrich_thread(pipeline_settings)
    second = enrich_thread(pipeline_settings)
    try:

        def both_hold_partitions() -> bool:
            if first.service is None or second.service is None:
                return False
            held = (first.service.consumer.stats.assigned, second.service.consumer.stats.assigned)
            return all(held) and len(held[0]) + len(held[1]) == kafka.partitions

        wait_until(both_hold_partitions, 60, "both workers to hold partitions")
        ingest(pipeline_settings, LineSource(lines))
        wait_until(lambda: first.consumed + second.consumed >= len(lines), 60, "all lines to be enriched")
        assert first.service and second.service
        held_first = set(first.service.consumer.stats.assigned)
        held_second = set(second.service.consumer.stats.assigned)
    finally:
        first.stop()
        second.stop()
    assert held_first and held_second
    assert not held_first & held_second
    assert held_first | held_second == set(range(kafka.partitions))
    assert first.consumed > 0 and second.consumed > 0
    assert first.consumed + second.consumed == len(lines)
    enriched = read_topic(kafka.bootstrap_servers or "", kafka.topic_enriched, len(lines))
    assert len(enriched) == len(lines)


def test_workers_starting_together_all_get_the_topics(kafka_settings: KafkaSettings) -> None:
    # enrich and sink processes started at once race to create the same topics; the losers see
    # TOPIC_ALREADY_EXISTS (after metadata that listed the topic with an error, or not at all).
    from concurrent.futures import ThreadPoolExecutor

    config = {"bootstrap.servers": kafka_settings.bootstrap_servers or ""}
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ensure_topics(config, kafka_settings), range(4)))
    expected = {name: kafka_settings.partitions for name in Topics.from_settings(kafka_settings).all()}
    assert results == [expected] * 4


def test_the_sink_dead_letters_a_record_the_store_cannot_hold_and_stores_the_rest(
    pipeline_settings: Settings,
) -> None:
    from chatpulse.irc.twitch import parse_line
    from chatpulse.wire import dumps

    kafka = pipeline_settings.kafka
    bootstrap = kafka.bootstrap_servers or ""
    lines = chat_lines(3)
    good = [dumps(parse_line(line, 1, "irc")).encode() for line in lines]
    # A valid event, but bits cannot be negative in the store (UInt32): before, the sink took
    # this for a store failure and stopped, and every restart stopped at the same record.
    negative = good[1].replace(b'"bits":0', b'"bits":-5')
    produce_in_order(kafka, kafka.topic_enriched, [good[0], negative, good[2]])

    sink = sink_thread(pipeline_settings)
    try:
        dead = read_topic(bootstrap, kafka.topic_deadletter, 1)
        wait_until(lambda: sink.consumed >= 3, 30, "the sink to take all three records")
    finally:
        sink.stop()
    assert [d.value() for d in dead] == [negative]
    assert "cannot hold" in dict(dead[0].headers())[HEADER_ERROR].decode()
    rows, ids, _ = stored_messages(pipeline_settings.store.dsn)
    assert (rows, ids) == (2, 2)


def test_when_chat_pauses_the_sink_stores_what_it_holds_without_waiting_out_max_age(
    pipeline_settings: Settings,
) -> None:
    """``--max-age`` bounds how long the sink gathers rows under load; once it has caught up
    nothing more is coming to batch with, so what arrived is stored and committed at once."""
    from chatpulse.irc.twitch import parse_line
    from chatpulse.wire import dumps_bytes

    kafka = pipeline_settings.kafka
    values = [dumps_bytes(parse_line(line, 1, "irc")) for line in chat_lines(50)]
    produce_in_order(kafka, kafka.topic_enriched, values)
    # Caught up, the sink commits after a quarter of --max-age at the latest, not after all of it.
    sink = ServiceThread(run_sink, pipeline_settings, max_age_s=40)
    try:
        started = time.monotonic()
        # Stored (the metric counts what the store took), then committed: the offsets follow.
        wait_until(lambda: _stored_metric(sink) == 50 and _commits(sink) >= 1, 30,
                   "the sink to store the 50 messages and commit their offsets")  # fmt: skip
        waited = time.monotonic() - started
    finally:
        sink.stop()
    assert waited < 30  # not the 40 s of --max-age
    rows, ids, _ = stored_messages(pipeline_settings.store.dsn)
    assert (rows, ids) == (50, 50)


def _commits(sink: ServiceThread) -> int:
    return sink.service.consumer.stats.commits if sink.service else 0


def _stored_metric(sink: ServiceThread) -> float:
    """The sink's ``chatpulse_events_out_total`` as its /metrics endpoint shows it."""
    assert sink.service is not None
    for line in sink.service.metrics.exposition().decode().splitlines():
        if line.startswith("chatpulse_events_out_total{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
