"""The SQL only the dashboard runs: several channels at once, chart buckets of any size, emote
ids for images, the live feed. What ``chatpulse report`` asks too (the channel list, the newest
message, hype moments) comes from :mod:`chatpulse.store.queries`, so both read the same figures.

All statements are string constants with ``{name:Type}`` server-side parameters: values never
go into the SQL text, and nothing here builds SQL at run time. Channel lists travel as one
``Array(String)`` parameter.

``chat_messages`` keeps moderation markers as extra versions of a message (see
``chatpulse.store.moderation``), so message-level figures read it with ``FINAL`` (one row per
message id whatever the merge state). Callers pass validated values (``chatpulse.dashboard.params``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from chatpulse.store import Store


@dataclass(frozen=True, slots=True)
class Scope:
    """Which channels and which time window a panel shows (end exclusive, ms)."""

    channels: tuple[str, ...]
    from_ms: int
    to_ms: int

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"channels": list(self.channels), "from_ms": self.from_ms, "to_ms": self.to_ms, **extra}


TOTALS_SQL: Final = """
SELECT channel, count() AS messages, uniqExact(user_login) AS chatters,
       countIf(sentiment_label = 'positive' AND sentiment_confidence >= {min_confidence:Float32}) AS positive,
       countIf(sentiment_label = 'neutral' AND sentiment_confidence >= {min_confidence:Float32}) AS neutral,
       countIf(sentiment_label = 'negative' AND sentiment_confidence >= {min_confidence:Float32}) AS negative,
       avgIf(sentiment_score, sentiment_confidence >= {min_confidence:Float32}) AS mean_score,
       sum(bits) AS bits, countIf(deleted) AS deleted
FROM chat_messages FINAL
WHERE channel IN {channels:Array(String)}
  AND sent_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
GROUP BY channel
ORDER BY messages DESC, channel
"""

OVERALL_SQL: Final = """
SELECT count() AS messages, uniqExact(user_login) AS chatters,
       countIf(sentiment_label = 'positive' AND sentiment_confidence >= {min_confidence:Float32}) AS positive,
       countIf(sentiment_label = 'neutral' AND sentiment_confidence >= {min_confidence:Float32}) AS neutral,
       countIf(sentiment_label = 'negative' AND sentiment_confidence >= {min_confidence:Float32}) AS negative,
       avgIf(sentiment_score, sentiment_confidence >= {min_confidence:Float32}) AS mean_score,
       sum(bits) AS bits, countIf(deleted) AS deleted
FROM chat_messages FINAL
WHERE channel IN {channels:Array(String)}
  AND sent_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
"""

SERIES_SQL: Final = """
SELECT channel,
       toUnixTimestamp(toStartOfInterval(toDateTime(sent_at, 'UTC'), toIntervalSecond({bucket_s:UInt32})))
         * 1000 AS t,
       count() AS messages, uniqExact(user_login) AS chatters,
       countIf(sentiment_label = 'positive' AND sentiment_confidence >= {min_confidence:Float32}) AS positive,
       countIf(sentiment_label = 'neutral' AND sentiment_confidence >= {min_confidence:Float32}) AS neutral,
       countIf(sentiment_label = 'negative' AND sentiment_confidence >= {min_confidence:Float32}) AS negative,
       avgIf(sentiment_score, sentiment_confidence >= {min_confidence:Float32}) AS mean_score
FROM chat_messages FINAL
WHERE channel IN {channels:Array(String)}
  AND sent_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
GROUP BY channel, t
ORDER BY channel, t
"""

TOP_EMOTES_SQL: Final = """
SELECT emote_name, provider, any(emote_id) AS emote_id, count() AS uses
FROM chat_emotes FINAL
WHERE channel IN {channels:Array(String)}
  AND sent_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
GROUP BY emote_name, provider
ORDER BY uses DESC, emote_name
LIMIT {limit:UInt32}
"""

TOP_CHATTERS_SQL: Final = """
SELECT channel, user_login, any(user_name) AS user_name, count() AS messages,
       avg(sentiment_score) AS mean_score
FROM chat_messages FINAL
WHERE channel IN {channels:Array(String)}
  AND sent_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
GROUP BY channel, user_login
ORDER BY messages DESC, user_login
LIMIT {limit:UInt32}
"""

# The events the timeline shows (chatpulse.dashboard.event_buckets counts the same ones).
TIMELINE_FILTER: Final = """
WHERE channel IN {channels:Array(String)}
  AND sent_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND (kind IN ('clearchat', 'clearmsg', 'coverage')
       OR (kind = 'usernotice'
           AND notice_type IN ('sub', 'resub', 'subgift', 'submysterygift', 'raid', 'announcement')))
"""

TIMELINE_SQL: Final = f"""
SELECT toUnixTimestamp64Milli(sent_at) AS t, channel, kind, notice_type, user_login,
       target_user_login, ban_duration, system_text, text, params
FROM chat_events FINAL {TIMELINE_FILTER}
ORDER BY sent_at DESC
LIMIT {{limit:UInt32}}
"""  # noqa: S608 - constant text; values are query parameters

CHEERS_SQL: Final = """
SELECT toUnixTimestamp64Milli(sent_at) AS t, channel, user_login, bits, text
FROM chat_messages FINAL
WHERE channel IN {channels:Array(String)}
  AND sent_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND bits > 0
ORDER BY sent_at DESC
LIMIT {limit:UInt32}
"""

BUCKET_MESSAGES_SQL: Final = """
SELECT text, count() AS count
FROM chat_messages FINAL
WHERE channel IN {channels:Array(String)}
  AND sent_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
  AND text != ''
GROUP BY text
ORDER BY count DESC, text
LIMIT {limit:UInt32}
"""

# The cursor defaults to (0, '') so one statement serves the first page and the next ones.
FEED_SQL: Final = """
SELECT * FROM (
  SELECT toUnixTimestamp64Milli(sent_at) AS t, id, channel, user_login, user_name, color, text,
         sentiment_label AS label, sentiment_score AS score
  FROM chat_messages
  WHERE channel IN {channels:Array(String)}
    AND sent_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
    AND sent_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
    AND version = 0
    AND (toUnixTimestamp64Milli(sent_at), id) > ({after_ms:Int64}, {after_id:String})
  ORDER BY sent_at DESC, id DESC
  LIMIT {limit:UInt32}
)
ORDER BY t, id
"""


def totals(store: Store, scope: Scope, min_confidence: float = 0.0) -> list[dict[str, Any]]:
    """Per channel: messages, chatters, positive/neutral/negative, mean_score, bits, deleted.
    The sentiment mix and mean leave out verdicts less confident than ``min_confidence``."""
    return store.query(TOTALS_SQL, scope.params(min_confidence=min_confidence))


def overall(store: Store, scope: Scope, min_confidence: float = 0.0) -> dict[str, Any]:
    """The same figures as :func:`totals` over all of the scope's channels together (a chatter
    active in two of them counts once)."""
    return store.query(OVERALL_SQL, scope.params(min_confidence=min_confidence))[0]


def series(store: Store, scope: Scope, bucket_s: int, min_confidence: float = 0.0) -> list[dict[str, Any]]:
    """Per channel and time bucket (t = bucket start, ms): counts, chatters, sentiment mix, mean
    (the mix and mean without verdicts less confident than ``min_confidence``)."""
    return store.query(SERIES_SQL, scope.params(bucket_s=bucket_s, min_confidence=min_confidence))


def top_emotes(store: Store, scope: Scope, limit: int) -> list[dict[str, Any]]:
    """Most used emotes in the scope: emote_name, provider, emote_id, uses."""
    return store.query(TOP_EMOTES_SQL, scope.params(limit=limit))


def top_chatters(store: Store, scope: Scope, limit: int) -> list[dict[str, Any]]:
    """Busiest chatters per channel: channel, user_login, user_name, messages, mean_score."""
    return store.query(TOP_CHATTERS_SQL, scope.params(limit=limit))


def timeline_events(store: Store, scope: Scope, limit: int) -> list[dict[str, Any]]:
    """Newest subs, gifts, raids, announcements, bans, timeouts, deletions, coverage changes.

    Raw rows (t, channel, kind, notice_type, user_login, target_user_login, ban_duration,
    system_text, text, params); :func:`chatpulse.dashboard.shape.timeline` names them.
    """
    return store.query(TIMELINE_SQL, scope.params(limit=limit))


def cheers(store: Store, scope: Scope, limit: int) -> list[dict[str, Any]]:
    """Newest messages that carried bits: t, channel, user_login, bits, text."""
    return store.query(CHEERS_SQL, scope.params(limit=limit))


def bucket_top_messages(store: Store, scope: Scope, limit: int) -> list[dict[str, Any]]:
    """The most repeated message texts in a (usually one-channel, one-bucket) scope: text, count."""
    return store.query(BUCKET_MESSAGES_SQL, scope.params(limit=limit))


def feed(store: Store, scope: Scope, after: tuple[int, str] | None, limit: int) -> list[dict[str, Any]]:
    """Newest messages (returned oldest first), only those after the ``(ms, id)`` cursor."""
    after_ms, after_id = after if after is not None else (0, "")
    return store.query(FEED_SQL, scope.params(limit=limit, after_ms=after_ms, after_id=after_id))
