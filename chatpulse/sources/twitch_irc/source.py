"""Live Twitch chat over IRC: :class:`TwitchIrcSource`.

The source spreads its channels over a pool of connections (``twitch.channels_per_connection``
each, default 50); every connection is an :class:`~chatpulse.sources.twitch_irc.session.IrcSession`
that reconnects and rejoins by itself. One :class:`JoinPacer` spans the whole pool, because
Twitch counts JOINs per account, not per connection (``twitch.joins_per_window`` per
``twitch.join_window_s``: 20 per 10 s). Gaps are never silent: whenever a channel starts or
stops being received the stream carries a ``coverage`` event for it.

Usage::

    source = TwitchIrcSource(settings.twitch, ["xqc", "nymn"])
    async for item in source.stream():   # RawLine or CoverageEvent
        ...
    await source.close()                 # from anywhere; the loop then ends
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Final, Literal

from chatpulse.config import TwitchSettings
from chatpulse.errors import AuthenticationError
from chatpulse.events import CoverageEvent
from chatpulse.sources.base import SourceItem, now_ms
from chatpulse.sources.channels import normalize_channel, normalize_channels
from chatpulse.sources.twitch_irc.endpoint import build_login, cleartext_warning, endpoint_from_settings
from chatpulse.sources.twitch_irc.link import IrcCounters, IrcTimings
from chatpulse.sources.twitch_irc.pacing import JoinPacer
from chatpulse.sources.twitch_irc.session import IrcSession

__all__ = ["IrcCounters", "IrcTimings", "TwitchIrcSource"]

log = logging.getLogger("chatpulse.sources.twitch_irc.source")


class _End:
    """Queue marker: the stream is over."""


_END: Final = _End()
QueueItem = SourceItem | AuthenticationError | _End


class TwitchIrcSource:
    """Reads many Twitch channels over a pool of IRC connections (see the module docstring).

    Raises :class:`~chatpulse.errors.ConfigError` at construction for a bad endpoint, channel
    name or a token without a nickname; :class:`~chatpulse.errors.AuthenticationError` out of
    :meth:`stream` when Twitch refuses the credentials. Everything else (refused connections,
    drops, silence, RECONNECT) is retried and shows up only as coverage events, log lines and
    :attr:`counters`.
    """

    in_history = False  # see Source.in_history

    def history_stored(self) -> None:
        """No history: nothing waits for it."""

    name = "irc"

    def __init__(
        self,
        settings: TwitchSettings,
        channels: Sequence[str],
        *,
        timings: IrcTimings | None = None,
        queue_size: int = 10_000,
    ) -> None:
        self.endpoint = endpoint_from_settings(settings)
        self.login = build_login(settings)
        self.timings = timings or IrcTimings()
        self.counters = IrcCounters()
        # The server counts JOINs by arrival, and arrivals bunch up on the way: keep a margin.
        margin = max(0.05 * settings.join_window_s, 0.1)
        self.pacer = JoinPacer(settings.joins_per_window, settings.join_window_s + margin)
        self._per_connection = settings.channels_per_connection
        self._wanted: list[str] = list(normalize_channels(channels))
        self._sessions: list[IrcSession] = []
        self._coverage: Counter[str] = Counter()
        self._queue: asyncio.Queue[QueueItem] = asyncio.Queue(maxsize=queue_size)
        self._backlog: set[asyncio.Task[None]] = set()
        self._started = False
        self._closed = False
        warning = cleartext_warning(self.endpoint, self.login)
        if warning:
            log.warning(warning)

    # --- public API ------------------------------------------------------------------------

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel the source is asked to read (joined or not yet)."""
        return tuple(channel for session in self._sessions for channel in session.channels) or tuple(
            self._wanted
        )

    @property
    def covered(self) -> frozenset[str]:
        """Channels being received right now."""
        return frozenset(channel for channel, links in self._coverage.items() if links > 0)

    @property
    def connections(self) -> int:
        return len(self._sessions)

    async def stream(self) -> AsyncIterator[SourceItem]:
        """Raw lines and coverage events until :meth:`close`; call once."""
        if self._started:
            raise RuntimeError("TwitchIrcSource.stream() can be called only once")
        self._started = True
        log.info(
            "reading %d channels from %s as %s over %d connections",
            len(self._wanted), self.endpoint.describe(), self.login.nick,
            -(-len(self._wanted) // self._per_connection),
        )  # fmt: skip
        for start in range(0, len(self._wanted), self._per_connection):
            self._add_session(self._wanted[start : start + self._per_connection])
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _End):
                    return
                if isinstance(item, AuthenticationError):
                    raise item
                yield item
        finally:
            await self.close()

    async def join(self, channel: str) -> None:
        """Start reading ``channel`` (validated); a no-op when already wanted."""
        name = normalize_channel(channel)
        if any(name in session.channels for session in self._sessions) or (
            not self._started and name in self._wanted
        ):
            return
        if not self._started:
            self._wanted.append(name)
            return
        for session in self._sessions:
            if len(session.channels) < self._per_connection:
                await session.join(name)
                return
        self._add_session([name])

    async def part(self, channel: str) -> None:
        """Stop reading ``channel``; its coverage ends with reason ``parted``."""
        name = normalize_channel(channel)
        if name in self._wanted:
            self._wanted.remove(name)
        for session in self._sessions:
            await session.part(name)

    async def close(self) -> None:
        """Stop every connection; the stream yields what is queued, then ends. Idempotent."""
        if self._closed:
            return
        self._closed = True
        sessions, self._sessions = self._sessions, []
        await asyncio.gather(*(session.stop() for session in sessions))
        self._emit_soon(_END)

    # --- LinkHost / SessionHost ------------------------------------------------------------

    async def emit(self, item: SourceItem) -> None:
        await self._queue.put(item)

    def channel_up(self, channel: str) -> None:
        self._coverage[channel] += 1
        if self._coverage[channel] == 1:
            self._emit_soon(self._coverage_event(channel, "connected", ""))

    def channel_down(self, channel: str, reason: str) -> None:
        if self._coverage[channel] <= 0:
            return
        self._coverage[channel] -= 1
        if self._coverage[channel] == 0:
            del self._coverage[channel]
            self._emit_soon(self._coverage_event(channel, "disconnected", reason))

    def join_failed(self, channel: str, reason: str) -> None:
        self.counters.join_failures += 1
        log.warning("could not join #%s: %s", channel, reason)
        self._emit_soon(self._coverage_event(channel, "disconnected", f"join failed: {reason}"))

    def fatal(self, exc: AuthenticationError) -> None:
        log.error("%s", exc)
        self._emit_soon(exc)

    # --- internals -------------------------------------------------------------------------

    def _add_session(self, channels: list[str]) -> None:
        session = IrcSession(self, len(self._sessions) + 1, channels)
        self._sessions.append(session)
        session.start()

    def _coverage_event(
        self, channel: str, state: Literal["connected", "disconnected"], reason: str
    ) -> CoverageEvent:
        return CoverageEvent(
            received_at=now_ms(), source=self.name, channel=channel, state=state, reason=reason
        )

    def _emit_soon(self, item: QueueItem) -> None:
        """Queue without waiting (from callbacks); keeps order behind items already waiting."""
        if not self._backlog:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(item)
                return
        task = asyncio.get_running_loop().create_task(self._queue.put(item))
        self._backlog.add(task)
        task.add_done_callback(self._backlog.discard)
