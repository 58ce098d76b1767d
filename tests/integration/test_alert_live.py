"""Live chat alerts: `chatpulse run --channel` on the local Twitch-like IRC server, judged by the clock.

Chat flows, then stops: the run alerts the silence by the wall clock (no later message will
ever tell it). Then the server goes away: the source loses the channel, and the coverage gap
is alerted once it outlasts its grace.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from chatpulse.testing.irc_server import TwitchIrcTestServer
from chatpulse.testing.webhook_receiver import WebhookReceiver
from tests.integration.conftest import anonymous_env


async def test_live_chat_that_stops_then_a_lost_connection_each_alert(tmp_path: Path) -> None:
    env = {
        **anonymous_env(tmp_path),
        "CHATPULSE_ALERTS__SILENCE_MINUTES": "0.1",  # six seconds
        "CHATPULSE_ALERTS__COVERAGE_GRACE_S": "2",
        "CHATPULSE_ALERTS__COOLDOWN_S": "0",
    }
    with WebhookReceiver() as hook:
        async with TwitchIrcTestServer() as server:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "chatpulse", "run", "--channel", "pulsetest", "--irc-url", server.url,
                "--no-dashboard", "--store", f"chdb://{tmp_path / 'db'}", "--workers", "0",
                "--duration", "120", "--alert-webhook", hook.url(),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, cwd=tmp_path, env=env,
            )  # fmt: skip
            try:
                await server.wait_for(lambda: bool(server.accepted_joins()), timeout=60)
                for i in range(30):
                    server.say("pulsetest", f"message {i}")
                    await asyncio.sleep(0.1)
                silence = await asyncio.to_thread(hook.wait_for, 1, 40)
                assert [(b["kind"], b["numbers"]["reason"]) for b in silence] == [
                    ("chat_stopped", "no messages")
                ]
                await server.stop()  # the connection is lost and stays lost: reconnects are refused
                both = await asyncio.to_thread(hook.wait_for, 2, 40)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                _, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()[-2000:]
    gap = both[1]
    assert (gap["kind"], gap["channel"]) == ("chat_stopped", "pulsetest")
    assert gap["numbers"]["reason"] != "no messages" and gap["numbers"]["gap_s"] >= 2
    assert "the source lost the channel" in gap["summary"]
