"""The wire format round-trips and rejects what it cannot decode."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from chatpulse.errors import WireFormatError
from chatpulse.events import (
    CoverageEvent,
    Emote,
    MessageEvent,
    ReplyParent,
    Sentiment,
    dumps,
    format_time,
    loads,
    parse_time,
)
from chatpulse.irc.twitch import parse_line


def test_times_use_iso_utc_with_milliseconds() -> None:
    assert format_time(1568505600501) == "2019-09-15T00:00:00.501Z"
    assert parse_time("2019-09-15T00:00:00.501Z") == 1568505600501


def test_message_with_everything_round_trips() -> None:
    event = MessageEvent(
        received_at=1568505600600,
        source="irc",
        channel="xqcow",
        channel_id="71092938",
        sent_at=1568505600501,
        tags={"id": "abc"},
        raw="@id=abc :a!a@a PRIVMSG #xqcow :hi Kappa",
        id="abc",
        user_login="a",
        user_name="A",
        text="hi Kappa",
        emotes=(Emote("25", "Kappa", 3, 8),),
        reply_parent=ReplyParent("p", "b", "hello"),
        sentiment=Sentiment("positive", 0.5, 0.8, "lexicon@1"),
    )
    wire = json.loads(dumps(event))
    assert wire["schema"] == 1
    assert wire["sent_at"] == "2019-09-15T00:00:00.501Z"
    assert wire["emotes"] == [{"id": "25", "name": "Kappa", "start": 3, "end": 8, "provider": "twitch"}]
    assert loads(dumps(event)) == event


def test_every_real_line_round_trips(shared_data: Path) -> None:
    with gzip.open(shared_data / "replay/xqcow-2019-09-15.irc.gz", "rt", encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    for line in lines:
        event = parse_line(line, 1568505600000)
        assert loads(dumps(event)) == event


def test_coverage_event_round_trips() -> None:
    event = CoverageEvent(received_at=1, source="irc", channel="a", state="disconnected", reason="eof")
    assert loads(dumps(event)) == event


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "not JSON"),
        ('{"schema": 2, "kind": "message"}', "schema version"),
        ('{"schema": 1, "kind": "bogus"}', "unknown event kind"),
        ('{"schema": 1, "kind": "message"}', "received_at"),
        ('{"schema": 1, "kind": "message", "received_at": "yesterday"}', "invalid message"),
    ],
)
def test_bad_records_say_what_is_wrong(line: str, reason: str) -> None:
    with pytest.raises(WireFormatError, match=reason):
        loads(line)
