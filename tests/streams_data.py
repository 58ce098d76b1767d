"""Real captures cut into several chat sessions: the capture, then copies of it shifted later in
time (new message ids, so each copy is new chat), as a replayable IRC file."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

_TS = re.compile(r"((?:^@|;)tmi-sent-ts=)(\d+)")
_ID = re.compile(r"((?:^@|;)id=)([^; ]+)")


def capture_lines(capture: Path) -> list[str]:
    """The raw IRC lines of a shared capture (``.irc.gz`` or recent-messages ``.json``)."""
    if capture.suffix == ".json":
        doc = json.loads(capture.read_text(encoding="utf-8"))
        return [str(line).rstrip("\r\n") for line in doc["messages"]]
    with gzip.open(capture, "rt", encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


def shifted(lines: Iterable[str], shift_ms: int, tag: str) -> list[str]:
    """``lines`` sent ``shift_ms`` later, message ids suffixed with ``tag`` (a new copy of chat)."""
    out = []
    for line in lines:
        line = _TS.sub(lambda m: f"{m[1]}{int(m[2]) + shift_ms}", line, count=1)
        out.append(_ID.sub(lambda m: f"{m[1]}{m[2]}-{tag}", line, count=1))
    return out


def sessions_file(capture: Path, target: Path, shifts_ms: Sequence[int]) -> Path:
    """The capture, then one shifted copy per entry of ``shifts_ms``, written to ``target``."""
    lines = capture_lines(capture)
    every = list(lines)
    for number, shift in enumerate(shifts_ms, start=1):
        every += shifted(lines, shift, f"s{number}")
    target.write_text("\n".join(every) + "\n", encoding="utf-8")
    return target


def first_sent_ms(lines: Iterable[str]) -> int:
    """The earliest ``tmi-sent-ts`` of ``lines``."""
    return min(int(m[2]) for line in lines if (m := _TS.search(line)))


def echoed(lines: Sequence[str], minute_ms: int, copies: int, tag: str) -> list[str]:
    """Extra copies (new ids) of the chat messages sent in the minute starting at ``minute_ms``:
    chat copying itself, as in a clip-worthy moment."""
    out = []
    for line in lines:
        sent = _TS.search(line)
        if " PRIVMSG #" not in line or sent is None or int(sent[2]) // 60_000 * 60_000 != minute_ms:
            continue
        out += [_ID.sub(lambda m, c=c: f"{m[1]}{m[2]}-{tag}{c}", line, count=1) for c in range(copies)]
    return out


def minutes_of(lines: Iterable[str]) -> list[int]:
    """The distinct minutes (ms) in which ``lines`` carry a chat message, oldest first."""
    return sorted(
        {int(m[2]) // 60_000 * 60_000 for line in lines if " PRIVMSG #" in line and (m := _TS.search(line))}
    )


def tag_values(lines: Iterable[str], name: str) -> list[str]:
    """Every value of the IRC tag ``name`` in ``lines``."""
    pattern = re.compile(rf"(?:^@|;){re.escape(name)}=([^; ]*)")
    return [m[1] for line in lines if (m := pattern.search(line))]
