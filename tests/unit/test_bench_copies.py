"""``bench kafka`` repeats the capture as continuing live chat, not as replays of it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from chatpulse.bench.kafka import _CopiesSource
from chatpulse.events import MessageEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.replay import iter_lines


def test_each_copy_of_the_capture_continues_the_chat_with_new_ids_and_later_times(shared_data: Path) -> None:
    lines = list(iter_lines(shared_data / "replay" / "xqcow-2019-09-15.irc.gz"))
    lines.append("@id=x;tmi-sent-ts=1568506063952 :a!a@a.tmi.twitch.tv PRIVMSG #xqcow :{braces} }{")

    async def collect() -> list[str]:
        return [item.line async for item in _CopiesSource(lines, 3 * len(lines)).stream()]  # type: ignore[union-attr]

    sent = asyncio.run(collect())
    assert len(set(sent)) == len(sent)  # no line repeats, moderation lines included
    events = [parse_line(line, 0, "irc") for line in sent]
    assert not any(e.kind == "error" for e in events)
    copies = [events[i * len(lines) : (i + 1) * len(lines)] for i in range(3)]
    for earlier, later in zip(copies, copies[1:], strict=False):
        assert max(e.sent_at or 0 for e in earlier) < min(e.sent_at or 0 for e in later)
    ids = [e.id for e in events if isinstance(e, MessageEvent)]
    assert len(set(ids)) == len(ids)
    last = copies[2][-1]
    assert isinstance(last, MessageEvent) and last.text == "{braces} }{" and last.id == "x-2"
