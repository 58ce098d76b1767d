"""The SQL only the recap runs (the rest comes from :mod:`chatpulse.store.queries` and
:mod:`chatpulse.dashboard.queries`). Parameterized; times in ms; windows ``[since, until)``.

Emotes are read from the per-minute emote aggregates (with the emote id, for images), so a
recap of a ten-million-message stream never scans ``chat_emotes``.
"""

from __future__ import annotations

from dataclasses import dataclass
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
# One pass over the stream's original messages (version 0: a moderation marker is a second
# version of a message), counted plainly (the sink never stores a message twice), by Twitch user
# id: reading the LowCardinality login column of ten million rows took seconds, the ids a
# fraction of that. Each chatter's messages and whether their first message in the channel is
# in the stream; the busiest `limit` of the new and of the returning chatters, each row with the
# size of its group. Their logins are looked up afterwards for those few ids only.
CHATTERS_SQL: Final = """
SELECT uid, messages, is_new, count() OVER (PARTITION BY is_new) AS group_size
FROM (
  SELECT user_id AS uid, count() AS messages,
         uid NOT IN (
           SELECT DISTINCT user_id FROM chat_messages
           WHERE channel = {channel:String} AND sent_at < fromUnixTimestamp64Milli({since:Int64}, 'UTC')
         ) AS is_new
  FROM chat_messages
  WHERE channel = {channel:String} AND version = 0 AND user_id != ''
    AND sent_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
    AND sent_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')
  GROUP BY uid
)
ORDER BY messages DESC, uid
LIMIT {limit:UInt32} BY is_new
"""
LOGINS_SQL: Final = """
SELECT user_id AS uid, any(user_login) AS login
FROM chat_messages
PREWHERE user_id IN {ids:Array(String)}
WHERE channel = {channel:String}
  AND sent_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')
GROUP BY uid
"""
CHEERS_SQL: Final = """
SELECT toUnixTimestamp64Milli(sent_at) AS t, channel, user_login, bits, text
FROM chat_messages
PREWHERE bits > 0
WHERE channel = {channel:String} AND version = 0
  AND sent_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')
ORDER BY sent_at DESC
LIMIT {limit:UInt32}
"""


@dataclass(frozen=True, slots=True)
class Chatters:
    """The stream's busiest chatters, its busiest new ones (first message in the channel) and
    how many were new."""

    top: list[dict[str, Any]]
    new: list[dict[str, Any]]
    new_count: int


def _window(channel: str, since_ms: int, until_ms: int, **extra: Any) -> dict[str, Any]:
    return {"channel": channel, "since": since_ms, "until": until_ms, **extra}


def top_emotes(store: Store, channel: str, since_ms: int, until_ms: int, limit: int) -> list[dict[str, Any]]:
    """Most used emotes: emote_name, provider, emote_id, uses."""
    return store.query(EMOTES_SQL, _window(channel, since_ms, until_ms, limit=limit))


def chatters(store: Store, channel: str, since_ms: int, until_ms: int, limit: int) -> Chatters:
    """Top chatters (login, messages), top new chatters and the number of new chatters."""
    window = _window(channel, since_ms, until_ms, limit=limit)
    rows = store.query(CHATTERS_SQL, window)
    ids = sorted({r["uid"] for r in rows})
    logins = {r["uid"]: r["login"] for r in store.query(LOGINS_SQL, {**window, "ids": ids})} if ids else {}

    def ranked(chosen: list[dict[str, Any]]) -> list[dict[str, Any]]:
        named = [{"login": logins.get(r["uid"], r["uid"]), "messages": int(r["messages"])} for r in chosen]
        return sorted(named, key=lambda r: (-r["messages"], r["login"]))[:limit]

    new_count = next((int(r["group_size"]) for r in rows if r["is_new"]), 0)
    return Chatters(ranked(rows), ranked([r for r in rows if r["is_new"]]), new_count)


def cheers(store: Store, channel: str, since_ms: int, until_ms: int, limit: int) -> list[dict[str, Any]]:
    """The stream's newest cheers: t, channel, user_login, bits, text."""
    return store.query(CHEERS_SQL, _window(channel, since_ms, until_ms, limit=limit))
