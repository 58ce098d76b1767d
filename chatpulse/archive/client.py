"""A justlog/rustlog log archive: the days it lists for a channel, and one day's raw IRC lines.

The API (github.com/gempir/justlog, github.com/boring-nick/rustlog, ``src/web/mod.rs``):
``GET /list?channel=NAME`` (or ``?channelid=ID``) answers ``{"availableLogs": [{"year", "month",
"day"}]}``; ``GET /channel/NAME/YEAR/MONTH/DAY?raw`` (or ``/channelid/ID/...``) answers that
day's chat as raw IRC lines, one per line, ``text/plain``.

A day's body is checked as it streams: it must be ``text/plain`` (an HTML error page or a JSON
answer is refused), its first line and nine in ten of its first hundred must look like IRC,
and a line longer than ``max_line_bytes`` is dropped unread and reported (the day's other
lines are kept). Lines are handed out in chunks: the first only after the check, a last
unterminated line only once the body is known to be complete.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from chatpulse.archive.days import parse_available
from chatpulse.archive.http import Response, check_base_url, get
from chatpulse.config import CHANNEL_PATTERN
from chatpulse.errors import ArchiveError

# Twitch lines are a few KiB at most (500 characters of text, tags included); 64 KiB is
# generous and still refuses a line that would only be an attack on our memory.
MAX_LINE_BYTES: Final = 64 * 1024
MAX_LIST_BYTES: Final = 8 * 1024 * 1024
CHECKED_LINES: Final = 100  # the first lines of a day checked for looking like IRC ...
MIN_IRC_SHARE: Final = 0.9  # ... of which at least this share must
_CHAT_TYPES: Final = frozenset({"", "text/plain", "application/octet-stream"})
# [@tags ][:prefix ]COMMAND: what every IRC line starts with (RFC 1459 section 2.3.1, IRCv3 tags).
_IRC_LINE: Final = re.compile(r"(?:@\S+ +)?(?::\S+ +)?(?:[A-Za-z]+|\d{3})(?: |$)")
_CHANNEL: Final = re.compile(CHANNEL_PATTERN)
_CHANNEL_ID: Final = re.compile(r"^[0-9]{1,20}$")


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel as the archive addresses it: by login (``/channel/NAME``) or Twitch id."""

    name: str | None = None
    id: str | None = None

    @classmethod
    def of(cls, name: str | None, channel_id: str | None) -> ChannelRef:
        """Validated; raises ArchiveError (exit 2 at the CLI) for a bad name or id."""
        if (name is None) == (channel_id is None):
            raise ArchiveError("give exactly one of a channel name or a channel id")
        if name is not None:
            name = name.lower().lstrip("#")
            if not _CHANNEL.match(name):
                raise ArchiveError(f"channel name must match {CHANNEL_PATTERN}, got {name[:40]!r}")
            return cls(name=name)
        if channel_id is None or not _CHANNEL_ID.match(channel_id):
            raise ArchiveError(f"channel id must be digits, got {(channel_id or '')[:40]!r}")
        return cls(id=channel_id)

    @property
    def key(self) -> str:
        """How imported days are recorded for this channel: the login, or ``id:NNN``."""
        return self.name if self.name is not None else f"id:{self.id}"

    def path(self) -> str:
        return f"channel/{self.name}" if self.name is not None else f"channelid/{self.id}"

    def list_query(self) -> str:
        return f"channel={self.name}" if self.name is not None else f"channelid={self.id}"


class DayReader:
    """One day's body as chunks of raw lines (see the module docstring for the checks)."""

    def __init__(self, response: Response, label: str, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.response = response
        self.label = label
        self.max_line_bytes = max_line_bytes
        self.bytes = 0
        self.refused: list[str] = []  # lines dropped (too long), one message each
        self._lines = self._iter_lines()
        self._checked = False
        if response.content_type not in _CHAT_TYPES:
            response.close()
            hint = " (the archive may not support ?raw)" if "json" in response.content_type else ""
            raise ArchiveError(
                f"{label}: the archive answered {response.content_type}, not chat lines{hint}; refused"
            )

    def _iter_lines(self) -> Iterator[str]:
        carry = b""
        skipping = False  # inside a line over the limit: its bytes are dropped up to its end
        number = 0
        for piece in self.response.chunks():
            self.bytes += len(piece)
            data = carry + piece if carry else piece
            parts = data.split(b"\n")
            carry = parts.pop()
            for raw in parts:
                number += 1
                if skipping:
                    skipping = False
                    self._refuse(number, f"a line over {self.max_line_bytes:,} bytes")
                    continue
                if len(raw) > self.max_line_bytes:
                    self._refuse(number, f"a line of {len(raw):,} bytes (limit {self.max_line_bytes:,})")
                    continue
                line = raw.rstrip(b"\r")
                if line:
                    yield line.decode("utf-8", "replace")
            if len(carry) > self.max_line_bytes:
                skipping, carry = True, b""
        # The body ended cleanly (chunks() raises for a cut one): the last line is whole.
        if skipping:
            self._refuse(number + 1, f"a line over {self.max_line_bytes:,} bytes")
        line = carry.rstrip(b"\r")
        if line and not skipping:
            yield line.decode("utf-8", "replace")

    def _refuse(self, number: int, why: str) -> None:
        """A huge line is dropped, not buffered, and reported; the day's other lines are chat."""
        self.refused.append(f"{self.label} line {number:,}: {why}; refused")

    def _check(self, lines: list[str]) -> None:
        sample = lines[:CHECKED_LINES]
        if not sample:
            return
        shaped = sum(1 for line in sample if _IRC_LINE.match(line))
        if not _IRC_LINE.match(sample[0]) or shaped < MIN_IRC_SHARE * len(sample):
            raise ArchiveError(f"{self.label}: the body is not chat (starts {sample[0][:60]!r}); refused")

    def read(self, max_lines: int) -> list[str]:
        """Up to ``max_lines`` more lines; an empty list at the end. Blocking (network reads)."""
        out: list[str] = []
        for line in self._lines:
            out.append(line)
            if len(out) >= max(max_lines, 1 if self._checked else CHECKED_LINES):
                break
        if not self._checked:
            self._check(out)
            self._checked = True
        return out

    def close(self) -> None:
        self.response.close()


class ArchiveClient:
    """HTTP calls to one archive. Blocking; the import runs them in a thread."""

    def __init__(self, base_url: str, timeout_s: float = 30.0, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.base_url = check_base_url(base_url)
        self.timeout_s = timeout_s
        self.max_line_bytes = max_line_bytes

    def list_url(self, channel: ChannelRef) -> str:
        return f"{self.base_url}/list?{channel.list_query()}"

    def day_url(self, channel: ChannelRef, day: dt.date) -> str:
        return f"{self.base_url}/{channel.path()}/{day.year}/{day.month}/{day.day}?raw"

    def list_days(self, channel: ChannelRef) -> list[dt.date]:
        """Every day the archive has a log of for ``channel`` (none when it answers 404)."""
        url = self.list_url(channel)
        response = get(url, self.timeout_s, "application/json")
        if response is None:
            return []
        try:
            body = bytearray()
            for piece in response.chunks():
                body += piece
                if len(body) > MAX_LIST_BYTES:
                    raise ArchiveError(f"{url}: the list is over {MAX_LIST_BYTES // 2**20} MiB; refused")
        finally:
            response.close()
        try:
            document = json.loads(body)
        except ValueError:
            raise ArchiveError(
                f"{url}: the answer is not JSON (starts {bytes(body[:40])!r}); refused"
            ) from None
        try:
            return parse_available(document)
        except ArchiveError as exc:
            raise ArchiveError(f"{url}: {exc}") from None

    def open_day(self, channel: ChannelRef, day: dt.date) -> DayReader | None:
        """A reader of ``day``'s lines, or None when the archive has no log of it (404)."""
        url = self.day_url(channel, day)
        response = get(url, self.timeout_s, "text/plain")
        if response is None:
            return None
        return DayReader(response, f"{channel.key} {day.isoformat()}", self.max_line_bytes)
