"""Every read the report and the dashboard run, as functions: (store, parameters) -> plain data.

Conventions: times in and out are integer milliseconds since the epoch (UTC); a window is
``[since_ms, until_ms)``; results are lists of dicts (or one dict) with JSON-ready values. All
SQL is parameterized (``{name:Type}``), so a channel name never becomes SQL text.

Where the figures come from:

- per-minute series and totals: the ``chat_minute`` aggregates (``-Merge`` combinators), which
  the sink keeps exact by never inserting a message twice;
- top emotes: ``chat_emote_minute``;
- top chatters and the events timeline: the base tables. Top chatters counts distinct message
  ids, so it stays exact even if a duplicate slipped in (e.g. two sinks racing on a server);
- hype moments: the per-minute series, judged by :func:`chatpulse.store.hype.find_hype_moments`.
"""

from __future__ import annotations

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
CHANNELS_SQL: Final = """
SELECT channel, countMerge(messages) AS messages,
       toUnixTimestamp(min(minute)) * 1000 AS first_minute,
       toUnixTimestamp(max(minute)) * 1000 AS last_minute
FROM chat_minute GROUP BY channel ORDER BY messages DESC
"""
LATEST_SQL: Final = """
SELECT toUnixTimestamp64Milli(max(sent_at)) AS latest, count() AS n
FROM chat_messages WHERE channel = {channel:String}
"""
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


def channels(store: Store) -> list[dict[str, Any]]:
    """Every channel with stored messages: channel, messages, first_minute, last_minute (ms)."""
    return store.query(CHANNELS_SQL)


def latest_message_ms(store: Store, channel: str) -> int | None:
    """When the channel's newest stored message was sent; None when it has none."""
    rows = store.query(LATEST_SQL, {"channel": channel})
    if not rows or not rows[0]["n"]:
        return None
    return int(rows[0]["latest"])


def hype_moments(
    store: Store,
    channel: str,
    since_ms: int,
    until_ms: int,
    baseline_minutes: int = 30,
    k: float = 4.0,
    min_messages: int = 10,
) -> list[HypeMoment]:
    """Minutes in the window whose message count stands far above the rolling baseline.

    The baseline looks back ``baseline_minutes`` before each minute, including minutes before
    ``since_ms``, so the window's first minutes are judged too.
    """
    start = since_ms - baseline_minutes * MINUTE_MS
    series = minute_series(store, channel, start, until_ms)
    counts = {int(r["minute"]): int(r["messages"]) for r in series}
    return [
        moment
        for moment in find_hype_moments(
            counts, start, until_ms, baseline_minutes=baseline_minutes, k=k, min_messages=min_messages
        )
        if moment.minute >= since_ms
    ]
