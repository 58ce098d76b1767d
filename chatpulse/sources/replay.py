"""Replay recorded chat: raw IRC logs (plain or ``.gz``), JSON arrays of raw lines, and the
recent-messages API format ``{"messages": [raw lines]}``.

Pacing follows the recording's ``tmi-sent-ts`` tags: a gap of 2 s between two lines is replayed
as ``2 / speed`` seconds; ``speed=None`` replays as fast as the consumer takes lines. Lines
without a timestamp are sent right after the previous one.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from chatpulse.errors import SourceError
from chatpulse.sources.base import RawLine, SourceItem, now_ms


def _open_text(path: str | Path) -> io.TextIOBase:
    if str(path) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    with Path(path).open("rb") as probe:
        is_gzip = probe.read(2) == b"\x1f\x8b"
    # The caller closes the returned wrapper, which closes the file it wraps.
    stream = gzip.open(path, "rb") if is_gzip else Path(path).open("rb")  # noqa: SIM115
    return io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")


def iter_lines(path: str | Path) -> Iterator[str]:
    """Every non-empty raw line of a recording, in order, without line endings.

    A file whose first non-blank character is ``[`` or ``{`` is read as JSON (an array of lines,
    or an object whose ``messages`` is one); anything else as one IRC line per line.
    """
    try:
        with _open_text(path) as text:
            first = text.read(1)
            while first.isspace():
                first = text.read(1)
            if first in ("[", "{"):
                yield from _json_lines(first + text.read(), path)
                return
            carry = first
            for chunk in text:
                line = (carry + chunk).rstrip("\r\n")
                carry = ""
                if line:
                    yield line
            if carry:
                yield carry
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _json_lines(document: str, path: str | Path) -> Iterator[str]:
    try:
        data = json.loads(document)
    except ValueError as exc:
        raise SourceError(f"{path}: looks like JSON but is not valid JSON ({exc})") from exc
    lines = data.get("messages") if isinstance(data, dict) else data
    if not isinstance(lines, list):
        raise SourceError(f"{path}: expected a JSON array of lines or an object with 'messages'")
    for item in lines:
        if isinstance(item, str) and item.strip():
            yield item.rstrip("\r\n")


def _sent_at(line: str) -> int | None:
    """``tmi-sent-ts`` of a raw line without a full parse (pacing needs only this tag)."""
    if not line.startswith("@"):
        return None
    start = line.find("tmi-sent-ts=", 0, line.find(" "))
    if start < 0:
        return None
    start += len("tmi-sent-ts=")
    end = start
    while end < len(line) and line[end].isdigit():
        end += 1
    return int(line[start:end]) if end > start else None


class ReplaySource:
    """Replays a recording at ``speed`` times its recorded pace (``None``: as fast as possible)."""

    in_history = False  # see Source.in_history

    def history_stored(self) -> None:
        """No history: nothing waits for it."""

    name = "replay"

    def __init__(self, path: str | Path, speed: float | None = 1.0, loop: bool = False) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        self.path = path
        self.speed = speed
        self.loop = loop
        self._closed = False

    async def stream(self) -> AsyncIterator[SourceItem]:
        while not self._closed:
            first_sent: int | None = None
            started = asyncio.get_running_loop().time()
            for count, line in enumerate(iter_lines(self.path)):
                if self._closed:
                    return
                if self.speed is not None:
                    sent = _sent_at(line)
                    if sent is not None:
                        first_sent = sent if first_sent is None else first_sent
                        due = started + (sent - first_sent) / 1000 / self.speed
                        delay = due - asyncio.get_running_loop().time()
                        if delay > 0:
                            await asyncio.sleep(delay)
                elif count % 1024 == 0:
                    await asyncio.sleep(0)  # let consumers run between bursts
                yield RawLine(line, now_ms())
            if not self.loop:
                return

    async def close(self) -> None:
        self._closed = True
