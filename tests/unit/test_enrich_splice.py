"""The enrich stage writes the verdict into the raw record: byte for byte what dumps writes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from chatpulse.events import Sentiment
from chatpulse.irc.twitch import parse_line
from chatpulse.services.enrich import with_sentiment
from chatpulse.sources.replay import iter_lines
from chatpulse.wire import dumps, loads


def test_spliced_records_equal_a_fresh_encoding_for_every_xqcow_event(shared_data: Path) -> None:
    verdict = Sentiment(label="positive", score=0.5625, confidence=0.8, model="lexicon@1 ünï")
    checked = 0
    for line in iter_lines(shared_data / "replay" / "xqcow-2019-09-15.irc.gz"):
        event = parse_line(line, 1_568_505_600_000, "replay")
        raw = dumps(event).encode()
        if hasattr(event, "sentiment"):
            scored = dataclasses.replace(event, sentiment=verdict)  # type: ignore[call-arg]
            assert with_sentiment(raw, scored) == dumps(scored).encode()
            assert loads(with_sentiment(raw, scored) or b"") == scored
            checked += 1
        assert with_sentiment(raw, event) == raw  # nothing to add: the raw bytes pass through
    assert checked > 4000


def test_a_record_in_another_layout_is_encoded_afresh() -> None:
    event = parse_line("@id=1;tmi-sent-ts=1 :a!a@a.tmi.twitch.tv PRIVMSG #chan :hi", 1, "irc")
    scored = dataclasses.replace(event, sentiment=Sentiment("neutral", 0.0, 1.0, "x@1"))  # type: ignore[call-arg]
    pretty = b'{\n  "schema": 1, "kind": "message", "sentiment": null\n}'
    assert with_sentiment(pretty, scored) is None
