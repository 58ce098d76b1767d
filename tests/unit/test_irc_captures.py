"""The real captures parse completely: every line an event, no errors, emote spans exact.

../shared/data/replay/xqcow-2019-09-15.irc.gz: 5,000 lines from #xqcow (4,933 PRIVMSG, 58
CLEARCHAT, 9 USERNOTICE; 840 lines with emotes). replay/nymn-2024-01-06.json: 800 lines in the
recent-messages format, modern emote ids, 137 lines with emoji. Figures from data/README.md.
"""

from __future__ import annotations

import gzip
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from chatpulse.events import ChatEvent, MessageEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.replay import iter_lines


def _parse(lines: list[str]) -> list[ChatEvent]:
    return [parse_line(line, 1_700_000_000_000, "replay") for line in lines]


@pytest.fixture(scope="module")
def xqcow(shared_data: Path) -> list[ChatEvent]:
    # Read with gzip directly: replay.iter_lines leaves the underlying .gz file open (reported).
    with gzip.open(shared_data / "replay" / "xqcow-2019-09-15.irc.gz", "rt", encoding="utf-8") as f:
        return _parse([line.rstrip("\r\n") for line in f if line.strip()])


@pytest.fixture(scope="module")
def nymn(shared_data: Path) -> list[ChatEvent]:
    return _parse(list(iter_lines(shared_data / "replay" / "nymn-2024-01-06.json")))


def test_xqcow_parses_every_line_into_the_expected_kinds(xqcow: list[ChatEvent]) -> None:
    assert len(xqcow) == 5000
    assert Counter(e.kind for e in xqcow) == {"message": 4933, "clearchat": 58, "usernotice": 9}
    assert sum(1 for e in xqcow if getattr(e, "emotes", ())) == 840


def test_nymn_parses_every_line_without_errors(nymn: list[ChatEvent]) -> None:
    assert len(nymn) == 800
    assert not [e for e in nymn if e.kind in ("error", "other")]
    assert all(e.channel == "nymn" and e.sent_at is not None for e in nymn)


@pytest.mark.parametrize("capture", ["xqcow", "nymn"])
def test_emote_spans_are_exact_whole_words(capture: str, request: pytest.FixtureRequest) -> None:
    events: list[ChatEvent] = request.getfixturevalue(capture)
    names_by_id: dict[str, set[str]] = defaultdict(set)
    spans = 0
    for event in events:
        for emote in getattr(event, "emotes", ()):
            text: str = event.text  # type: ignore[attr-defined]
            assert text[emote.start : emote.end] == emote.name
            # a real emote is a whole word: nothing but spaces or the text's ends around it
            assert emote.start == 0 or text[emote.start - 1] == " ", (text, emote)
            assert emote.end == len(text) or text[emote.end] == " ", (text, emote)
            names_by_id[emote.id].add(emote.name)
            spans += 1
    assert spans > 100
    # one emote id always spells one name
    assert {emote_id: names for emote_id, names in names_by_id.items() if len(names) > 1} == {}


def test_messages_carry_sender_text_and_time(xqcow: list[ChatEvent]) -> None:
    messages = [e for e in xqcow if isinstance(e, MessageEvent)]
    assert all(m.user_login and m.user_id and m.id and m.sent_at for m in messages)
    assert all(m.channel == "xqcow" and m.channel_id == "71092938" for m in messages)
    # the replay spans 7.7 minutes of 2019-09-15
    times = [m.sent_at for m in messages if m.sent_at is not None]
    assert 7 * 60_000 < max(times) - min(times) < 8 * 60_000
