"""A text file the user names (settings, channel list, lexicon, Kafka properties), read as UTF-8:
a file that is missing, binary or not UTF-8 is one :class:`ConfigError` line (exit 2) naming
it, the line and the byte, instead of a UnicodeDecodeError traceback."""

from __future__ import annotations

from pathlib import Path

from chatpulse.errors import ChatPulseError, ConfigError


def decode_text(data: bytes, label: str, error: type[ChatPulseError] = ConfigError) -> str:
    """``data`` as UTF-8 text, else ``error`` (both kinds exit 2) naming ``label`` (the file),
    the line and the byte."""
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise error(f"{label} line {line}: not a text file (it holds NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{label} line {line}: not a UTF-8 text file (byte 0x{data[exc.start]:02x})") from None


def read_text(path: str | Path, label: str, error: type[ChatPulseError] = ConfigError) -> str:
    """The UTF-8 text of ``path``; ``error`` (ConfigError, or ModelError for a sentiment model's
    files) starting with ``label`` when it cannot be read or is not text."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{label}: {exc.strerror or exc}") from None
    return decode_text(data, label, error)
