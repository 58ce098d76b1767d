"""One stream's recap as one JSON-ready dict: what ``chatpulse recap --json`` prints, the HTML
page shows and ``/api/recap`` answers.

Figures over the stream's window ``[started_at, ended_at)`` (up to now while live): per-minute
activity and mood from the minute aggregates; hype minutes by the shared rule
(:func:`chatpulse.store.hype.find_hype_moments`, baseline from the stream's own minutes), each
with its most repeated messages and emotes; negative turns and comparisons from
:mod:`chatpulse.recap.moments`; subs, gift bombs, raids, bits and bans as the dashboard's
events timeline. Every moment carries its offset from the start and, with a VOD id, its link.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, Final

from chatpulse.dashboard import queries as board
from chatpulse.dashboard import shape
from chatpulse.recap import queries as recap_sql
from chatpulse.recap.moments import (
    DEFAULT_MOOD_RULE,
    MoodMinute,
    MoodRule,
    comparison,
    format_offset,
    negative_moments,
    place,
)
from chatpulse.store import Store
from chatpulse.store import queries as shared
from chatpulse.store.hype import find_hype_moments
from chatpulse.streams.listing import duration_s, stream_json
from chatpulse.streams.table import StreamRow, window_figures
from chatpulse.times import format_time

MINUTE_MS: Final = 60_000
HYPE_SHOWN: Final = 10  # strongest hype minutes listed
EVENTS_LIMIT: Final = 2000
PREVIOUS_STREAMS: Final = 5  # the comparison's previous streams
_TIMELINE_TYPES: Final = ("sub", "resub", "subgift", "giftbomb", "raid", "bits", "ban", "timeout", "deleted")


def _rate(row: StreamRow, now_ms: int) -> float | None:
    minutes = duration_s(row, now_ms) / 60
    return round(row.figures.messages / minutes, 2) if minutes > 0 else None


def _top_messages(store: Store, channel: str, minute: int) -> list[dict[str, Any]]:
    """The minute's most repeated messages: text, count."""
    scope = board.Scope((channel,), minute, minute + MINUTE_MS)
    return [{"text": r["text"], "count": int(r["count"])} for r in board.bucket_top_messages(store, scope, 3)]


def _summary_of(row: StreamRow, now_ms: int) -> dict[str, float | None]:
    return {"rate": _rate(row, now_ms), "chatters": row.figures.chatters, "mood": row.figures.sentiment_mean}


def build_recap(
    store: Store,
    stream: StreamRow,
    streams: Sequence[StreamRow],
    now_ms: int,
    *,
    top: int = 10,
    mood_rule: MoodRule = DEFAULT_MOOD_RULE,
) -> dict[str, Any]:
    """The recap of ``stream``; ``streams`` is the channel's list, newest first (for comparison)."""
    channel, start = stream.channel, stream.started_at
    end = stream.ended_at if stream.ended_at is not None else max(now_ms, start) + 1
    vod = stream.vod_id or None
    minutes = shared.minute_series(store, channel, start, end)
    counts = {int(m["minute"]): int(m["messages"]) for m in minutes}
    scope = board.Scope((channel,), start, end)

    hype = sorted(find_hype_moments(counts, start, end), key=lambda m: (-m.score, -m.messages, m.minute))
    hype_items = []
    for moment in hype[:HYPE_SHOWN]:
        mood = next((m["sentiment_mean"] for m in minutes if m["minute"] == moment.minute), None)
        hype_items.append(
            {
                "t": moment.minute, **place(moment.minute, start, vod), **shape.hype_json(channel, moment),
                "mood": shape.score(mood),
                "top_messages": _top_messages(store, channel, moment.minute),
                "top_emotes": [
                    shape.emote_json(r)
                    for r in recap_sql.top_emotes(store, channel, moment.minute, moment.minute + MINUTE_MS, 5)
                ],
            }
        )  # fmt: skip
    hype_items.sort(key=lambda item: item["t"])

    moods = [
        MoodMinute(
            int(m["minute"]), int(m["positive"] + m["neutral"] + m["negative"]), float(m["sentiment_mean"])
        )
        for m in minutes
        if m["sentiment_mean"] is not None
    ]
    negative = [
        {**asdict(n), "t": n.minute, **place(n.minute, start, vod),
         "top_messages": _top_messages(store, channel, n.minute)}
        for n in negative_moments(moods, mood_rule)
    ]  # fmt: skip

    events = [
        {**item, **place(item["t"], start, vod)}
        for item in shape.timeline(
            board.timeline_events(store, scope, EVENTS_LIMIT),
            recap_sql.cheers(store, channel, start, end, EVENTS_LIMIT),
        )
        if item["type"] in _TIMELINE_TYPES
    ]
    kinds = Counter(item["type"] for item in events)
    amounts: Counter[str] = Counter()
    for item in events:
        amounts[item["type"]] += int(item["amount"])

    people = recap_sql.chatters(store, channel, start, end, top)
    total_messages = sum(counts.values())
    peak_minute = max(minutes, key=lambda m: (m["messages"], -m["minute"]), default=None)
    scored = sum(m.scored for m in moods)
    older = [s for s in streams if s.started_at < start][:PREVIOUS_STREAMS]
    # A chat session's figures were just computed; a Twitch stream's are refreshed here.
    f = stream.figures if stream.source == "chat" else window_figures(store, channel, [(start, end)])[0]
    return {
        "channel": channel,
        "generated_at": format_time(now_ms),
        "stream": stream_json(stream, now_ms),
        "summary": {
            "duration_s": duration_s(stream, now_ms),
            "duration": format_offset(duration_s(stream, now_ms)),
            "live": stream.ended_at is None,
            "messages": total_messages,
            "chatters": f.chatters,
            "new_chatters": people.new_count,
            "mean_rate": _rate(stream, now_ms),
            "peak_rate": int(peak_minute["messages"]) if peak_minute else 0,
            "peak_at": None
            if peak_minute is None
            else {"t": peak_minute["minute"], **place(peak_minute["minute"], start, vod)},
            "mood": f.sentiment_mean,
            "positive": sum(int(m["positive"]) for m in minutes),
            "neutral": sum(int(m["neutral"]) for m in minutes),
            "negative": sum(int(m["negative"]) for m in minutes),
            "scored": scored,
            "subs": f.subs,
            "gifts": f.gifts,
            "bits": f.bits,
            "gift_bombs": kinds["giftbomb"],
            "raids": kinds["raid"],
            "raid_viewers": amounts["raid"],
            "bans": kinds["ban"],
            "timeouts": kinds["timeout"],
            "deleted": kinds["deleted"],
        },  # fmt: skip
        "minutes": [
            {
                "t": m["minute"],
                **place(m["minute"], start, vod),
                "messages": int(m["messages"]),
                "chatters": int(m["chatters"]),
                "mood": shape.score(m["sentiment_mean"]),
                "positive": int(m["positive"]),
                "neutral": int(m["neutral"]),
                "negative": int(m["negative"]),
            }
            for m in minutes
        ],  # fmt: skip
        "hype_moments": hype_items,
        "hype_found": len(hype),
        "negative_moments": negative,
        "events": events,
        "top_emotes": [shape.emote_json(r) for r in recap_sql.top_emotes(store, channel, start, end, top)],
        "top_chatters": people.top,
        "new_chatters": people.new,
        "comparison": {
            **comparison(_summary_of(stream, now_ms), [_summary_of(s, now_ms) for s in older]),
            "previous": [{**stream_json(s, now_ms), "rate": _rate(s, now_ms)} for s in older],
        },
    }
