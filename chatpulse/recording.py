"""Is a file a chat recording (or text at all)? A sniff of its first KiB, before it is read.

``parse``, ``run --replay``, ``tail --replay`` and ``ingest --replay`` read what they are given
line by line, and a line that is not IRC becomes an ``error`` event: right for one bad line in a
capture, wrong for a whole file that was never chat (a binary, an image, a database file), which
would otherwise fill the store with garbage ``error`` events. So the first KiB decides, before
anything is stored: :func:`sniff_recording` and :func:`sniff_text` are pure (bytes in, the
reason out); :func:`require_recording` and :func:`require_text` read the bytes and raise
:class:`~chatpulse.errors.ConfigError` (exit 2) naming the file.

A recording (the formats of :mod:`chatpulse.sources.replay`) is UTF-8 text without NULs whose
first non-blank character opens JSON (``[`` or ``{``) or whose first line is IRC: a tag block,
a prefix, or an upper-case command or numeric (a server line such as ``PING :tmi.twitch.tv``).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Final

from chatpulse.errors import ConfigError, IrcParseError
from chatpulse.irc.parser import split_irc

SNIFF_BYTES: Final = 1024
_GZIP_MAGIC: Final = b"\x1f\x8b"
_Sniff = Callable[[bytes, bool], "str | None"]  # (first bytes, whole file?) -> why not, or None


def sniff_text(head: bytes) -> str | None:
    """None when ``head`` (a file's first bytes) can start a UTF-8 text file, else why not."""
    if b"\x00" in head:
        return "binary data: it holds NUL bytes"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sniffed bytes may end in the middle of a character: only a cut there is fine.
        if not (exc.end == len(head) and exc.reason == "unexpected end of data"):
            return f"not UTF-8 text: byte 0x{head[exc.start]:02x} at offset {exc.start}"
    return None


def sniff_recording(head: bytes, complete: bool) -> str | None:
    """None when ``head`` can start a chat recording, else why not. ``complete``: ``head`` is the
    whole file (so its last line is not cut)."""
    problem = sniff_text(head)
    if problem is not None:
        return problem
    text = head.decode("utf-8", errors="ignore").lstrip()
    if not text or text[0] in "[{":
        return None  # empty (nothing to replay), or JSON: the JSON reader judges the rest
    first, newline, _ = text.partition("\n")
    first = first.rstrip("\r")
    if not newline and not complete:
        # A first line longer than the sniff (a long tag block): judge how it starts.
        return None if first[0] in "@:" else _not_irc(first)
    try:
        tags, prefix, command, _ = split_irc(first, False)
    except IrcParseError as exc:
        return f"its first line is not IRC ({exc})"
    if tags or prefix is not None:
        return None
    # Without tags or a prefix only a server's bare command fits (PING, numerics): chat text
    # such as "hello world" would parse as the command HELLO.
    word = first.split(" ", 1)[0]
    return None if word.isupper() or command.isdigit() else _not_irc(first)


def _not_irc(first: str) -> str:
    return f"its first line is not IRC: {first[:40]!r}"


def _read_head(path: Path) -> tuple[bytes, bool]:
    """The first :data:`SNIFF_BYTES` of ``path`` (gunzipped when it is gzip), and whether that
    is all of it. Raises OSError, or ValueError for a broken gzip file."""
    with path.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic != _GZIP_MAGIC:
            head = raw.read(SNIFF_BYTES + 1)
            return head[:SNIFF_BYTES], len(head) <= SNIFF_BYTES
        try:
            with gzip.GzipFile(fileobj=raw) as unzipped:
                head = unzipped.read(SNIFF_BYTES + 1)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise ValueError("a broken gzip file") from exc
        return head[:SNIFF_BYTES], len(head) <= SNIFF_BYTES


def require_recording(path: str | Path, label: str) -> None:
    """:class:`ConfigError` (``label: ...``) unless ``path`` is a readable chat recording."""
    _require(path, label, "a chat recording", sniff_recording)


def require_text(path: str | Path, label: str) -> None:
    """:class:`ConfigError` (``label: ...``) unless ``path`` is a readable UTF-8 text file."""
    _require(path, label, "a text file", lambda head, _complete: sniff_text(head))


def _require(path: str | Path, label: str, what: str, sniff: _Sniff) -> None:
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"{label}: no such file")
    if not file.is_file():
        raise ConfigError(f"{label}: not a file")
    try:
        head, complete = _read_head(file)
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ConfigError(f"{label}: not {what} ({exc})") from None
    problem = sniff(head, complete)
    if problem is not None:
        raise ConfigError(f"{label}: not {what} ({problem})")
