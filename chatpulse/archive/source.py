"""``ArchiveSource``: the days of a log archive as a chat source, each day retried on its own.

It feeds the embedded pipeline exactly as a replay does (raw lines with their receive time), so
imported chat goes through the same parse, emotes, sentiment and store steps as live chat. A
day that fails with a retryable fault (timeout, connection refused, 5xx, a cut body) is fetched
again from its start after a capped, jittered backoff; lines it had already delivered come
again and the store keeps each message once. A refused answer (not chat, a huge line, an
off-host redirect) is not retried. Either way the day is reported and the next one follows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, TypeVar

from chatpulse.archive.client import ArchiveClient, ChannelRef
from chatpulse.backoff import backoff_delay
from chatpulse.errors import ArchiveError
from chatpulse.sources.base import RawLine, SourceItem, now_ms

log = logging.getLogger(__name__)
_T = TypeVar("_T")
CHUNK_LINES: Final = 5000  # lines read per network hand-off (one thread call each)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a failing day (or the list) is fetched again."""

    retries: int = 4  # attempts after the first
    base_s: float = 0.5
    cap_s: float = 8.0


@dataclass(slots=True)
class DayOutcome:
    """What happened to one day: ``done`` once all its lines were delivered (or it had none)."""

    day: dt.date
    lines: int = 0  # lines delivered by the attempt that finished the day
    attempts: int = 0
    done: bool = False
    missing: bool = False  # the archive answered 404: no log that day
    error: str | None = None  # why it failed (cleared when a retry succeeds)
    refused: list[str] = field(default_factory=list)  # lines dropped by the last attempt (too long)


async def with_retries(
    attempt: Callable[[], Awaitable[_T]],
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> _T:
    """``attempt()`` until it succeeds, raises a non-retryable ArchiveError, or the retries run out
    (the last error is raised)."""
    for number in range(policy.retries + 1):
        try:
            return await attempt()
        except ArchiveError as exc:
            if not exc.retryable or number == policy.retries:
                raise
            delay = backoff_delay(number, policy.base_s, policy.cap_s)
            log.warning("%s; trying again in %.1f s", exc, delay)
            await sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


class ArchiveSource:
    """Yields the raw lines of ``days`` (oldest first); :attr:`outcomes` says how each went."""

    name = "archive"
    # All of it is chat from the past: latency is timed from receipt, and whatever treats
    # back-fill differently (e.g. alerts) can tell.
    in_history = True

    def __init__(
        self,
        client: ArchiveClient,
        channel: ChannelRef,
        days: tuple[dt.date, ...],
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.channel = channel
        self.days = days
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._closed = False
        self.outcomes: list[DayOutcome] = []
        self.lines = 0  # every line delivered, retried ones included
        self.retries = 0

    async def stream(self) -> AsyncIterator[SourceItem]:
        for day in self.days:
            if self._closed:
                return
            outcome = DayOutcome(day)
            self.outcomes.append(outcome)
            for number in range(self.policy.retries + 1):
                try:
                    async for item in self._fetch(outcome):
                        yield item
                    if self._closed:
                        return  # stopped part-way: the day is not done
                    outcome.done, outcome.error = True, None
                    break
                except ArchiveError as exc:
                    outcome.error = str(exc)
                    if not exc.retryable or number == self.policy.retries or self._closed:
                        break
                    self.retries += 1
                    delay = backoff_delay(number, self.policy.base_s, self.policy.cap_s)
                    log.warning("%s; fetching %s again in %.1f s", exc, day.isoformat(), delay)
                    await self._sleep(delay)

    async def _fetch(self, outcome: DayOutcome) -> AsyncIterator[SourceItem]:
        """One attempt at a day: its lines from the start (``outcome.lines`` counts them)."""
        outcome.attempts += 1
        outcome.lines, outcome.refused = 0, []
        reader = await asyncio.to_thread(self.client.open_day, self.channel, outcome.day)
        if reader is None:
            outcome.missing = True
            return
        try:
            while not self._closed:
                lines = await asyncio.to_thread(reader.read, CHUNK_LINES)
                if not lines:
                    return
                received = now_ms()
                for line in lines:
                    yield RawLine(line, received)
                outcome.lines += len(lines)
                self.lines += len(lines)
        finally:
            outcome.refused = reader.refused
            reader.close()

    def history_stored(self) -> None:
        """Never called: an archive is history to its end (see Source.history_stored)."""

    async def close(self) -> None:
        self._closed = True
