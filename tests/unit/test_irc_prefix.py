"""IRC prefixes split as RFC 2812 section 2.3.1 defines them: ``nick [ [ "!" user ] "@" host ]``
or a server name; the login a user sees on an event comes from the nick, never the host."""

from __future__ import annotations

import pytest

from chatpulse.errors import IrcParseError
from chatpulse.events import ErrorEvent, MessageEvent, ServerEvent
from chatpulse.irc.parser import parse_irc, prefix_nick, python_split_irc
from chatpulse.irc.twitch import parse_line


@pytest.mark.parametrize(
    ("prefix", "nick"),
    [
        ("coolguy!ag@127.0.0.1", "coolguy"),
        ("coolguy@127.0.0.1", "coolguy"),  # nick@host: no user
        ("coolguy!ag", "coolguy"),  # ircdocs' parser tests accept a user without a host
        ("coolguy", "coolguy"),  # a bare nickname
        ("tmi.twitch.tv", None),  # a server name: nicknames hold no dot
        ("a@b!c", "a"),  # a "!" after the "@" is part of the host
    ],
)
def test_the_nick_of_each_prefix_form(prefix: str, nick: str | None) -> None:
    assert prefix_nick(prefix) == nick
    assert parse_irc(f":{prefix} PING x").nick == nick


def test_a_message_from_nick_at_host_is_by_the_nick() -> None:
    event = parse_line(":coolguy@127.0.0.1 PRIVMSG #c :hi", 1, "replay")
    assert isinstance(event, MessageEvent)
    assert (event.user_login, event.user_name) == ("coolguy", "coolguy")


def test_a_join_sent_by_the_server_is_by_nobody() -> None:
    event = parse_line(":tmi.twitch.tv JOIN #pajlada", 1, "replay")
    assert isinstance(event, ServerEvent) and event.kind == "join"
    assert event.user_login is None
    user = parse_line(":randers!randers@randers.tmi.twitch.tv JOIN #pajlada", 1, "replay")
    assert isinstance(user, ServerEvent) and user.user_login == "randers"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (":a@ PING x", "empty host in prefix"),
        (":a!@b PING x", "empty user in prefix"),
        (":a! PING x", "empty user in prefix"),
        (":!u@h PING x", "empty nick in prefix"),
        (":@h PING x", "empty nick in prefix"),
        (":a!u@ PRIVMSG #c :hi", "empty host in prefix"),
    ],
)
def test_an_empty_nick_user_or_host_makes_the_line_malformed(line: str, reason: str) -> None:
    event = parse_line(line, 1, "replay")
    assert isinstance(event, ErrorEvent)
    assert (event.error, event.raw) == (reason, line)
    for strict in (True, False):
        with pytest.raises(IrcParseError, match=reason):
            python_split_irc(line, strict)
