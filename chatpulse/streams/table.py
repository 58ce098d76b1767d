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
# Per-channel values travel as arrays beside the channel list: the channel's own entry is
# arrayElement(values, indexOf(channels, channel)).
_OWN = "arrayElement({{{name}:{type}}}, indexOf({{channels:Array(String)}}, channel))"
_SINCE = _OWN.format(name="sinces", type="Array(Int64)")
_STARTS = _OWN.format(name="starts", type="Array(Array(Int64))")
_ENDS = _OWN.format(name="ends", type="Array(Array(Int64))")


def _window(t: str) -> str:
    """SQL: the 1-based number of the channel's window holding time ``t`` (ms), 0 for none."""
    return f"arrayFirstIndex((s, e) -> {t} >= s AND {t} < e, {_STARTS}, {_ENDS})"


_MINUTE_MS = "toUnixTimestamp(minute) * 1000"
FIGURES_SQL: Final = f"""
SELECT channel, {_window(_MINUTE_MS)} AS w,
       countMerge(messages) AS messages, uniqMerge(chatters) AS chatters,
       avgMerge(sentiment_mean) AS sentiment_mean, sumMerge(bits_sum) AS bits
FROM chat_minute
WHERE channel IN {{channels:Array(String)}}
  AND minute >= toDateTime(intDiv({{since:Int64}}, 1000), 'UTC')
  AND minute < toDateTime(intDiv({{until:Int64}}, 1000), 'UTC')
GROUP BY channel, w HAVING w > 0
"""  # noqa: S608 - constant text; values are query parameters
# No FINAL: like the minute aggregates, these counts rely on the sink never storing an event twice.
EVENT_FIGURES_SQL: Final = f"""
SELECT channel, {_window("toUnixTimestamp64Milli(sent_at)")} AS w,
       countIf(notice_type IN ('sub', 'resub')) AS subs, countIf(notice_type = 'subgift') AS gifts
FROM chat_events
WHERE channel IN {{channels:Array(String)}} AND kind = 'usernotice'
  AND notice_type IN ('sub', 'resub', 'subgift')
  AND sent_at >= fromUnixTimestamp64Milli({{since:Int64}}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({{until:Int64}}, 'UTC')
GROUP BY channel, w HAVING w > 0
"""  # noqa: S608
ACTIVE_MINUTES_SQL: Final = f"""
SELECT channel, toUnixTimestamp(minute) * 1000 AS minute_ms
FROM chat_minute
WHERE channel IN {{channels:Array(String)}}
  AND minute >= toDateTime(intDiv({_SINCE}, 1000), 'UTC')
GROUP BY channel, minute HAVING countMerge(messages) > 0 ORDER BY channel, minute
"""  # noqa: S608
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
WHERE channel IN {{channels:Array(String)}} AND source = {{source:String}} AND NOT dropped
  AND (ended_at IS NULL OR ended_at >= fromUnixTimestamp64Milli({_SINCE}, 'UTC'))
ORDER BY channel, started_at
"""  # noqa: S608
SESSION_STARTS_SQL: Final = f"""
SELECT channel, max(toUnixTimestamp64Milli(started_at)) AS start FROM streams FINAL
WHERE channel IN {{channels:Array(String)}} AND source = 'chat' AND NOT dropped
  AND started_at <= fromUnixTimestamp64Milli({_OWN.format(name="ats", type="Array(Int64)")}, 'UTC')
GROUP BY channel
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


def windows_figures(store: Store, windows: Sequence[tuple[str, int, int]]) -> list[Figures]:
    """The figures of each ``(channel, start, end)`` window (ms; a channel's windows do not
    overlap), in the given order: two queries for any number of channels and windows."""
    if not windows:
        return []
    channels = sorted({channel for channel, _, _ in windows})
    where = {channel: index for index, channel in enumerate(channels)}
    starts: list[list[int]] = [[] for _ in channels]
    ends: list[list[int]] = [[] for _ in channels]
    position: dict[tuple[str, int], int] = {}
    for number, (channel, start, end) in enumerate(windows):
        starts[where[channel]].append(start)
        ends[where[channel]].append(end)
        position[(channel, len(starts[where[channel]]))] = number
    params = {
        "channels": channels, "starts": starts, "ends": ends,
        "since": min(start for _, start, _ in windows), "until": max(end for _, _, end in windows),
    }  # fmt: skip
    found = [Figures() for _ in windows]
    for row in store.query(FIGURES_SQL, params):
        mean = row["sentiment_mean"]
        found[position[(row["channel"], int(row["w"]))]] = Figures(
            int(row["messages"]), int(row["chatters"]),
            None if mean is None or mean != mean else round(float(mean), 4), bits=int(row["bits"]),
        )  # fmt: skip
    for row in store.query(EVENT_FIGURES_SQL, params):
        index = position[(row["channel"], int(row["w"]))]
        found[index] = replace(found[index], subs=int(row["subs"]), gifts=int(row["gifts"]))
    return found


def window_figures(store: Store, channel: str, windows: Sequence[tuple[int, int]]) -> list[Figures]:
    """The figures of each of ``channel``'s ``[start, end)`` windows, in the given order."""
    return windows_figures(store, [(channel, start, end) for start, end in windows])


def channels_minutes(store: Store, since: Mapping[str, int]) -> dict[str, list[int]]:
    """Each channel's minutes (ms) with at least one message from its ``since`` on, oldest first."""
    found: dict[str, list[int]] = {channel: [] for channel in since}
    if not since:
        return found
    params = {"channels": list(since), "sinces": list(since.values())}
    for row in store.query(ACTIVE_MINUTES_SQL, params):
        found[row["channel"]].append(int(row["minute_ms"]))
    return found


def active_minutes(store: Store, channel: str, since_ms: int = 0) -> list[int]:
    """The channel's minutes (ms) with at least one message, from ``since_ms`` on, oldest first."""
    return channels_minutes(store, {channel: since_ms})[channel]


def list_streams(store: Store, channel: str) -> list[StreamRow]:
    """Every stored stream of ``channel`` (both sources), newest first."""
    return [StreamRow.from_row(r) for r in store.query(LIST_SQL, {"channel": channel})]


def streams_since(store: Store, since: Mapping[str, int], source: str) -> dict[str, list[StreamRow]]:
    """Per channel, its streams of one source still live or ended at or after its ``since``."""
    found: dict[str, list[StreamRow]] = {channel: [] for channel in since}
    if not since:
        return found
    params = {"channels": list(since), "sinces": list(since.values()), "source": source}
    for row in store.query(LIST_SINCE_SQL, params):
        found[row["channel"]].append(StreamRow.from_row(row))
    return found


def session_starts(store: Store, at: Mapping[str, int]) -> dict[str, int]:
    """Per channel, the start of its newest stored chat session that began at or before its
    ``at`` (channels without one are absent)."""
    if not at:
        return {}
    rows = store.query(SESSION_STARTS_SQL, {"channels": list(at), "ats": list(at.values())})
    return {r["channel"]: int(r["start"]) for r in rows}


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
