"""The events panel over the whole chosen window: every event when they are few, else counts per
chart bucket and type, so a busy hour is a chart of the hour and not of its newest 30 seconds.

SQL as constants with server-side parameters (as in :mod:`chatpulse.dashboard.queries`, whose
``TIMELINE_FILTER`` picks the same events); :func:`bucket_items` shapes rows into the API's items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from chatpulse.dashboard import queries, shape
from chatpulse.store import Store

COUNT_SQL: Final = f"""
SELECT (SELECT count() FROM chat_events FINAL {queries.TIMELINE_FILTER})
     + (SELECT count() FROM chat_messages FINAL
        WHERE channel IN {{channels:Array(String)}}
          AND sent_at >= fromUnixTimestamp64Milli({{from_ms:Int64}}, 'UTC')
          AND sent_at < fromUnixTimestamp64Milli({{to_ms:Int64}}, 'UTC')
          AND bits > 0) AS n
"""  # noqa: S608 - constant text; values are query parameters

_BUCKET = (
    "toUnixTimestamp(toStartOfInterval(toDateTime(sent_at, 'UTC'), "
    "toIntervalSecond({bucket_s:UInt32}))) * 1000"
)
BUCKETS_SQL: Final = f"""
SELECT {_BUCKET} AS t, kind, notice_type, count() AS n, uniqExact(channel) AS channels,
       sum(ifNull(ban_duration, 0)) AS ban_seconds,
       sum(toUInt64OrZero(params['mass-gift-count'])) AS gifts,
       sum(toUInt64OrZero(params['viewerCount'])) AS viewers
FROM chat_events FINAL {queries.TIMELINE_FILTER}
GROUP BY t, kind, notice_type
ORDER BY t
"""  # noqa: S608
CHEER_BUCKETS_SQL: Final = f"""
SELECT {_BUCKET} AS t, count() AS n, uniqExact(channel) AS channels, sum(bits) AS bits_sum
FROM chat_messages FINAL
WHERE channel IN {{channels:Array(String)}}
  AND sent_at >= fromUnixTimestamp64Milli({{from_ms:Int64}}, 'UTC')
  AND sent_at < fromUnixTimestamp64Milli({{to_ms:Int64}}, 'UTC')
  AND bits > 0
GROUP BY t
ORDER BY t
"""  # noqa: S608

# Plural nouns for a bucket's summary line, and what its "amount" adds up (else: how many).
_NOUNS: Final = {
    "sub": "subs", "resub": "resubs", "subgift": "gifted subs", "giftbomb": "gift bombs", "raid": "raids",
    "announcement": "announcements", "bits": "cheers", "timeout": "timeouts", "ban": "bans",
    "clear": "chat clears", "deleted": "deleted messages", "gap": "coverage gaps", "connected": "reconnects",
}  # fmt: skip
_AMOUNTS: Final = {"giftbomb": ("gifts", "subs gifted"), "raid": ("viewers", "viewers"),
                   "timeout": ("ban_seconds", "s in all"), "bits": ("bits_sum", "bits")}  # fmt: skip


def count(store: Store, scope: queries.Scope) -> int:
    """How many items the detailed timeline of ``scope`` has (events and cheers)."""
    return int(store.query(COUNT_SQL, scope.params())[0]["n"])


def event_type(kind: str, notice: str) -> str | None:
    """The timeline's type of an event row (as :func:`chatpulse.dashboard.shape.timeline` names
    it), None for events it does not show."""
    if kind == "usernotice":
        return shape.NOTICE_TYPES.get(notice)
    if kind == "clearchat":
        return notice if notice in ("ban", "timeout", "clear") else "clear"
    if kind == "clearmsg":
        return "deleted"
    if kind == "coverage":
        return "gap" if notice == "disconnected" else "connected"
    return None


def buckets(store: Store, scope: queries.Scope, bucket_s: int) -> list[dict[str, Any]]:
    """Every event and cheer of ``scope`` counted per ``bucket_s`` and type."""
    events = store.query(BUCKETS_SQL, scope.params(bucket_s=bucket_s))
    cheers = store.query(CHEER_BUCKETS_SQL, scope.params(bucket_s=bucket_s))
    return bucket_items(events, cheers, bucket_s)


def bucket_items(
    events: Iterable[Mapping[str, Any]], cheers: Iterable[Mapping[str, Any]], bucket_s: int
) -> list[dict[str, Any]]:
    """Rows -> ``{t, type, count, amount, channels, detail, bucket_s}``, oldest first; rows of one
    bucket whose kinds map to the same type (a timeout and a ban are not) are added up."""
    merged: dict[tuple[int, str], dict[str, int]] = {}
    for row in events:
        kind = event_type(row["kind"], row["notice_type"])
        if kind is not None:
            _add(merged, int(row["t"]), kind, row)
    for row in cheers:
        _add(merged, int(row["t"]), "bits", row)
    out = []
    for (t, kind), sums in sorted(merged.items()):
        field, unit = _AMOUNTS.get(kind, ("n", ""))
        amount = sums[field]
        detail = f"{_NOUNS[kind]}: {sums['n']:,}" + (f" ({amount:,} {unit})" if unit else "")
        if sums["channels"] > 1:
            detail += f" in {sums['channels']} channels"
        out.append({"t": t, "type": kind, "count": sums["n"], "amount": amount, "channels": sums["channels"],
                    "detail": detail, "bucket_s": bucket_s})  # fmt: skip
    return out


_SUMS: Final = ("n", "channels", "ban_seconds", "gifts", "viewers", "bits_sum")


def _add(merged: dict[tuple[int, str], dict[str, int]], t: int, kind: str, row: Mapping[str, Any]) -> None:
    sums = merged.setdefault((t, kind), dict.fromkeys(_SUMS, 0))
    for name in sums:
        value = int(row.get(name) or 0)
        # channels: at least the most of any one row (the true figure needs the rows' union).
        sums[name] = max(sums[name], value) if name == "channels" else sums[name] + value
