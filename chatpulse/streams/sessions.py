"""Chat sessions: a channel's active minutes cut at silences of at least ``gap`` minutes. Pure.

Without Twitch credentials (anonymous IRC, replays, the demo) nothing says when a channel went
live, so a stream is a chat session. It is read from the per-channel-minute aggregates
(``chat_minute``), so its bounds are whole minutes: it starts at its first active minute and
ends at the end of its last one. The silence between two active minutes ``a < b`` is
``b - (a + 1 min)``; a silence of ``gap`` or more starts a new session. The newest session is
still open (live, ``ended_at`` None) while the clock has not yet passed its last minute by
``gap``: more chat may still join it.

A session's id is the channel and its first minute (``chat-xqcow-20190915T0000``), so a
recompute from the same chat names the same sessions, whatever else changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

MINUTE_MS: Final = 60_000
CHAT_PREFIX: Final = "chat-"


@dataclass(frozen=True, slots=True)
class Session:
    """One chat session: ``[start_ms, last_minute_ms + 1 min)``, open while it may still grow."""

    start_ms: int
    last_minute_ms: int
    open: bool

    @property
    def end_ms(self) -> int:
        """Where its figures stop: the end of its last active minute."""
        return self.last_minute_ms + MINUTE_MS

    @property
    def ended_at(self) -> int | None:
        """The end, or None while it is open (live)."""
        return None if self.open else self.end_ms


def chat_stream_id(channel: str, start_ms: int) -> str:
    """The stable id of the chat session of ``channel`` that starts at minute ``start_ms``."""
    moment = datetime.fromtimestamp(start_ms // 1000, UTC)
    return f"{CHAT_PREFIX}{channel}-{moment:%Y%m%dT%H%M}"


def cut_sessions(minutes: Iterable[int], gap_ms: int, now_ms: int) -> list[Session]:
    """Sessions of the active minutes (ms, any order), oldest first; the newest is open when
    ``now_ms`` is less than ``gap_ms`` past its end."""
    ordered = sorted(set(minutes))
    if not ordered:
        return []
    sessions: list[Session] = []
    start = last = ordered[0]
    for minute in ordered[1:]:
        if minute - (last + MINUTE_MS) >= gap_ms:
            sessions.append(Session(start, last, False))
            start = minute
        last = minute
    sessions.append(Session(start, last, now_ms - (last + MINUTE_MS) < gap_ms))
    return sessions


def overlaps(a_start: int, a_end: int | None, b_start: int, b_end: int | None, now_ms: int) -> bool:
    """Whether two streams (end None = still live) share any time."""
    a_stop = now_ms if a_end is None else a_end
    b_stop = now_ms if b_end is None else b_end
    return a_start < b_stop and b_start < a_stop
