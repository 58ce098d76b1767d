"""Event times: milliseconds since the epoch <-> ISO-8601 UTC text (``2019-09-15T00:00:00.501Z``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

# --- time ------------------------------------------------------------------------------------
#
# Every event carries two times and every stage of the Kafka pipeline formats or parses both, so
# these are hot. Chat arrives in bursts, many events share a second: the "YYYY-MM-DDTHH:MM:SS"
# part is cached per second (both ways) and the milliseconds come from tables. The caches are
# cleared when full, so memory stays bounded on a long replay.

_SECOND_CACHE_SIZE: Final = 4096
_MILLIS_SUFFIX: Final = tuple(f".{millis:03d}Z" for millis in range(1000))
_MILLIS_VALUE: Final = {f"{millis:03d}": millis for millis in range(1000)}
_ISO_SECONDS: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", re.ASCII)
_second_text: dict[int, str] = {}  # epoch second -> "2019-09-15T00:00:00"
_second_value: dict[str, int] = {}  # the reverse


def _format_second(seconds: int) -> str:
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if len(_second_text) >= _SECOND_CACHE_SIZE:
        _second_text.clear()
    _second_text[seconds] = text
    return text


def format_time(ms: int) -> str:
    """Milliseconds since epoch -> ``2019-09-15T00:00:00.501Z``."""
    seconds, millis = divmod(ms, 1000)
    return (_second_text.get(seconds) or _format_second(seconds)) + _MILLIS_SUFFIX[millis]


def _parse_time_any(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def parse_time(text: str) -> int:
    """ISO-8601 (``Z`` or offset, any sub-second precision) -> milliseconds since epoch."""
    # Fast path: exactly what format_time writes; anything else takes the general parser.
    if len(text) == 24 and text[19] == "." and text[23] == "Z":
        millis = _MILLIS_VALUE.get(text[20:23])
        if millis is not None:
            prefix = text[:19]
            seconds = _second_value.get(prefix)
            if seconds is None and _ISO_SECONDS.fullmatch(prefix):
                seconds = _parse_time_any(prefix + "Z") // 1000  # raises ValueError for 2019-13-01
                if len(_second_value) >= _SECOND_CACHE_SIZE:
                    _second_value.clear()
                _second_value[prefix] = seconds
            if seconds is not None:
                return seconds * 1000 + millis
    return _parse_time_any(text)


def wire_time(ms: int | None) -> str | None:
    """:func:`format_time`, None for None, in one call (the encoders call it twice per event)."""
    if ms is None:
        return None
    seconds, millis = divmod(ms, 1000)
    return (_second_text.get(seconds) or _format_second(seconds)) + _MILLIS_SUFFIX[millis]


def event_time(text: str | None) -> int | None:
    return None if text is None else parse_time(text)
