"""Cut a byte stream (TCP) or WebSocket messages into IRC lines. Pure.

IRC lines end with CRLF (RFC 1459 section 2.3). A TCP read can hold half a line, several
lines, or a multi-byte UTF-8 character split between two reads; the framer keeps whatever is
incomplete until the next read. Twitch's WebSocket sends one or more whole lines per text
message, each ending with CRLF (dev.twitch.tv/docs/irc, "Connecting ... WebSocket").
"""

from __future__ import annotations

import codecs
from typing import Final

DEFAULT_MAX_LINE_CHARS: Final = 64 * 1024  # Twitch lines are a few KiB at most (tags + 500 chars)


class LineTooLongError(ValueError):
    """The peer sent more than the limit without a line ending: the stream is not IRC."""


class LineFramer:
    """Feed it bytes as they arrive; get back the complete lines, without their line endings.

    A lone LF also ends a line (servers that forget the CR); a CR is stripped only right before
    the LF. Invalid UTF-8 becomes U+FFFD rather than an exception, so one bad byte never stops
    the stream (the parser then reports the odd line).
    """

    def __init__(self, max_line_chars: int = DEFAULT_MAX_LINE_CHARS) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._max = max_line_chars

    def feed(self, data: bytes) -> list[str]:
        text = self._pending + self._decoder.decode(data)
        if "\n" not in text:
            self._pending = text
            self._check_length()
            return []
        *complete, self._pending = text.split("\n")
        self._check_length()
        return [line[:-1] if line.endswith("\r") else line for line in complete if line not in ("", "\r")]

    @property
    def pending(self) -> str:
        """The incomplete tail (lost if the connection ends now)."""
        return self._pending

    def _check_length(self) -> None:
        if len(self._pending) > self._max:
            size = len(self._pending)
            self._pending = ""
            raise LineTooLongError(f"{size} characters without a line ending (limit {self._max})")


def split_ws_message(message: str | bytes) -> list[str]:
    """The IRC lines of one WebSocket message (text, or bytes as UTF-8), without CRLF."""
    text = message.decode("utf-8", errors="replace") if isinstance(message, bytes) else message
    lines = text.split("\n")
    return [line[:-1] if line.endswith("\r") else line for line in lines if line not in ("", "\r")]
