"""``chatpulse parse``: every input format the CLI accepts, run as a user runs it.

Each test starts the real command (``python -m chatpulse parse``) and reads its stdout (one
event JSON per non-empty input line, in order) and stderr (the one-line summary).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from chatpulse.events import ChatEvent, ErrorEvent, MessageEvent
from chatpulse.wire import loads

LINES = [
    "@badges=;color=#FF0000;display-name=Ann;emotes=25:0-4;id=m1;room-id=1;tmi-sent-ts=1568505600501;"
    "user-id=11 :ann!ann@ann.tmi.twitch.tv PRIVMSG #demo :Kappa hello",
    "@room-id=1;target-user-id=12;tmi-sent-ts=1568505601000 :tmi.twitch.tv CLEARCHAT #demo :bob",
    "@key=value :tmi.twitch.tv PING  two-spaces",  # malformed: becomes an error event
    "PING :tmi.twitch.tv",
]
KINDS = ["message", "clearchat", "error", "ping"]


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatpulse", "parse", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def _events(result: subprocess.CompletedProcess[str]) -> list[ChatEvent]:
    assert result.returncode == 0, result.stderr
    return [loads(line) for line in result.stdout.splitlines()]


def _assert_the_four_events(result: subprocess.CompletedProcess[str]) -> None:
    events = _events(result)
    assert [e.kind for e in events] == KINDS
    assert [e.raw for e in events] == LINES
    message = events[0]
    assert isinstance(message, MessageEvent)
    assert (message.user_login, message.text, message.channel) == ("ann", "Kappa hello", "demo")
    assert [(e.name, e.start, e.end) for e in message.emotes] == [("Kappa", 0, 5)]
    error = events[2]
    assert isinstance(error, ErrorEvent) and "spaces" in error.error
    summary = result.stderr.strip().splitlines()
    assert len(summary) == 1
    assert "parsed 4 lines" in summary[0] and "errors=1" in summary[0] and "lines/s" in summary[0]


def test_plain_file_with_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "chat.irc"
    path.write_text("\n".join([LINES[0], "", LINES[1], LINES[2], "", LINES[3]]) + "\r\n", encoding="utf-8")
    _assert_the_four_events(_run(str(path)))


def test_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "chat.irc.gz"
    path.write_bytes(gzip.compress(("\r\n".join(LINES) + "\r\n").encode()))
    _assert_the_four_events(_run(str(path)))


def test_json_array_of_lines(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps([LINES[0], LINES[1], "", LINES[2], LINES[3]]), encoding="utf-8")
    _assert_the_four_events(_run(str(path)))


def test_recent_messages_json(tmp_path: Path) -> None:
    path = tmp_path / "recent.json"
    path.write_text(json.dumps({"messages": LINES, "error": None}), encoding="utf-8")
    _assert_the_four_events(_run(str(path)))


def test_stdin() -> None:
    _assert_the_four_events(_run("-", stdin="\n".join(LINES) + "\n"))


def test_missing_file_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.irc"
    result = _run(str(missing))
    assert result.returncode != 0
    assert result.stdout == ""
    message = result.stderr.strip().splitlines()
    assert len(message) == 1
    assert str(missing) in message[0]


def test_the_real_capture_streams_one_event_per_line(shared_data: Path) -> None:
    result = _run(str(shared_data / "replay" / "nymn-2024-01-06.json"))
    events = _events(result)
    assert len(events) == 800
    assert not [e for e in events if e.kind == "error"]
    assert "parsed 800 lines" in result.stderr
