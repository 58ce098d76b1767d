"""The ``streams`` table: reading a channel's streams, writing rows, and the figures of any
stream window computed from the per-channel-minute aggregates.

Figures come from ``chat_minute`` (messages, unique chatters, mean sentiment, bits) and from
``chat_events`` (subs, gifted subs), for all of a channel's windows in one query each: a minute
belongs to the window whose ``[start, end)`` holds it (``arrayFirstIndex`` over the windows,
passed as array parameters). So a recompute of millions of messages reads only their minutes.
All SQL is parameterized.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from chatpulse.store import Store

SOURCES: Final = ("twitch", "chat")
_WINDOW_INDEX = (
    "arrayFirstIndex((s, e) -> {t} >= s AND {t} < e, {{starts:Array(Int64)}}, {{ends:Array(Int64)}})"
)
_MINUTE_MS = "toUnixTimestamp(minute) * 1000"
FIGURES_SQL: Final = f"""
SELECT {_WINDOW_INDEX.format(t=_MINUTE_MS)} AS w,
       countMerge(messages) AS messages, uniqMerge(chatters) AS chatters,
       avgMerge(sentiment_mean) AS sentiment_mean, sumMerge(bits_sum) AS bits
FROM chat_minute
WHERE channel = {{channel:String}}
  AND minute >= toDateTime(intDiv({{since:Int64}}, 1000), 'UTC')
  AND minute < toDateTime(intDiv({{until:Int64}}, 1000), 'UTC')
GROUP BY w HAVING w > 0
"""  # noqa: S608 - constant text; values are query parameters
EVENT_FIGURES_SQL: Final = f"""
SELECT {_WINDOW_INDEX.format(t="toUnixTimestamp64Milli(sent_at)")} AS w,
       countIf(notice_type IN ('sub', 'resub')) AS subs, countIf(notice_type = 'subgift') AS gifts
FROM chat_events FINAL
WHERE channel = {{channel:String}} AND kind = 'usernotice'
  AND sent_at >= fromUnixTimestamp64Milli({{since:Int64}}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({{until:Int64}}, 'UTC')
GROUP BY w HAVING w > 0
"""  # noqa: S608
ACTIVE_MINUTES_SQL: Final = """
SELECT toUnixTimestamp(minute) * 1000 AS minute_ms
FROM chat_minute
WHERE channel = {channel:String} AND minute >= toDateTime(intDiv({since:Int64}, 1000), 'UTC')
GROUP BY minute HAVING countMerge(messages) > 0 ORDER BY minute
"""
_COLUMNS = """
channel, stream_id, source, toUnixTimestamp64Milli(started_at) AS started_at,
toUnixTimestamp64Milli(ended_at) AS ended_at, title, category,
arrayMap(t -> toUnixTimestamp64Milli(t), category_times) AS category_times, category_names, vod_id,
messages, chatters, sentiment_mean, subs, gifts, bits
"""
LIST_SQL: Final = f"""
SELECT {_COLUMNS} FROM streams FINAL
WHERE channel = {{channel:String}} AND NOT dropped
ORDER BY started_at DESC, source DESC, stream_id
"""  # noqa: S608
LIST_SINCE_SQL: Final = f"""
SELECT {_COLUMNS} FROM streams FINAL
WHERE channel = {{channel:String}} AND source = {{source:String}} AND NOT dropped
  AND (ended_at IS NULL OR ended_at >= fromUnixTimestamp64Milli({{since:Int64}}, 'UTC'))
ORDER BY started_at
"""  # noqa: S608
STREAM_CHANNELS_SQL: Final = """
SELECT DISTINCT channel FROM streams FINAL WHERE NOT dropped ORDER BY channel
"""


@dataclass(frozen=True, slots=True)
class Figures:
    """What chat did in a stream."""

    messages: int = 0
    chatters: int = 0
    sentiment_mean: float | None = None
    subs: int = 0
    gifts: int = 0
    bits: int = 0


@dataclass(frozen=True, slots=True)
class StreamRow:
    """One row of ``streams`` (times in ms; ``ended_at`` None while live)."""

    channel: str
    stream_id: str
    source: str
    started_at: int
    ended_at: int | None
    title: str = ""
    category: str = ""
    category_times: tuple[int, ...] = ()
    category_names: tuple[str, ...] = ()
    vod_id: str = ""
    figures: Figures = field(default_factory=Figures)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StreamRow:
        mean = row["sentiment_mean"]
        figures = Figures(
            int(row["messages"]), int(row["chatters"]),
            None if mean is None or mean != mean else float(mean),
            int(row["subs"]), int(row["gifts"]), int(row["bits"]),
        )  # fmt: skip
        ended = row["ended_at"]
        return cls(
            row["channel"], row["stream_id"], row["source"], int(row["started_at"]),
            None if ended is None else int(ended), row["title"], row["category"],
            tuple(int(t) for t in row["category_times"]), tuple(row["category_names"]),
            row["vod_id"], figures,
        )  # fmt: skip


def window_figures(store: Store, channel: str, windows: Sequence[tuple[int, int]]) -> list[Figures]:
    """The figures of each ``[start, end)`` window (ms, not overlapping), in the given order."""
    if not windows:
        return []
    params = {
        "channel": channel,
        "starts": [start for start, _ in windows],
        "ends": [end for _, end in windows],
        "since": min(start for start, _ in windows),
        "until": max(end for _, end in windows),
    }
    found = [Figures() for _ in windows]
    for row in store.query(FIGURES_SQL, params):
        mean = row["sentiment_mean"]
        found[int(row["w"]) - 1] = Figures(
            int(row["messages"]), int(row["chatters"]),
            None if mean is None or mean != mean else round(float(mean), 4), bits=int(row["bits"]),
        )  # fmt: skip
    for row in store.query(EVENT_FIGURES_SQL, params):
        index = int(row["w"]) - 1
        found[index] = replace(found[index], subs=int(row["subs"]), gifts=int(row["gifts"]))
    return found


def active_minutes(store: Store, channel: str, since_ms: int = 0) -> list[int]:
    """The channel's minutes (ms) with at least one message, from ``since_ms`` on, oldest first."""
    rows = store.query(ACTIVE_MINUTES_SQL, {"channel": channel, "since": since_ms})
    return [int(r["minute_ms"]) for r in rows]


def list_streams(store: Store, channel: str) -> list[StreamRow]:
    """Every stored stream of ``channel`` (both sources), newest first."""
    return [StreamRow.from_row(r) for r in store.query(LIST_SQL, {"channel": channel})]


def streams_since(store: Store, channel: str, source: str, since_ms: int) -> list[StreamRow]:
    """The channel's streams of one source still live or ended at or after ``since_ms``."""
    params = {"channel": channel, "source": source, "since": since_ms}
    return [StreamRow.from_row(r) for r in store.query(LIST_SINCE_SQL, params)]


def stream_channels(store: Store) -> list[str]:
    """Channels with at least one stream row."""
    return [r["channel"] for r in store.query(STREAM_CHANNELS_SQL)]


_last_version = 0


def _version() -> int:
    """``updated_at`` for a write: the wall clock in ms, and always later than the last write
    of this process, so a row written twice in one millisecond still replaces the first."""
    global _last_version
    _last_version = max(_last_version + 1, time.time_ns() // 1_000_000)
    return _last_version


def write_rows(store: Store, rows: Sequence[StreamRow], *, dropped: bool = False) -> None:
    """Insert (or replace: the newest ``updated_at`` wins) ``rows``; ``dropped`` marks them gone."""
    if not rows:
        return
    version = _version()
    store.insert(
        "streams",
        {
            "channel": [r.channel for r in rows],
            "stream_id": [r.stream_id for r in rows],
            "source": [r.source for r in rows],
            "started_at": [r.started_at for r in rows],
            "ended_at": [r.ended_at for r in rows],
            "title": [r.title for r in rows],
            "category": [r.category for r in rows],
            "category_times": [list(r.category_times) for r in rows],
            "category_names": [list(r.category_names) for r in rows],
            "vod_id": [r.vod_id for r in rows],
            "messages": [r.figures.messages for r in rows],
            "chatters": [r.figures.chatters for r in rows],
            "sentiment_mean": [r.figures.sentiment_mean for r in rows],
            "subs": [r.figures.subs for r in rows],
            "gifts": [r.figures.gifts for r in rows],
            "bits": [r.figures.bits for r in rows],
            "dropped": [dropped] * len(rows),
            "updated_at": [version] * len(rows),
        },
    )
