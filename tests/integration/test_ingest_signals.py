"""`chatpulse ingest` stops on SIGTERM like `enrich` and `sink`: flushes, says so, exits 0."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from tests.integration.conftest import kafka_cli_env, unique_kafka_settings


def _records_in(bootstrap: str, topic: str) -> int:
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-probe"})
    try:
        partitions = probe.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(probe.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions)
    finally:
        probe.close()


def test_sigterm_flushes_every_event_read_and_exits_cleanly(kafka_bootstrap: str, tmp_path: Path) -> None:
    kafka = unique_kafka_settings(kafka_bootstrap, tmp_path / "spool")
    env = kafka_cli_env(kafka, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, COLUMNS="300")
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatpulse", "ingest", "--synthetic", "--rate", "500"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(6)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    final = [line for line in stderr.splitlines() if "done" in line][-1]
    read = int(re.search(r"ingest in ([\d,]+)", final).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert read > 500
    assert _records_in(kafka_bootstrap, kafka.topic_raw) == read  # nothing read was left unsent
