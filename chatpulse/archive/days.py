"""Which archive days to fetch: the archive's list, a date range and the days already stored (pure)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from chatpulse.errors import ArchiveError

# A list this long is not a channel's history (ten years of days is ~3,650): refuse it rather
# than plan a million fetches from an archive that is misbehaving.
MAX_LISTED_DAYS: Final = 50_000


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The days to fetch, oldest first, and what was left out and why."""

    fetch: tuple[dt.date, ...]
    available: int  # days the archive lists inside the range
    already_stored: tuple[dt.date, ...]  # listed and in range, but recorded as imported


def _number(entry: Mapping[str, Any], key: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ArchiveError(f"archive list: '{key}' is not a number ({type(value).__name__})")
    try:
        return int(value)
    except ValueError:
        raise ArchiveError(f"archive list: '{key}' is not a number ({str(value)[:20]!r})") from None


def parse_available(document: Any) -> list[dt.date]:
    """The days of a justlog/rustlog ``GET /list`` answer: ``{"availableLogs": [{"year": "2024",
    "month": "1", "day": "6"}, ...]}`` (strings or numbers). An entry without ``day`` (justlog's
    monthly listing) stands for every day of its month; days with no log are answered 404 and
    skipped. Raises :class:`ArchiveError` (not retryable) for any other shape."""
    logs = document.get("availableLogs") if isinstance(document, dict) else None
    if not isinstance(logs, list):
        raise ArchiveError("archive list: not a justlog/rustlog answer (no 'availableLogs' list)")
    days: set[dt.date] = set()
    for entry in logs:
        if not isinstance(entry, dict):
            raise ArchiveError("archive list: an entry of 'availableLogs' is not an object")
        year, month, day = _number(entry, "year"), _number(entry, "month"), _number(entry, "day")
        if year is None or month is None:
            raise ArchiveError("archive list: an entry has no 'year' or 'month'")
        try:
            if day is not None:
                days.add(dt.date(year, month, day))
            else:
                last = calendar.monthrange(year, month)[1]
                days.update(dt.date(year, month, d) for d in range(1, last + 1))
        except (ValueError, calendar.IllegalMonthError):
            raise ArchiveError(f"archive list: {year}-{month}-{day or 1} is not a date") from None
        if len(days) > MAX_LISTED_DAYS:
            raise ArchiveError(f"archive list: more than {MAX_LISTED_DAYS:,} days listed; refused")
    return sorted(days)


def plan_days(
    available: Iterable[dt.date],
    start: dt.date | None,
    end: dt.date | None,
    stored: Iterable[dt.date] = (),
) -> DayPlan:
    """The listed days between ``start`` and ``end`` (inclusive, None = open) that are not in
    ``stored``, oldest first: chat then reaches the store in time order, so moderation follows
    the messages it targets."""
    in_range = sorted(
        d for d in set(available) if (start is None or d >= start) and (end is None or d <= end)
    )
    done = set(stored)
    return DayPlan(
        fetch=tuple(d for d in in_range if d not in done),
        available=len(in_range),
        already_stored=tuple(d for d in in_range if d in done),
    )


def is_complete(day: dt.date, now: dt.datetime) -> bool:
    """Whether an archive's log of ``day`` (UTC) can still grow: today's is still being written,
    so it is imported but not recorded as done, and a rerun fetches it again (the store keeps
    each message once)."""
    return day < now.astimezone(dt.UTC).date()
