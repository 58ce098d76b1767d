"""The days already imported, per channel, in the store's ``archive_days`` table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from chatpulse.store import Store


def stored_days(store: Store, channel_key: str) -> set[dt.date]:
    """Days recorded as imported for ``channel_key`` (a login, or ``id:NNN``)."""
    rows = store.query(
        "SELECT toString(day) AS day FROM archive_days FINAL WHERE channel = {c:String}", {"c": channel_key}
    )
    return {dt.date.fromisoformat(str(row["day"])) for row in rows}


def record_days(store: Store, channel_key: str, archive: str, days: Iterable[tuple[dt.date, int]]) -> int:
    """Record ``(day, lines)`` pairs as imported from ``archive``; returns how many."""
    count = 0
    for day, lines in days:
        store.command(
            "INSERT INTO archive_days (channel, day, archive, lines, imported_at) VALUES "
            "({c:String}, toDate({d:String}), {a:String}, {n:UInt64}, now64(3, 'UTC'))",
            {"c": channel_key, "d": day.isoformat(), "a": archive, "n": lines},
        )
        count += 1
    return count
