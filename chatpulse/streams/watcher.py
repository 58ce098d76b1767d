"""Twitch as the truth where credentials exist: ``run`` polls Helix for its channels' streams.

Every ``streams.poll_interval_s`` (60 s by default; ``GET /streams`` costs one call per 100
channels) :class:`TwitchStreamWatcher` asks which channels are live, feeds the answer to the
:class:`~chatpulse.streams.tracker.StreamTracker` (starts, category and title changes, ends,
restarts), looks up the archive VOD of a stream it does not know one for, and writes the
changed rows with their figures from the stored chat. A failed poll is logged and retried at
the next interval; the run goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from chatpulse.errors import ChatPulseError
from chatpulse.store import Store
from chatpulse.streams.helix import HelixStreams
from chatpulse.streams.recompute import refresh_figures
from chatpulse.streams.table import StreamRow, streams_since
from chatpulse.streams.tracker import StreamTracker

if TYPE_CHECKING:
    from chatpulse.config import Settings

log = logging.getLogger(__name__)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class TwitchStreamWatcher:
    """Polls Helix for ``channels()`` and keeps their Twitch streams in the store."""

    def __init__(
        self,
        store: Store,
        client: HelixStreams,
        channels: Callable[[], Iterable[str]],
        interval_s: float = 60.0,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.client = client
        self.channels = channels
        self.interval_s = interval_s
        self.clock = clock
        self.tracker: StreamTracker | None = None
        self.polls = 0
        self.failures = 0

    def _tracker(self, channels: list[str]) -> StreamTracker:
        if self.tracker is None:  # carry on with the streams a previous run left open
            stored = streams_since(self.store, dict.fromkeys(channels, 0), "twitch")
            self.tracker = StreamTracker(r for rows in stored.values() for r in rows if r.ended_at is None)
        return self.tracker

    def poll_once(self) -> list[StreamRow]:
        """One poll (blocking); returns the rows written: those that changed and the live ones."""
        channels = sorted({c.lower() for c in self.channels()})
        if not channels:
            return []
        tracker = self._tracker(channels)
        live = self.client.live(channels)
        now = self.clock()
        changed = {(r.channel, r.stream_id): r for r in tracker.poll(channels, live, now)}
        for stream in live:
            current = tracker.open.get(stream.login)
            if current is not None and not current.vod_id and stream.user_id:
                for row in tracker.archive(stream.login, self.client.archives(stream.user_id), [current]):
                    changed[(row.channel, row.stream_id)] = row
        # Live streams' figures grow with their chat: refreshed on every poll, changed or not.
        for row in tracker.open.values():
            changed.setdefault((row.channel, row.stream_id), row)
        self.polls += 1
        return refresh_figures(self.store, list(changed.values()), now)

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            try:
                await asyncio.to_thread(self.poll_once)
            except ChatPulseError as exc:
                self.failures += 1
                log.warning("streams: Twitch's stream status unavailable: %s", exc)
            await asyncio.sleep(self.interval_s)


# Sources that read Twitch itself (replays, the demo and synthetic chat have no Twitch streams).
LIVE_SOURCES: Final = frozenset({"irc", "eventsub", "irc+eventsub", "eventsub+irc"})


def twitch_watcher(
    settings: Settings, store: Store, source: object, channels: Callable[[], Iterable[str]]
) -> TwitchStreamWatcher | None:
    """The run's watcher when it reads live Twitch with a client id and token, else None.

    ``channels`` are the source's joined channels (they change with join/part), else the ones
    it was started with."""
    twitch = settings.twitch
    if twitch.client_id is None or twitch.token is None or getattr(source, "name", "") not in LIVE_SOURCES:
        return None
    started_with = tuple(getattr(source, "channels", ()) or twitch.channels)
    client = HelixStreams(twitch.client_id, twitch.token, twitch.helix_url)
    return TwitchStreamWatcher(
        store, client, lambda: tuple(channels()) or started_with, settings.streams.poll_interval_s
    )
