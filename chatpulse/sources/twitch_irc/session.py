"""One slot of the connection pool: keeps a set of channels joined over time.

A session owns at most one live :class:`IrcLink` (two during a RECONNECT hand-over). When the
link dies it reconnects with capped exponential backoff and jitter and rejoins every channel.
When the server sends RECONNECT it opens and logs in the new link, rejoins there, and only then
closes the old one ("make before break"), so a planned restart leaves no gap; messages that
arrive on both links meanwhile are passed on once. An :class:`AuthenticationError` is not
retried: it goes to the source (``fatal``) and the session stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Protocol

from chatpulse.backoff import backoff_delay
from chatpulse.errors import AuthenticationError
from chatpulse.sources.twitch_irc.connection import open_irc_connection
from chatpulse.sources.twitch_irc.framing import LineTooLongError
from chatpulse.sources.twitch_irc.link import IrcLink, LinkHost

log = logging.getLogger("chatpulse.sources.twitch_irc.source")


class SessionHost(LinkHost, Protocol):
    """What a session needs from its source, beyond what links need."""

    def fatal(self, exc: AuthenticationError) -> None:
        """Credentials were refused: stop the source and raise ``exc`` to its consumer."""
        ...


class IrcSession:
    """Keeps ``channels`` joined on one connection at a time. Started and stopped by the source."""

    def __init__(self, host: SessionHost, number: int, channels: list[str]) -> None:
        self.host = host
        self.number = number
        self.channels: set[str] = set(channels)
        self._order: list[str] = list(channels)  # join order: as configured
        self._link: IrcLink | None = None
        self._task: asyncio.Task[None] | None = None
        self._links_opened = 0
        self._rng = random.Random()  # noqa: S311 - jitter, not security

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"irc-session-{self.number}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def join(self, channel: str) -> None:
        if channel in self.channels:
            return
        self.channels.add(channel)
        self._order.append(channel)
        if self._link is not None:
            self._link.start_joins([channel], self.channels)

    async def part(self, channel: str) -> None:
        if channel not in self.channels:
            return
        self.channels.discard(channel)
        self._order.remove(channel)
        if self._link is not None:
            await self._link.part(channel)

    # --- the supervisor --------------------------------------------------------------------

    async def _run(self) -> None:
        link: IrcLink | None = None
        try:
            link = await self._connect(retrying=False)
            while True:
                serving = link.serving
                requested = asyncio.ensure_future(link.reconnect_requested.wait())
                try:
                    await asyncio.wait({serving, requested}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    requested.cancel()
                if serving.done():
                    log.warning("link %d: %s; reconnecting", link.number, link.end_reason)
                    self.host.counters.reconnects += 1
                    self._link = None
                    link = await self._connect(retrying=True)
                else:
                    link = await self._hand_over(link)
        except AuthenticationError as exc:
            self.host.fatal(exc)
        finally:
            if link is not None:
                await link.stop()
            if self._link is not None and self._link is not link:
                await self._link.stop()

    async def _hand_over(self, old: IrcLink) -> IrcLink:
        """RECONNECT: the new link joins everything before the old one is closed."""
        self.host.counters.reconnects += 1
        dedup: set[str] = set()
        old.dedup = dedup
        try:
            new = await self._connect(retrying=False, dedup=dedup)
            settled = asyncio.ensure_future(new.settled.wait())
            try:
                await asyncio.wait({settled, new.serving}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                settled.cancel()
        finally:
            if old.serve_task is not None and not old.serve_task.done():
                old.end_reason = "replaced after RECONNECT"
            await old.stop()
        new.dedup = None
        log.info("link %d replaced link %d after RECONNECT", new.number, old.number)
        return new

    async def _connect(self, retrying: bool, dedup: set[str] | None = None) -> IrcLink:
        """Open, log in and start joining; retry with backoff until it works (or auth fails)."""
        attempt = 0 if retrying else -1
        host = self.host
        while True:
            if attempt >= 0:
                await asyncio.sleep(
                    backoff_delay(attempt, host.timings.backoff_base_s, host.timings.backoff_cap_s, self._rng)
                )
            attempt += 1
            self._links_opened += 1
            number = self.number * 1000 + self._links_opened
            try:
                conn = await open_irc_connection(host.endpoint, host.timings.connect_timeout_s)
            except (OSError, TimeoutError) as exc:
                host.counters.connect_failures += 1
                log.warning("cannot connect to %s: %s", host.endpoint.describe(), exc or type(exc).__name__)
                continue
            link = IrcLink(host, conn, number, dedup)
            try:
                await link.log_in()
            except (OSError, TimeoutError, LineTooLongError) as exc:
                host.counters.connect_failures += 1
                log.warning("login to %s failed: %s", host.endpoint.describe(), exc or type(exc).__name__)
                await conn.close()
                continue
            except BaseException:
                await conn.close()
                raise
            host.counters.connects += 1
            log.info("link %d: logged in to %s as %s", number, host.endpoint.describe(), host.login.nick)
            link.serve_task = asyncio.create_task(link.serve(), name=f"irc-link-{number}")
            link.start_joins(list(self._order), self.channels)
            self._link = link
            return link
