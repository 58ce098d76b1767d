"""The demo's source: a back-fill of recent synthetic chat, then live synthetic chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Final

from chatpulse.sources.base import RawLine, SourceItem, now_ms
from chatpulse.sources.synthetic.chat import SyntheticChat, SyntheticSource

DEMO_RATE: Final = 200.0  # lines/s over all demo channels: busy, like a big streamer's chat
DEMO_CHANNELS: Final = 4


class DemoSource:
    """Synthetic chat for ``--demo``: first ``history_s`` of recent past (so the dashboard has a
    baseline and hype moments from its first second), then live chat at ``rate``."""

    name = "synthetic"

    def __init__(
        self, channels: int = DEMO_CHANNELS, rate: float = DEMO_RATE, history_s: float = 600.0, seed: int = 0
    ) -> None:
        self.channels, self.rate, self.history_s, self.seed = channels, rate, history_s, seed
        self.in_history = history_s > 0  # no latency figures for history (see Source.in_history)
        self.live: SyntheticSource | None = None
        self._closed = False
        self._stored = asyncio.Event()  # history_stored() was called: live chat may start
        if not self.in_history:
            self._stored.set()  # no back-fill: nothing to wait for

    def history_stored(self) -> None:
        self._stored.set()

    async def stream(self) -> AsyncIterator[SourceItem]:
        # History fills [now - history_s, now] in simulated time (hype spikes make it denser), and
        # live chat continues the same generator: each channel keeps its size, mood and any hype
        # under way, so its rate does not jump where the back-fill ends (a second generator drew
        # other channel sizes, and rates fell up to 10x there).
        start_ms = now_ms() - int(self.history_s * 1000)
        chat = SyntheticChat(self.channels, self.rate, self.seed, start_ms)
        async for item in self._chat_until(chat, self.history_s):
            yield item
        self.in_history = False
        if self._closed:
            return
        # Live chat starts once the runner says the back-fill is queryable: live messages are
        # stamped when they are made, and would otherwise wait behind the back-fill.
        await self._stored.wait()
        if self._closed:
            return
        # The chat of the seconds the back-fill took to store, made now as back-fill too: the
        # charts have no hole where live chat begins.
        self.in_history = True
        async for item in self._chat_until(chat, (now_ms() - start_ms) / 1000):
            yield item
        self.in_history = False
        if self._closed:
            return
        # Created only now: live chat's tmi-sent-ts resumes at the moment it is paced from.
        self.live = SyntheticSource(rate=self.rate, chat=chat)
        async for item in self.live.stream():
            yield item

    async def _chat_until(self, chat: SyntheticChat, elapsed_s: float) -> AsyncIterator[SourceItem]:
        """``chat``'s lines up to ``elapsed_s`` of its simulated time, as fast as they are taken."""
        for i, line in enumerate(chat.lines()):
            if self._closed or chat.elapsed_s >= elapsed_s:
                break
            if i % 512 == 0:
                await asyncio.sleep(0)
            yield RawLine(line, now_ms())

    async def close(self) -> None:
        self._closed = True
        self._stored.set()
        if self.live is not None:
            await self.live.close()
