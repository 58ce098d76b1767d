"""`chatpulse run --kafka`: ingest, enrich and sink in one process through the real local broker.

Each test gets its own topics, consumer groups and spool folder (through the environment, as a
user would configure them) and its own chDB folder, opened only after the run has exited.
"""

from __future__ import annotations

import gzip
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from chatpulse.config import KafkaSettings, StoreSettings
from chatpulse.irc.twitch import parse_line
from chatpulse.store import open_store
from tests.integration.conftest import kafka_cli_env, unique_kafka_settings
from tests.integration.kafka_broker import free_port

CLI = [sys.executable, "-m", "chatpulse", "run"]
XQCOW = Path("replay") / "xqcow-2019-09-15.irc.gz"


def _env(kafka: KafkaSettings, **extra: str) -> dict[str, str]:
    return kafka_cli_env(kafka, COLUMNS="200", **extra)


def _run(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    # cwd: the test's folder, so no chatpulse.yaml or .env of the checkout applies.
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, check=False
    )


def _figures(dsn: str, *sql: str) -> list[Any]:
    store = open_store(StoreSettings(dsn=dsn))
    try:
        return [next(iter(store.query(statement)[0].values())) for statement in sql]
    finally:
        store.close()


def _records_in(bootstrap: str, topic: str) -> int:
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-probe"})
    try:
        partitions = probe.list_topics(topic, timeout=10).topics[topic].partitions
        total = 0
        for p in partitions:
            low, high = probe.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += high - low
        return total
    finally:
        probe.close()


def _message_ids(lines: list[str]) -> set[str]:
    events = [parse_line(line, 0, "replay") for line in lines if line.strip()]
    return {e.id for e in events if e.kind == "message"}  # type: ignore[attr-defined]


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps long lines on a pipe


@pytest.fixture(scope="module")
def xqcow_lines(shared_data: Path) -> list[str]:
    with gzip.open(shared_data / XQCOW, "rt", encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


def test_replay_through_kafka_stores_every_message_scored(
    kafka_bootstrap: str, tmp_path: Path, shared_data: Path, xqcow_lines: list[str]
) -> None:
    kafka = unique_kafka_settings(kafka_bootstrap, tmp_path / "spool")
    properties = tmp_path / "client.properties"
    # Confluent Cloud's download carries Schema Registry keys too; they must not get in the way.
    properties.write_text(
        f"bootstrap.servers={kafka_bootstrap}\nsession.timeout.ms=45000\n"
        "schema.registry.url=https://psrc-example.confluent.cloud\n"
    )
    dsn = f"chdb://{tmp_path / 'db'}"
    done = _run(
        ["--replay", str(shared_data / XQCOW), "--speed", "max", "--kafka", str(properties),
         "--no-dashboard", "--store", dsn],
        _env(kafka), tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    messages, unscored = _figures(
        dsn,
        "SELECT uniqExact(id) FROM chat_messages",
        # no verdict, and not a message found not English (stored without one, by design)
        "SELECT countIf(sentiment_label = '' AND sentiment_lang = '') FROM chat_messages",
    )
    assert messages == len(_message_ids(xqcow_lines))
    assert unscored == 0
    # It really went through Kafka: every line is a record on both topics.
    assert _records_in(kafka_bootstrap, kafka.topic_raw) == len(xqcow_lines)
    assert _records_in(kafka_bootstrap, kafka.topic_enriched) == len(xqcow_lines)
    # Each stage closes with its own summary line, the run with one for all.
    said = _flat(done.stderr)
    lines = f"{len(xqcow_lines):,}"
    assert f"sink in {lines}" in said and f"enrich in {lines}" in said and f"stored {lines}" in said


def test_an_unreachable_broker_spools_and_the_next_run_sends_it_first(
    kafka_bootstrap: str, tmp_path: Path, xqcow_lines: list[str]
) -> None:
    kafka = unique_kafka_settings(kafka_bootstrap, tmp_path / "spool")
    properties = tmp_path / "client.properties"
    properties.write_text(f"bootstrap.servers=127.0.0.1:{free_port()}\n")  # nobody listens there
    first, second = tmp_path / "first.irc", tmp_path / "second.irc"
    first.write_text("\n".join(xqcow_lines[:300]) + "\n")
    second.write_text("\n".join(xqcow_lines[300:600]) + "\n")
    dsn = f"chdb://{tmp_path / 'db'}"
    args = ["--speed", "max", "--kafka", str(properties), "--no-dashboard", "--store", dsn]

    away = _run(["--replay", str(first), *args], _env(kafka), tmp_path)
    assert away.returncode == 0, away.stderr
    said = _flat(away.stderr)
    assert "is unreachable: events go to the spool" in said
    assert "the next run sends them first" in said
    assert _figures(dsn, "SELECT count() FROM chat_messages") == [0]

    # KAFKA_BOOTSTRAP_SERVERS overrides the file's servers: now the broker answers.
    back = _run(
        ["--replay", str(second), *args], _env(kafka, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap), tmp_path
    )
    assert back.returncode == 0, back.stderr
    (messages,) = _figures(dsn, "SELECT uniqExact(id) FROM chat_messages")
    assert messages == len(_message_ids(xqcow_lines[:600]))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        ("bootstrap.servers=127.0.0.1:9092\n=no key here\n", "line 2: expected key=value"),
        ("security.protocol=PLAINTEXT\n", "kafka.bootstrap_servers is not set"),
    ],
)
def test_a_bad_properties_file_exits_2_naming_it(content: str | None, reason: str, tmp_path: Path) -> None:
    properties = tmp_path / "client.properties"
    if content is not None:
        properties.write_text(content)
    kafka = unique_kafka_settings("unused:9092", tmp_path / "spool")
    done = _run(
        ["--demo", "--kafka", str(properties), "--no-dashboard", "--store", f"chdb://{tmp_path / 'db'}"],
        _env(kafka), tmp_path, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert reason in done.stderr and str(properties) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "db").exists()  # refused before any work


def test_sigterm_drains_every_stage_into_the_store(kafka_bootstrap: str, tmp_path: Path) -> None:
    kafka = unique_kafka_settings(kafka_bootstrap, tmp_path / "spool")
    properties = tmp_path / "client.properties"
    properties.write_text(f"bootstrap.servers={kafka_bootstrap}\n")
    dsn = f"chdb://{tmp_path / 'db'}"
    proc = subprocess.Popen(
        [*CLI, "--demo", "--demo-history", "0", "--kafka", str(properties), "--no-dashboard", "--store", dsn],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(kafka), cwd=tmp_path,
    )  # fmt: skip
    time.sleep(8)  # topics, consumer groups, then a few seconds of chat at the demo's 200 lines/s
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr
    assert "draining and flushing" in stderr
    final = [line for line in stderr.splitlines() if "done" in line and "read" in line][-1]
    totals = {
        name: int(n.replace(",", "")) for name, n in re.findall(r"(read|enriched|stored) ([\d,]+)", final)
    }
    assert totals["read"] > 200
    assert totals["read"] == totals["enriched"] == totals["stored"]
    (stored,) = _figures(
        dsn, "SELECT (SELECT uniqExact(id) FROM chat_messages) + (SELECT count() FROM chat_events)"
    )
    assert stored == totals["read"]
