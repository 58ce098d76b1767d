"""Channel names as users type them -> the login names Twitch uses. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable

from chatpulse.config import CHANNEL_PATTERN
from chatpulse.errors import ConfigError

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
