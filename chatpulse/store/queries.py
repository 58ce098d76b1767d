"""Every read that ``chatpulse report`` runs, and the ones the dashboard shares with it, as
functions: (store, parameters) -> plain data. The dashboard's own reads (several channels at
once, 10-second buckets, emote ids for images) are in :mod:`chatpulse.dashboard.queries`.

Conventions: times in and out are integer milliseconds since the epoch (UTC); a window is
``[since_ms, until_ms)``; results are lists of dicts (or one dict) with JSON-ready values. All
SQL is parameterized (``{name:Type}``), so a channel name never becomes SQL text.

Where the figures come from:

- per-minute series and totals: the ``chat_minute`` aggregates (``-Merge`` combinators), which
  the sink keeps exact by never inserting a message twice;
- top emotes: ``chat_emote_minute``;
- top chatters and the events timeline: the base tables. Top chatters counts distinct message
  ids, so it stays exact even if a duplicate slipped in (e.g. two sinks racing on a server);
- hype moments: per-channel minute counts, judged by :func:`chatpulse.store.hype.find_hype_moments`.
  The report and the dashboard both call :func:`hype_moments_by_channel`, so they name the same
  minutes for the same window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from chatpulse.store import Store
from chatpulse.store.hype import HypeMoment, find_hype_moments

MINUTE_MS: Final = 60_000

_WINDOW_MINUTE = (
    "channel = {channel:String} "
    "AND minute >= toDateTime(intDiv({since:Int64}, 1000), 'UTC') "
    "AND minute < toDateTime(intDiv({until:Int64}, 1000), 'UTC')"
)
_WINDOW_SENT = (
    "channel = {channel:String} "
    "AND sent_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') "
    "AND sent_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')"
)
_MINUTE_FIGURES = """
    countMerge(messages) AS messages,
    uniqMerge(chatters) AS chatters,
    avgMerge(sentiment_mean) AS sentiment_mean,
    sumMerge(positive) AS positive,
    sumMerge(neutral) AS neutral,
    sumMerge(negative) AS negative,
    sumMerge(bits_sum) AS bits,
    countMerge(deleted_messages) AS deleted,
    countMerge(subs) AS subs
"""
MINUTE_SERIES_SQL: Final = f"""
SELECT toUnixTimestamp(minute) * 1000 AS minute_ms, {_MINUTE_FIGURES}
FROM chat_minute WHERE {_WINDOW_MINUTE}
GROUP BY minute ORDER BY minute
"""  # noqa: S608 - constant text; values are query parameters
TOTALS_SQL: Final = f"""
SELECT uniqExact(minute) AS minutes_with_data, {_MINUTE_FIGURES}
FROM chat_minute WHERE {_WINDOW_MINUTE}
"""  # noqa: S608
TOP_EMOTES_SQL: Final = f"""
SELECT emote_name AS name, provider, countMerge(uses) AS uses
FROM chat_emote_minute WHERE {_WINDOW_MINUTE}
GROUP BY name, provider ORDER BY uses DESC, name LIMIT {{limit:UInt32}}
"""  # noqa: S608
TOP_CHATTERS_SQL: Final = f"""
SELECT user_login AS login, uniqExact(id) AS messages
FROM chat_messages WHERE {_WINDOW_SENT}
GROUP BY login ORDER BY messages DESC, login LIMIT {{limit:UInt32}}
"""  # noqa: S608
EVENTS_SQL: Final = f"""
SELECT toUnixTimestamp64Milli(sent_at) AS at, kind, notice_type, user_login, target_user_login,
       ban_duration, text, system_text
FROM chat_events FINAL WHERE {_WINDOW_SENT} AND kind IN {{kinds:Array(String)}}
ORDER BY sent_at, event_key LIMIT {{limit:UInt32}}
"""  # noqa: S608
EVENTS_COUNT_SQL: Final = f"""
SELECT count() AS n FROM chat_events FINAL WHERE {_WINDOW_SENT} AND kind IN {{kinds:Array(String)}}
"""  # noqa: S608
MINUTE_COUNTS_SQL: Final = """
SELECT channel, toUnixTimestamp(minute) * 1000 AS minute_ms, countMerge(messages) AS messages
FROM chat_minute
WHERE channel IN {channels:Array(String)}
  AND minute >= toDateTime(intDiv({since:Int64}, 1000), 'UTC')
  AND minute < toDateTime(intDiv({until:Int64}, 1000), 'UTC')
GROUP BY channel, minute ORDER BY channel, minute
"""
CHANNELS_SQL: Final = """
SELECT channel, countMerge(messages) AS messages,
       toUnixTimestamp(min(minute)) * 1000 AS first_minute,
       toUnixTimestamp(max(minute)) * 1000 AS last_minute
FROM chat_minute GROUP BY channel HAVING messages > 0
ORDER BY messages DESC, channel LIMIT {limit:UInt32}
"""
LATEST_SQL: Final = """
SELECT toUnixTimestamp64Milli(max(sent_at)) AS latest, count() AS n
FROM chat_messages WHERE channel IN {channels:Array(String)}
"""
ALL_ROWS: Final = 4_294_967_295  # the largest UInt32 LIMIT: no limit
TIMELINE_KINDS: Final = ("usernotice", "clearchat", "clearmsg", "roomstate", "hosttarget", "coverage")


def _window(channel: str, since_ms: int, until_ms: int) -> dict[str, Any]:
    return {"channel": channel, "since": since_ms, "until": until_ms}


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready values: NaN means "no data" (avg of nothing) and becomes None."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, float) and value != value:
            value = None
        out[key] = value
    return out


def minute_series(store: Store, channel: str, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
    """One dict per minute that has data: minute (ms), messages, chatters, sentiment_mean (or
    None), positive, neutral, negative, bits, deleted, subs. Minutes without data are absent."""
    rows = store.query(MINUTE_SERIES_SQL, _window(channel, since_ms, until_ms))
    # The SQL names it minute_ms: an alias "minute" would shadow the column in WHERE.
    return [_clean({"minute": r.pop("minute_ms"), **r}) for r in rows]


def totals(store: Store, channel: str, since_ms: int, until_ms: int) -> dict[str, Any]:
    """The window's figures: messages, chatters (unique over the window), sentiment_mean, ..."""
    rows = store.query(TOTALS_SQL, _window(channel, since_ms, until_ms))
    return _clean(rows[0]) if rows else {}


def top_emotes(
    store: Store, channel: str, since_ms: int, until_ms: int, limit: int = 10
) -> list[dict[str, Any]]:
    """Most used emotes: name, provider, uses."""
    params = {**_window(channel, since_ms, until_ms), "limit": limit}
    return store.query(TOP_EMOTES_SQL, params)


def top_chatters(
    store: Store, channel: str, since_ms: int, until_ms: int, limit: int = 10
) -> list[dict[str, Any]]:
    """Most active chatters: login, messages."""
    params = {**_window(channel, since_ms, until_ms), "limit": limit}
    return store.query(TOP_CHATTERS_SQL, params)


def events_timeline(
    store: Store,
    channel: str,
    since_ms: int,
    until_ms: int,
    limit: int = 200,
    kinds: tuple[str, ...] = TIMELINE_KINDS,
) -> list[dict[str, Any]]:
    """Subs, raids, bans, timeouts, deletions, room changes, coverage gaps, oldest first."""
    params = {**_window(channel, since_ms, until_ms), "limit": limit, "kinds": list(kinds)}
    return store.query(EVENTS_SQL, params)


def events_count(
    store: Store, channel: str, since_ms: int, until_ms: int, kinds: tuple[str, ...] = TIMELINE_KINDS
) -> int:
    """How many events :func:`events_timeline` would list without its limit."""
    params = {**_window(channel, since_ms, until_ms), "kinds": list(kinds)}
    return int(store.query(EVENTS_COUNT_SQL, params)[0]["n"])


def channels(store: Store, limit: int = ALL_ROWS) -> list[dict[str, Any]]:
    """Channels with stored messages, busiest first (then by name): channel, messages,
    first_minute, last_minute (ms)."""
    return store.query(CHANNELS_SQL, {"limit": limit})


def latest_message_ms(store: Store, *channels: str) -> int | None:
    """When the newest stored message of any of ``channels`` was sent; None when they have none."""
    rows = store.query(LATEST_SQL, {"channels": list(channels)})
    if not rows or not rows[0]["n"]:
        return None
    return int(rows[0]["latest"])


def minute_counts(
    store: Store, channels: Sequence[str], since_ms: int, until_ms: int
) -> dict[str, dict[int, int]]:
    """Messages per minute, per channel: ``{channel: {minute ms: messages}}``, minutes with data
    only (a channel without any is absent)."""
    params = {"channels": list(channels), "since": since_ms, "until": until_ms}
    counts: dict[str, dict[int, int]] = {}
    for row in store.query(MINUTE_COUNTS_SQL, params):
        counts.setdefault(row["channel"], {})[int(row["minute_ms"])] = int(row["messages"])
    return counts


def hype_moments_by_channel(
    store: Store,
    channels: Sequence[str],
    since_ms: int,
    until_ms: int,
    baseline_minutes: int = 30,
    k: float = 4.0,
    min_messages: int = 10,
) -> dict[str, list[HypeMoment]]:
    """Each channel's minutes in the window that stand far above its own rolling baseline
    (:func:`chatpulse.store.hype.find_hype_moments`), oldest first; every channel is a key.

    The baseline looks back ``baseline_minutes`` before each minute, including minutes before
    ``since_ms``, so the window's first minutes are judged too. Called by ``chatpulse report``
    (one channel) and the dashboard's ``/api/hype`` (the selected channels).
    """
    start = since_ms - baseline_minutes * MINUTE_MS
    counts = minute_counts(store, channels, start, until_ms)
    return {
        channel: [
            moment
            for moment in find_hype_moments(
                counts.get(channel, {}), start, until_ms,
                baseline_minutes=baseline_minutes, k=k, min_messages=min_messages,
            )
            if moment.minute >= since_ms
        ]
        for channel in channels
    }  # fmt: skip


def hype_moments(
    store: Store,
    channel: str,
    since_ms: int,
    until_ms: int,
    baseline_minutes: int = 30,
    k: float = 4.0,
    min_messages: int = 10,
) -> list[HypeMoment]:
    """One channel's :func:`hype_moments_by_channel`."""
    found = hype_moments_by_channel(store, (channel,), since_ms, until_ms, baseline_minutes, k, min_messages)
    return found[channel]
