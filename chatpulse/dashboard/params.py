"""Validation of the dashboard API's query parameters. Pure: no I/O, no clock.

Every value a client sends is checked here before anything reaches a query: channel names must
match ``^[a-z0-9_]{1,25}$`` (Twitch logins; DESIGN.md section 9), times are integers or ISO-8601,
limits are small integers. Anything else raises :class:`BadRequest`, which the app answers with
HTTP 400 and the message (the message names the parameter and never echoes long input back).
Queries are parameterized as well; validation is the first wall, not the only one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from chatpulse.config import CHANNEL_PATTERN
from chatpulse.times import parse_time

MAX_CHANNELS: Final = 50  # a compare view of more lines than this is unreadable anyway
RANGES_MS: Final = {"15m": 15 * 60_000, "1h": 3_600_000, "6h": 6 * 3_600_000, "24h": 86_400_000}
MAX_WINDOW_MS: Final = 31 * 86_400_000
_CHANNEL: Final = re.compile(CHANNEL_PATTERN)
_INTEGER: Final = re.compile(r"^-?[0-9]{1,16}$")
_CURSOR: Final = re.compile(r"^([0-9]{1,16}):([A-Za-z0-9_-]{0,64})$")
# Epoch-ms bounds accepted from clients: 2000-01-01 .. 2100-01-01 (Twitch did not exist before).
_EARLIEST_MS: Final = 946_684_800_000
_LATEST_MS: Final = 4_102_444_800_000


class BadRequest(ValueError):  # noqa: N818 - reads as the HTTP status it becomes
    """A query parameter is missing or invalid; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Window:
    """A time window requested by the client: explicit bounds, or a span ending at the newest data.

    ``span_ms`` is set for the relative ranges (``15m``, ``1h``, ...): the app resolves the end
    against the newest message of the selected channels, so a finished recording still shows
    its last 15 minutes and a live store shows the last 15 minutes up to now.
    """

    start_ms: int | None
    end_ms: int | None
    span_ms: int | None


def _short(value: str) -> str:
    return value if len(value) <= 30 else value[:27] + "..."


def channels(values: Sequence[str], required: bool = False) -> tuple[str, ...]:
    """Validated, de-duplicated channel names, in the order given.

    Accepts repeated ``channel`` parameters and comma-separated lists.
    """
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                continue
            name = channel_name(name)
            if name not in names:
                names.append(name)
    if len(names) > MAX_CHANNELS:
        raise BadRequest(f"too many channels: at most {MAX_CHANNELS}")
    if required and not names:
        raise BadRequest("parameter 'channel' is required")
    return tuple(names)


def channel_name(value: str) -> str:
    """One channel login as Twitch spells it (lower case, no ``#``), else BadRequest. Like the
    CLI, ``XQC`` and ``#xqc`` are taken as ``xqc``: Twitch logins are case-insensitive."""
    name = value.lower().removeprefix("#")
    # fullmatch: with re.match, "$" would also accept a name followed by a newline.
    if not _CHANNEL.fullmatch(name):
        raise BadRequest(f"invalid channel name {_short(value)!r}: expected {CHANNEL_PATTERN}")
    return name


def time_ms(value: str, name: str) -> int:
    """An epoch-ms integer or an ISO-8601 time -> epoch ms, within 2000..2100."""
    value = value.strip()
    try:
        ms = int(value) if _INTEGER.match(value) else parse_time(value)
    except ValueError:
        raise BadRequest(f"parameter {name!r}: expected epoch milliseconds or ISO-8601") from None
    if not _EARLIEST_MS <= ms <= _LATEST_MS:
        raise BadRequest(f"parameter {name!r}: out of range")
    return ms


def window(params: Mapping[str, str]) -> Window:
    """``range=15m|1h|6h|24h`` (default 15m), or ``from`` and ``to`` (both), never both styles."""
    start, end, span = params.get("from"), params.get("to"), params.get("range")
    if start is None and end is None:
        key = span or "15m"
        if key not in RANGES_MS:
            raise BadRequest(f"parameter 'range': expected one of {', '.join(RANGES_MS)}")
        return Window(None, None, RANGES_MS[key])
    if span is not None:
        raise BadRequest("give either 'range' or 'from'/'to', not both")
    if start is None or end is None:
        raise BadRequest("parameters 'from' and 'to' go together")
    start_ms, end_ms = time_ms(start, "from"), time_ms(end, "to")
    if end_ms <= start_ms:
        raise BadRequest("parameter 'to' must be after 'from'")
    if end_ms - start_ms > MAX_WINDOW_MS:
        raise BadRequest("window too long: at most 31 days")
    return Window(start_ms, end_ms, None)


def integer(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within ``[low, high]``; ``default`` when absent."""
    value = params.get(name)
    if value is None:
        return default
    if not _INTEGER.match(value.strip()):
        raise BadRequest(f"parameter {name!r}: expected an integer")
    number = int(value)
    if not low <= number <= high:
        raise BadRequest(f"parameter {name!r}: expected {low}..{high}")
    return number


def cursor(value: str | None) -> tuple[int, str] | None:
    """The live feed's ``after`` cursor, ``<ms>:<message id>`` as the API hands it out."""
    if value is None or value == "":
        return None
    match = _CURSOR.match(value)
    if match is None:
        raise BadRequest("parameter 'after': expected a cursor from a previous /api/feed answer")
    return int(match[1]), match[2]


def known_only(params: Mapping[str, str], allowed: frozenset[str]) -> None:
    """Reject parameters an endpoint does not know (typos should not be silently ignored)."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadRequest(f"unknown parameter {_short(unknown[0])!r}")
