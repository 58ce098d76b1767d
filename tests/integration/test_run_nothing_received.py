"""``chatpulse run`` and ``tail`` with ``--duration`` against an IRC server: when every connection
is refused they end non-zero and say nothing was received; when chat arrives, or Ctrl-C ends them
first, they end with 0 (the local Twitch-like test server)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import chatpulse, clean_env

LIVE = {
    "run": ["run", "--channel", "pajlada", "--duration", "3", "--no-dashboard", "--workers", "0"],
    "tail": ["tail", "--channel", "pajlada", "--duration", "3"],
}


def live(tmp_path: Path, command: str, irc_url: str, duration: str = "3") -> list[str]:
    args = [*LIVE[command], "--irc-url", irc_url]
    args[args.index("--duration") + 1] = duration
    return args + (["--store", f"chdb://{tmp_path / 'db'}"] if command == "run" else [])


@pytest.fixture
def refused_url() -> str:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        return f"irc://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def chat_url() -> Iterator[str]:
    with subprocess.Popen(
        [sys.executable, "-m", "chatpulse.testing.irc_server", "--port", "0", "--say-every", "0.2"],
        stdout=subprocess.PIPE, text=True,
    ) as server:  # fmt: skip
        try:
            assert server.stdout is not None
            yield server.stdout.readline().split()[-1]  # "listening on irc://127.0.0.1:PORT"
        finally:
            server.terminate()


@pytest.mark.parametrize("command", ["run", "tail"])
def test_every_connection_refused_ends_non_zero_saying_nothing_was_received(
    tmp_path: Path, command: str, refused_url: str
) -> None:
    result = chatpulse(tmp_path, *live(tmp_path, command, refused_url))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"chatpulse: nothing was received in 3 s: every connection to {refused_url} failed"
    )


@pytest.mark.parametrize("command", ["run", "tail"])
def test_a_server_that_sends_chat_ends_with_zero(tmp_path: Path, command: str, chat_url: str) -> None:
    result = chatpulse(tmp_path, *live(tmp_path, command, chat_url))
    assert result.returncode == 0, result.stderr
    assert "nothing was received" not in result.stderr


@pytest.mark.parametrize("command", ["run", "tail"])
def test_ctrl_c_before_the_duration_is_not_a_failure(tmp_path: Path, command: str, refused_url: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "chatpulse", *live(tmp_path, command, refused_url, duration="60")],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean_env(),
    ) as proc:  # fmt: skip
        time.sleep(4)  # started, and refused a few times
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "nothing was received" not in stderr
