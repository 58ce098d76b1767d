"""``chatpulse run --duration`` against an IRC server: when every connection is refused the run
ends non-zero and says nothing was received; when chat arrives it ends with 0 (the local
Twitch-like test server)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.cli import chatpulse


def run(tmp_path: Path, irc_url: str) -> subprocess.CompletedProcess[str]:
    return chatpulse(
        tmp_path, "run", "--channel", "pajlada", "--irc-url", irc_url, "--duration", "3", "--no-dashboard",
        "--workers", "0", "--store", f"chdb://{tmp_path / 'db'}",
    )  # fmt: skip


def test_every_connection_refused_ends_non_zero_saying_nothing_was_received(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(tmp_path, f"irc://127.0.0.1:{port}")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"chatpulse: nothing was received in 3 s: every connection to irc://127.0.0.1:{port} failed"
    )


def test_a_server_that_sends_chat_ends_with_zero(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "chatpulse.testing.irc_server", "--port", "0", "--say-every", "0.2"],
        stdout=subprocess.PIPE, text=True,
    ) as server:  # fmt: skip
        try:
            assert server.stdout is not None
            url = server.stdout.readline().split()[-1]  # "listening on irc://127.0.0.1:PORT"
            result = run(tmp_path, url)
        finally:
            server.terminate()
    assert result.returncode == 0, result.stderr
    assert "nothing was received" not in result.stderr
