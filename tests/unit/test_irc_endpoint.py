"""Endpoint settings, login lines, line framing, join pacing and backoff of the IRC source."""

from __future__ import annotations

import asyncio
import random

import pytest
from pydantic import SecretStr

from chatpulse.backoff import backoff_delay
from chatpulse.config import TwitchSettings
from chatpulse.errors import ConfigError
from chatpulse.sources.twitch_irc.endpoint import (
    IrcEndpoint,
    build_login,
    cleartext_warning,
    endpoint_from_settings,
    parse_irc_url,
)
from chatpulse.sources.twitch_irc.framing import LineFramer, LineTooLongError, split_ws_message
from chatpulse.sources.twitch_irc.link import command_of
from chatpulse.sources.twitch_irc.pacing import JoinPacer

TOKEN = "s3cr3tt0k3nvalue"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ircs://irc.chat.twitch.tv:6697", IrcEndpoint("tls", "irc.chat.twitch.tv", 6697)),
        ("irc://127.0.0.1:6667", IrcEndpoint("tcp", "127.0.0.1", 6667)),
        ("irc://example.org", IrcEndpoint("tcp", "example.org", 6667)),
        ("wss://irc-ws.chat.twitch.tv", IrcEndpoint("wss", "irc-ws.chat.twitch.tv", 443, "/")),
        ("ws://localhost:8080/irc", IrcEndpoint("ws", "localhost", 8080, "/irc")),
    ],
)
def test_irc_url_schemes_select_the_transport(url: str, expected: IrcEndpoint) -> None:
    assert parse_irc_url(url) == expected


@pytest.mark.parametrize("url", ["http://x:1", "ircs://", "irc://host:notaport", "irc.chat.twitch.tv"])
def test_bad_irc_url_names_the_setting(url: str) -> None:
    with pytest.raises(ConfigError, match=r"twitch\.irc_url"):
        parse_irc_url(url)


def test_default_endpoint_is_twitch_over_tls() -> None:
    assert endpoint_from_settings(TwitchSettings()) == IrcEndpoint("tls", "irc.chat.twitch.tv", 6697)


def test_seed_server_and_port_still_work_and_6667_means_plain_tcp() -> None:
    assert endpoint_from_settings(TwitchSettings(server="irc.chat.twitch.tv", port=6667)).transport == "tcp"
    assert endpoint_from_settings(TwitchSettings(server="irc.chat.twitch.tv", port=6697)).transport == "tls"
    url_wins = TwitchSettings(server="a.example", port=6667, irc_url="wss://b.example/x")
    assert endpoint_from_settings(url_wins) == IrcEndpoint("wss", "b.example", 443, "/x")


def test_anonymous_login_without_token() -> None:
    login = build_login(TwitchSettings(token=SecretStr("")), random.Random(1))
    assert login.anonymous
    assert login.nick.startswith("justinfan") and login.nick[len("justinfan") :].isdigit()
    assert login.lines() == [
        "CAP REQ :twitch.tv/tags twitch.tv/commands twitch.tv/membership",
        f"NICK {login.nick}",
    ]


def test_token_login_adds_oauth_prefix_and_sends_pass_before_nick() -> None:
    login = build_login(TwitchSettings(nickname="MyBot", token=SecretStr(TOKEN)))
    assert login.lines()[1:] == [f"PASS oauth:{TOKEN}", "NICK mybot"]
    already = build_login(TwitchSettings(nickname="mybot", token=SecretStr(f"oauth:{TOKEN}")))
    assert already.lines()[1] == f"PASS oauth:{TOKEN}"
    assert TOKEN not in repr(login)


def test_token_without_nickname_is_a_config_error_without_the_token() -> None:
    with pytest.raises(ConfigError, match=r"twitch\.nickname") as caught:
        build_login(TwitchSettings(token=SecretStr(TOKEN)))
    assert TOKEN not in str(caught.value)


def test_cleartext_warning_only_when_a_token_travels_unencrypted() -> None:
    with_token = build_login(TwitchSettings(nickname="me", token=SecretStr(TOKEN)))
    anonymous = build_login(TwitchSettings())
    plain = parse_irc_url("irc://127.0.0.1:6667")
    warning = cleartext_warning(plain, with_token)
    assert warning is not None and "unencrypted" in warning and TOKEN not in warning
    assert cleartext_warning(parse_irc_url("ircs://x:6697"), with_token) is None
    assert cleartext_warning(parse_irc_url("ws://x:80"), with_token) is not None
    assert cleartext_warning(plain, anonymous) is None


def test_framer_joins_partial_lines_and_splits_several_per_read() -> None:
    framer = LineFramer()
    assert framer.feed(b"PING :tmi.tw") == []
    assert framer.pending == "PING :tmi.tw"
    assert framer.feed(b"itch.tv\r\n:a PRIVMSG #x :one\r\n:a PRIVMSG #x :t") == [
        "PING :tmi.twitch.tv",
        ":a PRIVMSG #x :one",
    ]
    assert framer.feed(b"wo\r\n\r\n") == [":a PRIVMSG #x :two"]
    assert framer.pending == ""


def test_framer_keeps_a_utf8_character_split_between_reads() -> None:
    framer = LineFramer()
    data = ":a PRIVMSG #x :héllo 💀\r\n".encode()
    cut = data.index("💀".encode()) + 2  # in the middle of the emoji's four bytes
    assert framer.feed(data[:cut]) == []
    assert framer.feed(data[cut:]) == [":a PRIVMSG #x :héllo 💀"]


def test_framer_accepts_bare_lf_and_refuses_endless_lines() -> None:
    framer = LineFramer(max_line_chars=100)
    assert framer.feed(b"a\nb\r\n") == ["a", "b"]
    with pytest.raises(LineTooLongError):
        framer.feed(b"x" * 101)


def test_websocket_message_with_several_lines() -> None:
    assert split_ws_message(":tmi.twitch.tv 001 me :Welcome\r\n:tmi.twitch.tv 002 me :x\r\n") == [
        ":tmi.twitch.tv 001 me :Welcome",
        ":tmi.twitch.tv 002 me :x",
    ]
    assert split_ws_message(b"PING :tmi.twitch.tv") == ["PING :tmi.twitch.tv"]


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("PING :tmi.twitch.tv", "PING"),
        (":tmi.twitch.tv RECONNECT", "RECONNECT"),
        ("@room-id=1 :tmi.twitch.tv ROOMSTATE #x", "ROOMSTATE"),
        ("@msg-id=x :tmi.twitch.tv NOTICE #x :hi", "NOTICE"),
        ("@broken", ""),
    ],
)
def test_command_of_finds_the_command_word(line: str, command: str) -> None:
    assert command_of(line) == command


async def test_join_pacer_allows_limit_per_sliding_window() -> None:
    now = [0.0]
    pacer = JoinPacer(3, 10.0, clock=lambda: now[0])
    for _ in range(3):
        assert pacer.delay() == 0
        await pacer.acquire()
    assert pacer.delay() == pytest.approx(10.0)
    now[0] = 4.0
    assert pacer.delay() == pytest.approx(6.0)
    now[0] = 10.0
    assert pacer.delay() == 0


async def test_join_pacer_spaces_real_acquisitions() -> None:
    pacer = JoinPacer(3, 0.2)
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def one() -> None:
        await pacer.acquire()
        times.append(loop.time())

    await asyncio.gather(*(one() for _ in range(7)))
    assert times[-1] - times[0] >= 0.4 - 0.01  # 7 joins at 3 per 0.2 s need two extra windows
    for i in range(len(times) - 3):
        assert times[i + 3] - times[i] >= 0.2 - 0.01


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, 1.0, 30.0, rng) for n in range(10)]
    assert 0.5 <= delays[0] <= 1.0
    assert 4.0 <= delays[3] <= 8.0
    assert all(15.0 <= d <= 30.0 for d in delays[5:])
    assert len({round(d, 6) for d in delays[5:]}) > 1  # jitter: not all the same
