"""Rate limits and retry delays for IRC connections.

Twitch allows 20 JOINs per 10 seconds per account (dev.twitch.tv/docs/irc, "Rate limits");
a client that sends more has the extra JOINs dropped, so one :class:`JoinPacer` is shared by
every connection of a source. Reconnect delays: :func:`chatpulse.backoff.backoff_delay`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable


class JoinPacer:
    """At most ``limit`` acquisitions in any ``window_s`` seconds (a sliding window), FIFO.

    Callers ``await acquire()`` right before sending a JOIN. ``clock`` is the event loop's
    monotonic clock unless a test passes another.
    """

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] | None = None) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def delay(self) -> float:
        """Seconds until the next acquisition is allowed (0 when one is allowed now)."""
        now = self._now()
        while self._sent and self._sent[0] <= now - self.window_s:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        return self._sent[0] + self.window_s - now

    async def acquire(self) -> None:
        async with self._lock:  # FIFO: whoever asked first joins first
            while (wait := self.delay()) > 0:
                await asyncio.sleep(wait)
            self._sent.append(self._now())
