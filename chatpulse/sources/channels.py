"""Channel names as users type them -> the login names Twitch uses. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from chatpulse.config import CHANNEL_PATTERN
from chatpulse.errors import ConfigError
from chatpulse.textfile import read_text

_CHANNEL = re.compile(CHANNEL_PATTERN)


def normalize_channel(name: str) -> str:
    """``"#XQC "`` -> ``"xqc"``; :class:`ConfigError` with a one-line reason when not a login name.

    Twitch logins are 1-25 characters of ``a-z``, ``0-9`` and ``_`` (DESIGN.md section 9).
    """
    channel = name.strip().lstrip("#").lower()
    if not _CHANNEL.fullmatch(channel):
        shown = name if len(name) <= 40 else name[:40] + "..."
        raise ConfigError(f"invalid channel name {shown!r}: use 1-25 letters, digits or _ (e.g. xqc)")
    return channel


def normalize_channels(names: Iterable[str]) -> tuple[str, ...]:
    """Every name normalized, duplicates dropped, first-seen order kept."""
    return tuple(dict.fromkeys(normalize_channel(name) for name in names))


def read_channel_file(path: str | Path) -> tuple[str, ...]:
    """Channel names from a text file: one per line (or comma-separated), ``#`` starts a comment.

    Lets an operator keep thousands of channels in one place (``--channels-file``); every name is
    validated like a ``--channel`` flag, and a bad one names its line.
    """
    text = read_text(path, f"--channels-file {path}")
    names: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for item in line.split("#", 1)[0].split(","):
            if not item.strip():
                continue
            try:
                names.append(normalize_channel(item))
            except ConfigError as exc:
                raise ConfigError(f"--channels-file {path} line {number}: {exc}") from None
    return normalize_channels(names)
