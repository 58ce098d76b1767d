"""`chatpulse run --channels-file`: every listed channel is joined, and its chat reaches the store."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from chatpulse.config import StoreSettings
from chatpulse.store import open_store
from chatpulse.testing.irc_server import TwitchIrcTestServer
from tests.integration.conftest import anonymous_env


async def test_run_joins_every_channel_of_the_file_and_stores_their_chat(tmp_path: Path) -> None:
    listing = tmp_path / "channels.txt"
    listing.write_text("# the channels we follow\nalpha\nbravo, charlie\n\nalpha\n", encoding="utf-8")
    async with TwitchIrcTestServer() as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chatpulse", "run", "--channels-file", str(listing), "--channel", "delta",
            "--irc-url", server.url, "--no-dashboard", "--store", f"chdb://{tmp_path / 'db'}",
            "--workers", "0", "--duration", "8",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
            env=anonymous_env(tmp_path),
        )  # fmt: skip
        wanted = {"alpha", "bravo", "charlie", "delta"}
        await server.wait_for(lambda: {j.channel for j in server.accepted_joins()} >= wanted, timeout=30)
        for channel in sorted(wanted):
            server.say(channel, f"hello from {channel}")
        _, stderr = await proc.communicate()
        assert proc.returncode == 0, stderr.decode()[-2000:]
    joined = [j.channel for j in server.accepted_joins()]
    assert sorted(joined) == sorted(wanted)  # each exactly once, the duplicate line ignored
    store = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'db'}"))
    try:
        rows = store.query("SELECT channel, text FROM chat_messages FINAL ORDER BY channel")
    finally:
        store.close()
    assert [(r["channel"], r["text"]) for r in rows] == [(c, f"hello from {c}") for c in sorted(wanted)]
