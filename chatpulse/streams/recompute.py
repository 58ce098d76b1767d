"""Chat sessions recomputed from stored chat, and Twitch streams' figures refreshed.

:func:`recompute_channel` reads a channel's active minutes from the minute aggregates (from
``since_ms``, the start of a session, or all of them), cuts them into sessions
(:func:`chatpulse.streams.sessions.cut_sessions`), computes every session's figures in two
queries and writes the rows; sessions it no longer finds from ``since_ms`` on are marked
dropped. Used by ``chatpulse streams --recompute`` (old data), by ``run`` (the open session of
each channel that spoke, every ``streams.update_interval_s``) and by the Twitch stream tracker
(figures of Twitch's own streams).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chatpulse.store import Store
from chatpulse.store import queries as shared
from chatpulse.streams.sessions import MINUTE_MS, chat_stream_id, cut_sessions
from chatpulse.streams.table import (
    StreamRow,
    active_minutes,
    streams_since,
    window_figures,
    write_rows,
)


def recompute_channel(
    store: Store, channel: str, gap_minutes: float, now_ms: int, since_ms: int = 0
) -> list[StreamRow]:
    """Recompute ``channel``'s chat sessions from ``since_ms`` (a session start) on; returns them."""
    gap_ms = int(gap_minutes * MINUTE_MS)
    sessions = cut_sessions(active_minutes(store, channel, since_ms), gap_ms, now_ms)
    figures = window_figures(store, channel, [(s.start_ms, s.end_ms) for s in sessions])
    rows = [
        StreamRow(channel, chat_stream_id(channel, s.start_ms), "chat", s.start_ms, s.ended_at, figures=f)
        for s, f in zip(sessions, figures, strict=True)
    ]
    kept = {row.stream_id for row in rows}
    stale = [
        row
        for row in streams_since(store, channel, "chat", since_ms)
        if row.started_at >= since_ms and row.stream_id not in kept
    ]
    write_rows(store, rows)
    write_rows(store, stale, dropped=True)
    return rows


def recompute_all(
    store: Store, gap_minutes: float, now_ms: int, channels: Sequence[str] | None = None
) -> dict[str, list[StreamRow]]:
    """Every chat session of ``channels`` (default: every channel with stored chat)."""
    names = channels if channels is not None else [r["channel"] for r in shared.channels(store)]
    return {name: recompute_channel(store, name, gap_minutes, now_ms) for name in names}


def refresh_figures(store: Store, rows: Sequence[StreamRow], now_ms: int) -> list[StreamRow]:
    """``rows`` (one channel's streams, e.g. Twitch's) with their figures recomputed from chat,
    up to ``now_ms`` for a live one; written back."""
    if not rows:
        return []
    channel = rows[0].channel
    windows = [(r.started_at, r.ended_at if r.ended_at is not None else now_ms + 1) for r in rows]
    figures = window_figures(store, channel, windows)
    fresh = [replace(row, figures=f) for row, f in zip(rows, figures, strict=True)]
    write_rows(store, fresh)
    return fresh
