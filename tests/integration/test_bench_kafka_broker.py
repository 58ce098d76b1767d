"""``chatpulse bench kafka`` without a broker given starts its own and stops it when done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import SHARED_DATA


def brokers_with_env(marker: str) -> list[int]:
    """Pids of live Kafka brokers that inherited the environment entry ``marker`` (wherever their
    run folder is, a broker the bench started inherits the bench's environment)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" in args and marker.encode() in environ:
            found.append(int(proc.name))
    return found


def test_bench_kafka_stops_the_broker_it_started(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "CHATPULSE_"))}
    env["TMPDIR"] = str(tmp_path)  # also marks the processes the bench starts
    try:
        done = subprocess.run(
            [sys.executable, "-m", "chatpulse", "bench", "kafka", "--quick",
             "--shared-data", str(SHARED_DATA), "--opt", "produce_events=2000", "--opt", "events=2000",
             "--output", str(tmp_path / "out.json")],
            env=env, capture_output=True, text=True, timeout=400,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        rows = json.loads((tmp_path / "out.json").read_text())
        assert any(row["name"] == "EventProducer.send" and row["value"] > 0 for row in rows)
        assert brokers_with_env(f"TMPDIR={tmp_path}") == []
    finally:
        for pid in brokers_with_env(f"TMPDIR={tmp_path}"):
            os.kill(pid, signal.SIGKILL)
