"""The wire format round-trips and rejects what it cannot decode."""

from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatpulse.errors import WireFormatError
from chatpulse.events import (
    ClearChatEvent,
    ClearMsgEvent,
    CoverageEvent,
    Emote,
    MessageEvent,
    ReplyParent,
    Sentiment,
    ServerEvent,
    UserNoticeEvent,
)
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.replay import iter_lines
from chatpulse.times import format_time, parse_time
from chatpulse.wire import dumps, dumps_bytes, loads, to_wire


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
        ('{"schema": 1, "kind": ["message"]}', "unknown event kind"),
        ('{"schema": 1, "kind": "message", "received_at": null, "emotes": [1]}', "invalid message"),
        ('{"schema": 1, "kind": "message", "received_at": null, "emotes": null}', "invalid message"),
        ('{"schema": 1, "kind": "message", "received_at": "2019-13-15T00:00:00.501Z"}', "invalid message"),
        ('{"schema": 1, "kind": "message", "received_at": "2019-09-15T00:00:00.5x1Z"}', "invalid message"),
        ('{"schema": 1, "kind": "message", "received_at": 5}', "invalid message"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_bad_records_say_what_is_wrong(line: str, reason: str) -> None:
    with pytest.raises(WireFormatError, match=reason):
        loads(line)


# --- the fast codec against the original one --------------------------------------------------


def reference_wire(event: Any) -> dict[str, Any]:
    """The wire object as the first (standard-library) encoder wrote it, field by field."""

    def plain(name: str, value: Any) -> Any:
        if name in ("received_at", "sent_at"):
            if value is None:
                return None
            seconds, millis = divmod(value, 1000)
            return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"
        if name == "emotes":
            return [dataclasses.asdict(emote) for emote in value]
        if name == "params" and isinstance(value, tuple):
            return list(value)
        if isinstance(value, (Sentiment, ReplyParent)):
            return dataclasses.asdict(value)
        return value

    wire = {"schema": 1}
    wire.update({f.name: plain(f.name, getattr(event, f.name)) for f in dataclasses.fields(event)})
    return wire


def old_dumps(event: Any) -> str:
    return json.dumps(reference_wire(event), ensure_ascii=False, separators=(",", ":"))


def capture_events(shared_data: Path) -> list[Any]:
    """Every event of both captures and of the IRC test vectors (all the kinds), plus each
    message and notice again as the enrich stage scores it."""
    lines = list(iter_lines(shared_data / "replay/xqcow-2019-09-15.irc.gz"))
    lines += iter_lines(shared_data / "replay/nymn-2024-01-06.json")
    with (shared_data / "irc/vectors.jsonl").open(encoding="utf-8") as f:
        lines += [json.loads(record)["raw"] for record in f if record.strip()]
    events = [parse_line(line, 1568505600000 + i * 7, "replay") for i, line in enumerate(lines)]
    verdict = Sentiment("negative", -0.3125, 0.1 + 0.2, "lexicon@1 ünï")
    scored = [dataclasses.replace(e, sentiment=verdict) for e in events if hasattr(e, "sentiment")]  # type: ignore[call-arg]
    return events + scored


def test_the_fast_codec_means_what_the_old_one_wrote_for_the_whole_capture(shared_data: Path) -> None:
    events = capture_events(shared_data)
    kinds = {type(e) for e in events}
    assert {MessageEvent, UserNoticeEvent, ServerEvent, ClearChatEvent, ClearMsgEvent} <= kinds
    for event in events:
        expected = reference_wire(event)
        assert to_wire(event) == expected
        assert json.loads(dumps(event)) == expected
        assert json.loads(dumps_bytes(event)) == expected
        assert dumps_bytes(event) == dumps(event).encode("utf-8")
        assert loads(old_dumps(event)) == event  # records written before the change still decode


def test_key_order_is_schema_then_the_fields_in_order() -> None:
    event = ServerEvent(kind="notice", received_at=1, source="irc", command="NOTICE", params=("#a", "x"))
    names = ["schema", *(f.name for f in dataclasses.fields(ServerEvent))]
    assert list(json.loads(dumps(event))) == names
    assert json.loads(dumps(event))["params"] == ["#a", "x"]
    assert loads(dumps(event)) == event


@given(st.integers(min_value=0, max_value=253_402_300_799_999))  # up to 9999-12-31T23:59:59.999Z
def test_times_format_and_parse_like_datetime(ms: int) -> None:
    text = format_time(ms)
    moment = datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000)
    assert text == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    assert parse_time(text) == ms


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2019-09-15T02:00:00.501+02:00", 1568505600501),
        ("2019-09-15T00:00:00Z", 1568505600000),
        ("2019-09-15T00:00:00.501123Z", 1568505600501),
        ("2019-09-15T00:00:00.5Z", 1568505600500),
        ("2019-09-15T00:00:00.501", 1568505600501),  # no zone: UTC
    ],
)
def test_other_iso_forms_still_parse(text: str, ms: int) -> None:
    assert parse_time(text) == ms


def test_a_record_with_only_some_fields_gets_the_defaults() -> None:
    line = (
        '{"schema":1,"kind":"whisper","received_at":"2019-09-15T00:00:00.501Z","source":"irc","text":"hi",'
        '"emotes":[{"id":"25","name":"Kappa","start":0,"end":5,"provider":"twitch"}]}'
    )
    kappa = Emote("25", "Kappa", 0, 5)
    expected = MessageEvent(
        kind="whisper", received_at=1568505600501, source="irc", text="hi", emotes=(kappa,)
    )
    assert loads(line) == expected


def test_what_orjson_refuses_still_round_trips() -> None:
    event = MessageEvent(received_at=1, source="irc", text="half a pair \ud83d", bits=2**70)
    assert json.loads(dumps(event)) == reference_wire(event)
    assert loads(dumps(event)) == event
    line = '{"schema":1,"kind":"message","received_at":null,"source":"irc","bits":1e400}'
    assert loads(line) == MessageEvent(received_at=None, source="irc", bits=float("inf"))  # type: ignore[arg-type]
