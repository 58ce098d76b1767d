"""Recordings for the alert tests, made of a real capture's chat lines on a timeline we choose.

The captures are 7-8 minutes of steady chat: no hype moment, raid or silence by the dashboard's
rule. :func:`scripted` lays their real PRIVMSG lines out minute by minute (``tmi-sent-ts``
rewritten, ids made unique), so a test can say where a hype minute, a sour minute and a silence
are, and the chat in them is still real chat.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Final

from chatpulse.config import SentimentSettings
from chatpulse.irc.twitch import parse_line
from chatpulse.sentiment import create_analyzer
from chatpulse.sources.replay import iter_lines

MINUTE_MS: Final = 60_000
START_MS: Final = 1_700_000_040_000  # a minute boundary
_SENT_TS: Final = re.compile(r"(?<=[@;])tmi-sent-ts=\d+")
_ID: Final = re.compile(r"(?<=[@;])id=([^; ]*)")


@dataclass(frozen=True, slots=True)
class Plan:
    """Messages per minute; ``sour`` minutes take the capture's negatively scored messages."""

    counts: Sequence[int]
    sour: frozenset[int] = frozenset()

    def minute(self, index: int) -> int:
        return START_MS + index * MINUTE_MS


# 12 steady minutes, a hype minute (12), steady, a sour minute (18), steady, 7 silent minutes,
# then chat again (so a replay's own time passes the silence).
STORY: Final = Plan(
    counts=[100] * 12 + [800] + [100] * 5 + [100] + [100] * 5 + [0] * 7 + [100], sour=frozenset({18})
)
HYPE_MINUTE, SOUR_MINUTE, LAST_CHAT_MINUTE = 12, 18, 23


def chat_lines(capture: Path) -> tuple[list[str], list[str]]:
    """The capture's PRIVMSG lines: (all, those the lexicon scores negative)."""
    lines = [line for line in iter_lines(capture) if " PRIVMSG #" in line]
    events = [parse_line(line, 0, "replay") for line in lines]
    verdicts = create_analyzer(SentimentSettings()).analyze(events)  # type: ignore[arg-type]
    sour = [line for line, v in zip(lines, verdicts, strict=True) if v.label == "negative"]
    return lines, sour


def retimed(line: str, sent_ms: int, copy: int) -> str:
    """``line`` sent at ``sent_ms``; copy ``copy`` of a line gets ids of its own."""
    line = _SENT_TS.sub(f"tmi-sent-ts={sent_ms}", line, count=1)
    return _ID.sub(lambda m: f"id={m[1]}-{copy}", line, count=1)


def scripted(capture: Path, plan: Plan = STORY) -> list[str]:
    """The capture's chat laid out as ``plan`` says (each minute's messages evenly spread).

    Lines are taken in a seeded shuffled order: in capture order, 100 consecutive lines carry the
    stream's own mood swings (a minute's mean moves by +-0.3 in the xqcow capture), which would
    blur the sour minute the plan puts in."""
    lines, sour = chat_lines(capture)
    random.Random(7).shuffle(lines)
    plain, negative = _numbered(lines), _numbered(sour)
    out: list[str] = []
    for index, count in enumerate(plan.counts):
        source = negative if index in plan.sour else plain
        for k in range(count):
            copy, line = next(source)
            out.append(retimed(line, plan.minute(index) + k * MINUTE_MS // count, copy))
    return out


def write(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _numbered(lines: Sequence[str]) -> Iterator[tuple[int, str]]:
    for i, line in enumerate(cycle(lines)):
        yield i // len(lines), line
