"""``chatpulse report`` figures for one channel and time window, as one JSON-ready dict.

The window: ``until`` defaults to the channel's newest stored message (for a live channel that
is about now; for a replayed recording it is the recording's end, so ``--since 1h`` shows its
last hour rather than an empty hour of today), and ``since`` counts back from ``until``. With no
``since`` the window starts at the channel's first stored minute.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any, Final

from chatpulse.errors import ConfigError
from chatpulse.store import Store, queries
from chatpulse.times import format_time

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNIT_S: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``1h``, ``1h30m``, ``2d`` -> seconds; ConfigError on anything else."""
    cleaned = text.strip().lower()
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(cleaned):
        if match.start() != pos:
            break
        total += float(match[1]) * _UNIT_S[match[2]]
        pos = match.end()
    if not cleaned or pos != len(cleaned) or total <= 0:
        raise ConfigError(f"invalid duration {text!r}: use e.g. 90s, 15m, 1h, 1h30m, 2d")
    return total


def resolve_window(
    store: Store, channel: str, since_s: float | None, until_ms: int | None, trim: bool = False
) -> tuple[int, int] | None:
    """``(since_ms, until_ms)`` for the report, or None when the channel has no messages.

    ``trim`` (``chatpulse report``): the window is trimmed to the channel's stored chat (its
    first minute .. newest message), so ``--since 1h`` on an 8-minute recording reports on those
    8 minutes, rates included, instead of 52 empty ones. A window that misses the stored chat
    entirely stays as asked. Scheduled reports (one per hour or day) keep their period.
    """
    latest = queries.latest_message_ms(store, channel)
    if latest is None:
        return None
    end = until_ms if until_ms is not None else latest + 1  # window end is exclusive
    first = min(
        (int(c["first_minute"]) for c in queries.channels(store) if c["channel"] == channel),
        default=end - queries.MINUTE_MS,
    )
    if since_s is None:
        return first, end
    start = end - int(since_s * 1000)
    trimmed = max(start, first), min(end, latest + 1)
    return trimmed if trim and trimmed[0] < trimmed[1] else (start, end)


def build_report(
    store: Store,
    channel: str,
    since_s: float | None = None,
    until_ms: int | None = None,
    *,
    top: int = 10,
    events_limit: int = 50,
    trim: bool = False,
) -> dict[str, Any]:
    """Every figure of the report; ``{"channel", "empty": True}`` when nothing is stored."""
    window = resolve_window(store, channel, since_s, until_ms, trim)
    if window is None:
        return {"channel": channel, "empty": True}
    since_ms, until_ms = window
    series = queries.minute_series(store, channel, since_ms, until_ms)
    totals = queries.totals(store, channel, since_ms, until_ms)
    minutes = max(1.0, (until_ms - since_ms) / queries.MINUTE_MS)
    totals["messages_per_minute"] = round(int(totals.get("messages") or 0) / minutes, 2)
    hype = queries.hype_moments(store, channel, since_ms, until_ms)
    events = queries.events_timeline(store, channel, since_ms, until_ms, events_limit)
    events_total = (
        queries.events_count(store, channel, since_ms, until_ms)
        if len(events) >= events_limit
        else len(events)
    )
    return {
        "channel": channel,
        "empty": False,
        "since": format_time(since_ms),
        "until": format_time(until_ms),
        "since_ms": since_ms,
        "until_ms": until_ms,
        "totals": totals,
        "minutes": series,
        "top_emotes": queries.top_emotes(store, channel, since_ms, until_ms, top),
        "top_chatters": queries.top_chatters(store, channel, since_ms, until_ms, top),
        "events": events,
        "events_total": events_total,
        "hype_moments": [asdict(m) for m in hype],
    }
