"""The source extension point: anything that yields chat lines with their receive time.

A source owns connecting, login, joins, keep-alive, reconnects and pacing; nothing else. The
pipeline calls :meth:`Source.stream` once and iterates it; the iterator ends when the source is
exhausted (a replay file ended, a ``--duration`` passed) or when :meth:`Source.close` was called.
Transient faults (a dropped connection) are handled inside the source and surface only as
:class:`~chatpulse.events.CoverageEvent` items; a fault it cannot recover from (credentials
refused) raises a :class:`~chatpulse.errors.SourceError` out of the iterator.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from chatpulse.events import ChatEvent


@dataclass(frozen=True, slots=True)
class RawLine:
    """One raw IRC line (no CRLF) and when it arrived, in ms since the epoch."""

    line: str
    received_at: int


SourceItem = RawLine | ChatEvent
"""What sources yield: raw lines for the parser, or events that need no parsing (coverage,
EventSub payloads already mapped)."""


class Source(Protocol):
    """A producer of raw chat lines."""

    name: str  # the event ``source`` field: irc, eventsub, replay, synthetic
    # True while the source yields chat from the past before its live chat (the demo's
    # back-fill). Read by the runners between items: history leaves in batches of its own and
    # adds no latency samples. Sources without history keep it False.
    in_history: bool

    def stream(self) -> AsyncIterator[SourceItem]:
        """Yield items until exhausted or closed. Called once, by the pipeline."""
        ...

    async def close(self) -> None:
        """Stop: the iterator from :meth:`stream` ends soon after. Safe to call twice."""
        ...

    def history_stored(self) -> None:
        """Called by the runner once ``in_history`` turned False and everything yielded before
        is queryable; a source with history starts its live chat only then, so live chat never
        waits behind the back-fill. A no-op for sources without history."""
        ...


def now_ms() -> int:
    """Wall-clock time in ms since the epoch (the receive-time clock of every source)."""
    return time.time_ns() // 1_000_000
