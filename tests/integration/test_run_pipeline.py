"""`chatpulse run` as users start it (a subprocess), against real chDB folders.

Each run writes its own data folder; the test opens the folder only after the run has exited
(a chDB folder belongs to one process).
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.irc.twitch import parse_line
from chatpulse.store import open_store

CLI = [sys.executable, "-m", "chatpulse"]


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "run", *args], capture_output=True, text=True, timeout=timeout, check=False)


def _figures(dsn: str, *sql: str) -> list[Any]:
    store = open_store(StoreSettings(dsn=dsn))
    try:
        return [next(iter(store.query(statement)[0].values())) for statement in sql]
    finally:
        store.close()


def _final_totals(stderr: str) -> dict[str, int]:
    line = [text for text in stderr.splitlines() if "done" in text][-1]
    return {stage: int(n.replace(",", "")) for stage, n in re.findall(r"(read|scored|stored) ([\d,]+)", line)}


@pytest.fixture(scope="module")
def xqcow_messages(shared_data: Path) -> set[str]:
    with gzip.open(shared_data / "replay" / "xqcow-2019-09-15.irc.gz", "rt", encoding="utf-8") as f:
        events = [parse_line(line.rstrip("\r\n"), 0, "replay") for line in f if line.strip()]
    return {e.id for e in events if e.kind == "message"}  # type: ignore[attr-defined]


def test_replay_at_max_speed_stores_every_message_scored_then_exits(
    tmp_path: Path, shared_data: Path, xqcow_messages: set[str]
) -> None:
    dsn = f"chdb://{tmp_path / 'db'}"
    capture = shared_data / "replay" / "xqcow-2019-09-15.irc.gz"
    done = _run(
        "--replay", str(capture), "--speed", "max", "--no-dashboard", "--store", dsn, "--workers", "1"
    )
    assert done.returncode == 0, done.stderr
    messages, unscored, channels = _figures(
        dsn,
        "SELECT uniqExact(id) FROM chat_messages",
        # no verdict, and not a message found not English (stored without one, by design)
        "SELECT countIf(sentiment_label = '' AND sentiment_lang = '') FROM chat_messages",
        "SELECT groupUniqArray(channel) FROM chat_messages",
    )
    assert messages == len(xqcow_messages)
    assert unscored == 0
    assert list(channels) == ["xqcow"]
    assert _final_totals(done.stderr)["read"] == 5000  # every line of the capture went through


def test_sigterm_drains_everything_received_into_the_store(tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path / 'db'}"
    proc = subprocess.Popen(
        [*CLI, "run", "--demo", "--demo-history", "0", "--no-dashboard", "--store", dsn, "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(8)  # worker start-up, then a few seconds of chat at the demo's 200 lines/s
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "draining and flushing" in stderr
    totals = _final_totals(stderr)
    assert totals["read"] > 200
    assert totals["read"] == totals["scored"] == totals["stored"]
    (stored,) = _figures(
        dsn, "SELECT (SELECT uniqExact(id) FROM chat_messages) + (SELECT count() FROM chat_events)"
    )
    assert stored == totals["read"]


def test_a_second_interrupt_exits_at_once(tmp_path: Path) -> None:
    # Half an hour of back-fill keeps the pipeline busy, so the first Ctrl-C finds queues and a
    # sink buffer to drain (an idle pipeline drains faster than the second Ctrl-C comes).
    proc = subprocess.Popen(
        [*CLI, "run", "--demo", "--demo-history", "30", "--no-dashboard", "--store",
         f"chdb://{tmp_path / 'db'}", "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(5)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert "exiting now" in stderr


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((), "no source"),
        (("--demo", "--replay", "x.irc"), "cannot be combined"),
        (("--demo", "--speed", "2"), "--speed only applies to --replay"),
        (("--replay", "does-not-exist.irc"), "no such file"),
        (("--channel", "not a channel!"), "invalid channel name"),
        (("--demo", "--kafka", "missing.properties"), "--kafka missing.properties: no such file"),
    ],
)
def test_bad_usage_exits_2_with_one_line(args: tuple[str, ...], reason: str, tmp_path: Path) -> None:
    done = _run(*args, "--store", f"chdb://{tmp_path / 'db'}", timeout=30)
    assert done.returncode == 2
    assert reason in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_taken_dashboard_port_is_reported_before_any_work(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = _run("--demo", "--port", str(port), "--store", f"chdb://{tmp_path / 'db'}", timeout=30)
    assert done.returncode == 2
    assert f"127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert not (tmp_path / "db").exists()


def test_help_shows_an_example() -> None:
    done = subprocess.run([*CLI, "run", "--help"], capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "120"})  # fmt: skip
    assert "chatpulse run --demo" in done.stdout
