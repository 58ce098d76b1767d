"""The SQL only the recap runs (the rest comes from :mod:`chatpulse.store.queries` and
:mod:`chatpulse.dashboard.queries`). Parameterized; times in ms; windows ``[since, until)``.

Emotes are read from the per-minute emote aggregates (with the emote id, for images), so a
recap of a ten-million-message stream never scans ``chat_emotes``.
"""

from __future__ import annotations

from typing import Any, Final

from chatpulse.store import Store

_WINDOW_MINUTE = (
    "channel = {channel:String} "
    "AND minute >= toDateTime(intDiv({since:Int64}, 1000), 'UTC') "
    "AND minute < toDateTime(intDiv({until:Int64}, 1000), 'UTC')"
)
EMOTES_SQL: Final = f"""
SELECT emote_name, provider, any(emote_id) AS emote_id, countMerge(uses) AS uses
FROM chat_emote_minute WHERE {_WINDOW_MINUTE}
GROUP BY emote_name, provider ORDER BY uses DESC, emote_name LIMIT {{limit:UInt32}}
"""  # noqa: S608 - constant text; values are query parameters
# Originals only (version 0: a moderation marker is a second version of a message), counted
# plainly: uniqExact(id) over a ten-million-message stream took seconds, and the sink never
# stores a message twice.
TOP_CHATTERS_SQL: Final = """
SELECT user_login AS login, count() AS messages
FROM chat_messages
WHERE channel = {channel:String} AND version = 0
  AND sent_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')
GROUP BY login ORDER BY messages DESC, login LIMIT {limit:UInt32}
"""
# A chatter is new when their first stored message in the channel falls in the window. Only
# this stream's chatters are looked up in the channel's earlier chat.
NEW_CHATTERS_SQL: Final = """
SELECT user_login AS login, count() AS messages
FROM chat_messages
WHERE channel = {channel:String} AND version = 0
  AND sent_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')
  AND user_login NOT IN (
    SELECT DISTINCT user_login FROM chat_messages
    WHERE channel = {channel:String} AND sent_at < fromUnixTimestamp64Milli({since:Int64}, 'UTC')
  )
GROUP BY login ORDER BY messages DESC, login
"""


def _window(channel: str, since_ms: int, until_ms: int, **extra: Any) -> dict[str, Any]:
    return {"channel": channel, "since": since_ms, "until": until_ms, **extra}


def top_emotes(store: Store, channel: str, since_ms: int, until_ms: int, limit: int) -> list[dict[str, Any]]:
    """Most used emotes: emote_name, provider, emote_id, uses."""
    return store.query(EMOTES_SQL, _window(channel, since_ms, until_ms, limit=limit))


def top_chatters(
    store: Store, channel: str, since_ms: int, until_ms: int, limit: int
) -> list[dict[str, Any]]:
    """The most active chatters: login, messages."""
    return store.query(TOP_CHATTERS_SQL, _window(channel, since_ms, until_ms, limit=limit))


def new_chatters(store: Store, channel: str, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
    """Chatters whose first message in the channel is in the window: login, messages (most first)."""
    return store.query(NEW_CHATTERS_SQL, _window(channel, since_ms, until_ms))
