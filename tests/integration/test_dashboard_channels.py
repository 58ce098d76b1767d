"""Joining and parting channels of a running `chatpulse run` through the dashboard's API.

`chatpulse run --channel a` (a real subprocess) reads the Twitch-like IRC test server on
127.0.0.1; the test posts to ``/api/channels/{name}/join|part`` and checks what the server saw
(JOIN/PART lines) and what reached the store (the API's live feed).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chatpulse.testing.irc_server import TwitchIrcTestServer
from tests.integration.conftest import anonymous_env

ACT = {"X-ChatPulse-Action": "1"}


@dataclass
class Live:
    server: TwitchIrcTestServer
    url: str
    stderr: list[str]


def _http(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[int, Any]:
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - checked above
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        exc.close()
        return exc.code, json.loads(raw) if raw.startswith(b"{") else raw.decode()


async def http(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[int, Any]:
    # urllib blocks; the IRC test server runs on this test's event loop and must keep serving.
    return await asyncio.to_thread(_http, url, method, headers, body)


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    async with TwitchIrcTestServer() as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chatpulse", "run", "--channel", "a", "--irc-url", server.url,
            "--port", "0", "--store", f"chdb://{tmp_path / 'db'}", "--workers", "0", "--duration", "90",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path, env=anonymous_env(tmp_path),  # cwd: no stray .env or chatpulse.yaml
        )  # fmt: skip
        assert proc.stderr is not None
        stderr: list[str] = []
        url = None
        async with asyncio.timeout(60):
            while url is None:
                line = (await proc.stderr.readline()).decode()
                assert line, f"`chatpulse run` exited: {''.join(stderr)}"
                stderr.append(line)
                match = re.search(r"http://127\.0\.0\.1:\d+", line)
                url = match[0] if match else None

        async def drain() -> None:
            assert proc.stderr is not None
            async for text in proc.stderr:
                stderr.append(text.decode())

        drainer = asyncio.create_task(drain())
        try:
            await server.wait_for(lambda: bool(server.members("a")), timeout=30)
            yield Live(server, url, stderr)
        finally:
            if proc.returncode is None:
                proc.terminate()
            async with asyncio.timeout(60):
                code = await proc.wait()
                await drainer
            assert code == 0, "".join(stderr)


async def _feed_texts(url: str, channel: str) -> list[str]:
    status, body = await http(f"{url}/api/feed?channel={channel}&range=15m")
    assert status == 200, body
    return [m["text"] for m in body["messages"]]


async def test_a_channel_joined_over_the_api_is_read_into_the_store(live: Live) -> None:
    server, url = live.server, live.url
    status, body = await http(f"{url}/api/control")
    assert status == 200 and body["available"] is True and body["channels"] == ["a"]

    status, body = await http(f"{url}/api/channels/b/join", "POST", ACT)
    assert status == 200, body
    assert body["channel"] == "b" and body["channels"] == ["a", "b"]
    await server.wait_for(lambda: bool(server.members("b")), timeout=30)
    assert [j.channel for j in server.accepted_joins()] == ["a", "b"]  # b joined once, a not again

    said = [f"hello from b {i}" for i in range(3)]
    for text in said:
        server.say("b", text)
    server.say("a", "meanwhile in a")
    async with asyncio.timeout(30):
        while await _feed_texts(url, "b") != said:
            await asyncio.sleep(0.3)
    assert await _feed_texts(url, "a") == ["meanwhile in a"]
    _, channels = await http(f"{url}/api/channels")
    assert {c["channel"] for c in channels["channels"]} == {"a", "b"}

    status, body = await http(f"{url}/api/channels/b/part", "POST", ACT)
    assert status == 200 and body["channels"] == ["a"]
    await server.wait_for(lambda: not server.members("b"), timeout=30)
    client = server.members("a")[0]
    assert "PART #b" in client.received
    _, control = await http(f"{url}/api/control")
    assert control["channels"] == ["a"]


REFUSED = [
    ("/api/channels/B%C3%9C/join", ACT, None, 400),  # (B alone is b: names read like the CLI's)
    ("/api/channels/a%20b/join", ACT, None, 400),
    ("/api/channels/" + "x" * 26 + "/join", ACT, None, 400),
    ("/api/channels/%23%23b/join", ACT, None, 400),
    ("/api/channels/b%0A/join", ACT, None, 400),
    # What a web page on another site can send without a CORS preflight: a form post.
    ("/api/channels/b/join", {"Content-Type": "application/x-www-form-urlencoded"}, b"x=1", 403),
    ("/api/channels/b/join", {**ACT, "Origin": "https://evil.example"}, None, 403),
    ("/api/channels/b/join", {**ACT, "Sec-Fetch-Site": "cross-site"}, None, 403),
    ("/api/channels/b/join", {**ACT, "Host": "attacker.example"}, None, 400),  # DNS rebinding
    ("/api/channels/a/part", {}, None, 403),
]


async def test_bad_names_and_cross_site_requests_are_refused_and_change_nothing(live: Live) -> None:
    for path, headers, body, status in REFUSED:
        got, answer = await http(f"{live.url}{path}", "POST", headers, body)
        assert got == status, (path, headers, answer)
        if isinstance(answer, dict):
            assert isinstance(answer["error"], str) and len(answer["error"]) < 200
    got, _ = await http(f"{live.url}/api/channels/b/join", "GET", ACT)
    assert got == 405  # a link or an <img> cannot join either
    await asyncio.sleep(0.5)  # a JOIN or PART, had one been sent, would have arrived by now
    assert [j.channel for j in live.server.joins] == ["a"]
    assert live.server.members("a") and not any(
        line.startswith("PART") for c in live.server.clients for line in c.received
    )
    _, control = await http(f"{live.url}/api/control")
    assert control["channels"] == ["a"]
