"""Chat sessions recomputed from stored chat, and Twitch streams' figures refreshed.

:func:`recompute_channels` reads the channels' active minutes from the minute aggregates (each
from its ``since``, the start of a session, or all of them), cuts them into sessions
(:func:`chatpulse.streams.sessions.cut_sessions`), computes every session's figures and writes
the rows; sessions it no longer finds from ``since`` on are marked dropped. A handful of
queries for any number of channels. Used by ``chatpulse streams --recompute`` (old data), by
``run`` (the open sessions of the channels that spoke, every ``streams.update_interval_s``) and
for Twitch's own streams (:func:`refresh_figures`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from chatpulse.store import Store
from chatpulse.store import queries as shared
from chatpulse.streams.sessions import MINUTE_MS, chat_stream_id, cut_sessions
from chatpulse.streams.table import StreamRow, channels_minutes, streams_since, windows_figures, write_rows


def recompute_channels(
    store: Store, since: Mapping[str, int], gap_minutes: float, now_ms: int, *, drop_stale: bool = True
) -> dict[str, list[StreamRow]]:
    """Recompute each channel's chat sessions from its ``since`` (a session start, or 0) on.
    ``drop_stale=False`` skips looking for stored sessions that are gone: right when chat only
    grew after ``since`` (every session from there keeps its start, hence its id)."""
    gap_ms = int(gap_minutes * MINUTE_MS)
    minutes = channels_minutes(store, since)
    sessions = {channel: cut_sessions(found, gap_ms, now_ms) for channel, found in minutes.items()}
    windows = [(channel, s.start_ms, s.end_ms) for channel, cut in sessions.items() for s in cut]
    figures = iter(windows_figures(store, windows))
    rows = {
        channel: [
            StreamRow(channel, chat_stream_id(channel, s.start_ms), "chat", s.start_ms, s.ended_at,
                      figures=next(figures))
            for s in cut
        ]
        for channel, cut in sessions.items()
    }  # fmt: skip
    kept = {row.stream_id for found in rows.values() for row in found}
    stale = [
        old
        for channel, stored in (streams_since(store, since, "chat") if drop_stale else {}).items()
        for old in stored
        if old.started_at >= since[channel] and old.stream_id not in kept
    ]
    write_rows(store, [row for found in rows.values() for row in found])
    write_rows(store, stale, dropped=True)
    return rows


def recompute_channel(
    store: Store, channel: str, gap_minutes: float, now_ms: int, since_ms: int = 0
) -> list[StreamRow]:
    """Recompute ``channel``'s chat sessions from ``since_ms`` (a session start) on; returns them."""
    return recompute_channels(store, {channel: since_ms}, gap_minutes, now_ms)[channel]


def recompute_all(
    store: Store, gap_minutes: float, now_ms: int, channels: Sequence[str] | None = None
) -> dict[str, list[StreamRow]]:
    """Every chat session of ``channels`` (default: every channel with stored chat)."""
    names = channels if channels is not None else [r["channel"] for r in shared.channels(store)]
    return recompute_channels(store, dict.fromkeys(names, 0), gap_minutes, now_ms)


def refresh_figures(store: Store, rows: Sequence[StreamRow], now_ms: int) -> list[StreamRow]:
    """``rows`` (streams of any channels, e.g. Twitch's) with their figures recomputed from chat,
    up to ``now_ms`` for a live one; written back."""
    if not rows:
        return []
    windows = [(r.channel, r.started_at, r.ended_at if r.ended_at is not None else now_ms + 1) for r in rows]
    fresh = [replace(row, figures=f) for row, f in zip(rows, windows_figures(store, windows), strict=True)]
    write_rows(store, fresh)
    return fresh
