"""A channel's streams as ``chatpulse streams``, the recap and the dashboard list them.

Twitch's own streams (``source = 'twitch'``) come from the ``streams`` table. Chat sessions are
a pure function of stored chat, so a read computes them afresh from the minute aggregates
(about a tenth of a second for a channel) and writes nothing; ``write=True`` also stores them
(``chatpulse streams --recompute``). A chat session that overlaps a Twitch stream is left out:
where Twitch said when the channel was live, that is the truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from chatpulse.store import Store
from chatpulse.streams.recompute import recompute_channel
from chatpulse.streams.sessions import MINUTE_MS, chat_stream_id, cut_sessions, overlaps
from chatpulse.streams.table import StreamRow, active_minutes, list_streams, window_figures
from chatpulse.times import format_time

HAS_TABLE_SQL: Final = """
SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'streams'
"""


def has_streams_table(store: Store) -> bool:
    """Whether the store's schema has the ``streams`` table (version 4 or later)."""
    rows = store.query(HAS_TABLE_SQL)
    return bool(rows and rows[0]["n"])


def chat_sessions(store: Store, channel: str, gap_minutes: float, now_ms: int) -> list[StreamRow]:
    """The channel's chat sessions with their figures, computed from stored chat (not written)."""
    sessions = cut_sessions(active_minutes(store, channel), int(gap_minutes * MINUTE_MS), now_ms)
    figures = window_figures(store, channel, [(s.start_ms, s.end_ms) for s in sessions])
    return [
        StreamRow(channel, chat_stream_id(channel, s.start_ms), "chat", s.start_ms, s.ended_at, figures=f)
        for s, f in zip(sessions, figures, strict=True)
    ]


def merge(twitch: Sequence[StreamRow], chat: Sequence[StreamRow], now_ms: int) -> list[StreamRow]:
    """Twitch streams plus the chat sessions that overlap none of them, newest first. Pure."""
    kept = [
        c for c in chat
        if not any(overlaps(c.started_at, c.ended_at, t.started_at, t.ended_at, now_ms) for t in twitch)
    ]  # fmt: skip
    return sorted([*twitch, *kept], key=lambda r: (-r.started_at, r.source != "twitch", r.stream_id))


def channel_streams(
    store: Store, channel: str, gap_minutes: float, now_ms: int, *, write: bool = False
) -> list[StreamRow]:
    """Every stream of ``channel``, newest first (see the module docstring)."""
    table = has_streams_table(store)
    if write and table:
        chat = recompute_channel(store, channel, gap_minutes, now_ms)
    else:
        chat = chat_sessions(store, channel, gap_minutes, now_ms)
    twitch = [r for r in list_streams(store, channel) if r.source == "twitch"] if table else []
    return merge(twitch, chat, now_ms)


def find_stream(streams: Sequence[StreamRow], wanted: str) -> StreamRow | None:
    """``latest`` (the newest stream) or the stream with id ``wanted``; None when absent."""
    if wanted == "latest":
        return streams[0] if streams else None
    return next((s for s in streams if s.stream_id == wanted), None)


def duration_s(row: StreamRow, now_ms: int) -> int:
    """How long the stream ran (so far, while live), in whole seconds."""
    end = row.ended_at if row.ended_at is not None else max(now_ms, row.started_at)
    return max(0, (end - row.started_at) // 1000)


def stream_json(row: StreamRow, now_ms: int) -> dict[str, Any]:
    """One stream for ``--json`` and ``/api/streams``."""
    f = row.figures
    return {
        "id": row.stream_id,
        "channel": row.channel,
        "source": row.source,
        "started_at": format_time(row.started_at),
        "ended_at": None if row.ended_at is None else format_time(row.ended_at),
        "started_ms": row.started_at,
        "ended_ms": row.ended_at,
        "duration_s": duration_s(row, now_ms),
        "messages": f.messages,
        "chatters": f.chatters,
        "sentiment_mean": f.sentiment_mean,
        "subs": f.subs,
        "gifts": f.gifts,
        "bits": f.bits,
        "title": row.title,
        "category": row.category,
        "vod_id": row.vod_id or None,
    }
