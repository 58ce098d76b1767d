"""TwitchIrcSource against the Twitch-like IRC test server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from chatpulse.cli import main
from chatpulse.config import TwitchSettings
from chatpulse.errors import AuthenticationError
from chatpulse.events import CoverageEvent
from chatpulse.sources.base import RawLine, SourceItem
from chatpulse.sources.twitch_irc.source import IrcTimings, TwitchIrcSource
from chatpulse.testing.irc_server import ServerClient, TwitchIrcTestServer

TOKEN = "abcdefghij0123456789secret"
FAST = IrcTimings(
    connect_timeout_s=2, login_timeout_s=2, join_timeout_s=1, idle_ping_s=30, pong_timeout_s=2,
    backoff_base_s=0.05, backoff_cap_s=0.2,
)  # fmt: skip


class Collector:
    """Runs a source in the background and keeps everything it yields."""

    def __init__(self, source: TwitchIrcSource) -> None:
        self.source = source
        self.items: list[SourceItem] = []
        self.error: BaseException | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for item in self.source.stream():
                self.items.append(item)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            self.error = exc

    @property
    def lines(self) -> list[str]:
        return [item.line for item in self.items if isinstance(item, RawLine)]

    def coverage(self) -> list[tuple[str | None, str]]:
        return [(i.channel, i.state) for i in self.items if isinstance(i, CoverageEvent)]

    def message_ids(self) -> list[str]:
        return [line.split(";id=", 1)[1].split(";", 1)[0] for line in self.lines if " PRIVMSG " in line]

    async def until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                if self.task.done():
                    raise AssertionError(f"source stopped early: {self.error!r}")
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        await self.source.close()
        await asyncio.wait_for(self.task, 5)


@pytest.fixture
async def server() -> AsyncIterator[TwitchIrcTestServer]:
    async with TwitchIrcTestServer(tokens={f"oauth:{TOKEN}": "mybot"}) as running:
        yield running


def settings_for(url: str, **extra: object) -> TwitchSettings:
    return TwitchSettings.model_validate({"irc_url": url, **extra})


async def start(url: str, channels: list[str], timings: IrcTimings = FAST, **extra: object) -> Collector:
    return Collector(TwitchIrcSource(settings_for(url, **extra), channels, timings=timings))


def only_client(server: TwitchIrcTestServer) -> ServerClient:
    clients = server.live_clients()
    assert len(clients) == 1
    return clients[0]


async def test_anonymous_login_negotiates_caps_and_joins(server: TwitchIrcTestServer) -> None:
    run = await start(server.url, ["alpha", "#Beta"])
    await run.until(lambda: run.source.covered == {"alpha", "beta"})
    client = only_client(server)
    assert client.received[0] == "CAP REQ :twitch.tv/tags twitch.tv/commands twitch.tv/membership"
    assert client.received[1].startswith("NICK justinfan")
    assert not any(line.startswith("PASS") for line in client.received)
    assert client.caps == {"twitch.tv/tags", "twitch.tv/commands", "twitch.tv/membership"}
    assert {"JOIN #alpha", "JOIN #beta"} <= set(client.received)
    assert any(" CAP * ACK " in line for line in run.lines)
    assert any(" 001 " in line for line in run.lines)
    assert run.coverage() == [("alpha", "connected"), ("beta", "connected")]
    await run.stop()
    assert run.coverage()[2:] == [("alpha", "disconnected"), ("beta", "disconnected")]


async def test_token_login_sends_pass_and_never_logs_the_token(
    server: TwitchIrcTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    run = await start(server.url, ["alpha"], nickname="MyBot", token=TOKEN)  # no oauth: prefix
    await run.until(lambda: run.source.covered == {"alpha"})
    client = only_client(server)
    assert client.received[1:3] == [f"PASS oauth:{TOKEN}", "NICK mybot"]
    assert any("GLOBALUSERSTATE" in line for line in run.lines)
    await run.stop()
    assert "unencrypted" in caplog.text  # irc:// with a token: warned...
    assert TOKEN not in caplog.text  # ...without the token


async def test_refused_token_raises_without_the_token(
    server: TwitchIrcTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    run = await start(server.url, ["alpha"], nickname="mybot", token="wrong" + TOKEN)
    await asyncio.wait_for(run.task, 5)
    assert isinstance(run.error, AuthenticationError)
    assert "Login authentication failed" in str(run.error)
    assert TOKEN not in str(run.error) and TOKEN not in caplog.text
    assert len(server.clients) == 1  # refused credentials are not retried


@pytest.fixture
def server_process() -> Iterator[str]:
    """The test server in a child process (the CLI runs its own event loop); yields its URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "chatpulse.testing.irc_server", "--port", "0", "--say-every", "0.1"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        yield server.stdout.readline().split()[-1]
    finally:
        server.terminate()
        server.wait(5)
        if server.stdout is not None:
            server.stdout.close()


def test_tail_shows_live_chat_until_duration(
    server_process: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    main(["tail", "--irc-url", server_process, "--channel", "#Demo", "--duration", "1", "--no-color"])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].endswith("#demo ── receiving chat")
    chat = [line for line in lines if "#demo Viewer: test message" in line]
    assert len(chat) >= 3
    assert "0 coverage gaps" in err


def test_tail_with_refused_token_exits_1_without_printing_it(
    server_process: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NICKNAME", "mybot")
    monkeypatch.setenv("TOKEN", TOKEN)  # the child server knows no token: every login is refused
    with pytest.raises(SystemExit) as exited:
        main(["tail", "--channel", "xqc", "--irc-url", server_process, "--duration", "5"])
    out, err = capsys.readouterr()
    assert exited.value.code == 1
    assert "Twitch refused the login as mybot" in err
    assert TOKEN not in out + err


async def test_joins_are_paced_to_the_limit_across_the_pool() -> None:
    channels = [f"chan{n}" for n in range(12)]
    async with TwitchIrcTestServer(joins_per_window=5, join_window_s=0.5) as server:
        run = await start(
            server.url, channels, joins_per_window=5, join_window_s=0.5, channels_per_connection=4
        )
        await run.until(lambda: run.source.covered == set(channels))
        joins = server.accepted_joins()
        assert len({record.client for record in joins}) == 3  # 12 channels, 4 per connection
        assert not [record for record in server.joins if not record.accepted]
        assert sorted(record.channel for record in joins) == sorted(channels)
        times = [record.at for record in joins]
        for first, sixth in zip(times, times[5:], strict=False):
            assert sixth - first >= 0.5 - 0.02
        await run.stop()


async def test_unpaced_joins_are_dropped_by_the_server_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    channels = [f"chan{n}" for n in range(8)]
    async with TwitchIrcTestServer(joins_per_window=5, join_window_s=10) as server:
        timings = IrcTimings(**{**FAST.__dict__, "join_timeout_s": 0.3})
        run = await start(server.url, channels, timings, joins_per_window=100, join_window_s=10)
        await run.until(lambda: run.source.counters.join_failures == 3)
        failed = [(i.channel, i.reason) for i in run.items if isinstance(i, CoverageEvent) and i.reason]
        assert failed == [(f"chan{n}", "join failed: no ROOMSTATE after 3 JOINs") for n in (5, 6, 7)]
        assert Counter(r.channel for r in server.joins if not r.accepted) == {
            f"chan{n}": 3 for n in (5, 6, 7)
        }
        assert "could not join #chan7" in caplog.text
        await run.stop()


async def test_suspended_channel_is_a_reported_join_failure(caplog: pytest.LogCaptureFixture) -> None:
    async with TwitchIrcTestServer(suspended={"gone"}) as server:
        run = await start(server.url, ["alive", "gone"])
        await run.until(lambda: run.source.counters.join_failures == 1 and "alive" in run.source.covered)
        assert run.coverage() == [("alive", "connected"), ("gone", "disconnected")]
        gone = [i for i in run.items if isinstance(i, CoverageEvent) and i.channel == "gone"]
        assert gone[0].reason == "join failed: msg_channel_suspended"
        assert "could not join #gone: msg_channel_suspended" in caplog.text
        await run.stop()


async def test_many_lines_arrive_once_and_in_order(server: TwitchIrcTestServer) -> None:
    run = await start(server.url, ["alpha", "beta"])
    await run.until(lambda: len(run.source.covered) == 2)
    said = [server.say("alpha" if n % 3 else "beta", f"message {n} " + "x" * (n % 300)) for n in range(2000)]
    await run.until(lambda: len(run.message_ids()) >= 2000)
    assert [line for line in run.lines if " PRIVMSG " in line] == said
    assert run.source.counters.lines == len(run.lines)
    await run.stop()


async def test_server_ping_is_answered_with_pong(server: TwitchIrcTestServer) -> None:
    run = await start(server.url, ["alpha"])
    await run.until(lambda: "alpha" in run.source.covered)
    client = only_client(server)
    server.ping(client)
    await server.wait_for(lambda: client.pongs == ["tmi.twitch.tv"])
    assert "PONG :tmi.twitch.tv" in client.received
    await run.stop()


async def test_idle_client_pings_and_stays_connected_when_answered(server: TwitchIrcTestServer) -> None:
    timings = IrcTimings(**{**FAST.__dict__, "idle_ping_s": 0.15, "pong_timeout_s": 0.3})
    run = await start(server.url, ["alpha"], timings)
    await run.until(lambda: "alpha" in run.source.covered)
    client = only_client(server)
    await server.wait_for(lambda: client.received.count("PING :chatpulse") >= 3)
    assert run.source.counters.reconnects == 0
    assert len(server.clients) == 1
    assert sum(" PONG " in line for line in run.lines) >= 3
    await run.stop()


async def test_silent_server_is_detected_and_replaced(server: TwitchIrcTestServer) -> None:
    timings = IrcTimings(**{**FAST.__dict__, "idle_ping_s": 0.2, "pong_timeout_s": 0.2})
    run = await start(server.url, ["alpha"], timings)
    await run.until(lambda: "alpha" in run.source.covered)
    first = only_client(server)
    server.go_silent(first)
    await run.until(lambda: run.coverage().count(("alpha", "connected")) == 2, timeout=5)
    assert run.coverage() == [("alpha", "connected"), ("alpha", "disconnected"), ("alpha", "connected")]
    gap = [i for i in run.items if isinstance(i, CoverageEvent) and i.state == "disconnected"][0]
    assert "no answer to PING" in gap.reason
    assert "PING :chatpulse" in first.received
    assert run.source.counters.reconnects == 1
    line = server.say("alpha", "back again")
    await run.until(lambda: line in run.lines)
    await run.stop()


async def test_dropped_connection_mid_line_loses_only_the_partial_line(server: TwitchIrcTestServer) -> None:
    run = await start(server.url, ["alpha"])
    await run.until(lambda: "alpha" in run.source.covered)
    client = only_client(server)
    before = [server.say("alpha", f"before {n}") for n in range(3)]
    await run.until(lambda: len(run.message_ids()) == 3)
    server.drop_mid_line(client, before[0].replace("before 0", "cut in half"))
    await run.until(lambda: run.coverage().count(("alpha", "connected")) == 2)
    after = server.say("alpha", "after")
    await run.until(lambda: after in run.lines)
    privmsgs = [line for line in run.lines if " PRIVMSG " in line]
    assert privmsgs == [*before, after]  # nothing lost, nothing doubled, no half line
    assert run.coverage() == [("alpha", "connected"), ("alpha", "disconnected"), ("alpha", "connected")]
    order = [
        i
        for i in run.items
        if isinstance(i, CoverageEvent) or (isinstance(i, RawLine) and i.line in privmsgs)
    ]
    assert [getattr(i, "state", None) or "line" for i in order] == [
        "connected", "line", "line", "line", "disconnected", "connected", "line",
    ]  # fmt: skip
    assert run.source.counters.reconnects == 1
    await run.stop()


async def test_reconnect_opens_the_new_connection_before_dropping_the_old() -> None:
    # "slow" never gets a ROOMSTATE, so the hand-over waits its join timeout with both links up.
    async with TwitchIrcTestServer(unanswered={"slow"}) as server:
        timings = IrcTimings(**{**FAST.__dict__, "join_timeout_s": 0.3})
        run = await start(server.url, ["alpha", "beta", "slow"], timings)
        await run.until(lambda: run.source.covered == {"alpha", "beta"} and run.source.counters.join_failures)
        old = only_client(server)
        first = server.say("alpha", "before reconnect")
        server.reconnect(old)
        await server.wait_for(
            lambda: len(server.clients) == 2 and server.clients[1].channels == {"alpha", "beta"}
        )
        new = server.clients[1]
        overlap = [server.say("alpha", f"overlap {n}") for n in range(5)]  # reaches both links
        await server.wait_for(lambda: old.closed)
        last = server.say("beta", "after reconnect")
        await run.until(lambda: last in run.lines)
        assert all(r.at < (old.closed_at or 0) for r in server.accepted_joins() if r.client == new.number)
        assert [line for line in run.lines if " PRIVMSG " in line] == [first, *overlap, last]
        assert run.source.counters.duplicates_dropped == 5
        assert ("alpha", "disconnected") not in run.coverage() and (
            "beta",
            "disconnected",
        ) not in run.coverage()
        assert run.source.counters.reconnects == 1
        await run.stop()


async def test_join_and_part_at_run_time(server: TwitchIrcTestServer) -> None:
    run = await start(server.url, ["alpha"], channels_per_connection=2)
    await run.until(lambda: run.source.covered == {"alpha"})
    await run.source.join("Beta")
    await run.source.join("gamma")  # the first connection is full: a second one opens
    await run.until(lambda: run.source.covered == {"alpha", "beta", "gamma"})
    assert run.source.connections == 2 and len(server.live_clients()) == 2
    await run.source.part("alpha")
    await run.until(lambda: run.source.covered == {"beta", "gamma"})
    await server.wait_for(lambda: "PART #alpha" in server.clients[0].received)
    parted = [i for i in run.items if isinstance(i, CoverageEvent) and i.channel == "alpha"][-1]
    assert (parted.state, parted.reason) == ("disconnected", "parted")
    await run.stop()


async def test_unreachable_server_is_retried_until_it_appears() -> None:
    async with TwitchIrcTestServer() as probe:
        port = probe.port
    run = await start(f"irc://127.0.0.1:{port}", ["alpha"])
    await run.until(lambda: run.source.counters.connect_failures >= 2)
    assert not run.task.done()
    async with TwitchIrcTestServer(port=port):
        await run.until(lambda: run.source.covered == {"alpha"})
        await run.stop()


async def test_websocket_endpoint() -> None:
    async with TwitchIrcTestServer(websocket=True) as server:
        run = await start(server.ws_url, ["alpha"])
        await run.until(lambda: run.source.covered == {"alpha"})
        said = [server.say("alpha", f"over websocket {n}") for n in range(50)]
        client = only_client(server)
        server.ping(client)
        await run.until(lambda: len(run.message_ids()) == 50)
        await server.wait_for(lambda: client.pongs == ["tmi.twitch.tv"])
        assert [line for line in run.lines if " PRIVMSG " in line] == said
        kinds = Counter(type(item).__name__ for item in run.items)
        assert kinds["CoverageEvent"] == 1
        await run.stop()
