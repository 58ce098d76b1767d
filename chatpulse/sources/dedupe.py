"""Read several sources at once and drop what one of them already delivered (``--source both``).

With IRC and EventSub both reading a channel, every chat message arrives twice with the same
message id (Twitch uses one id for a message on both paths). :class:`MergedSource` runs the
sources concurrently and passes each event on the first time its id is seen, so nothing is
counted twice, and nothing is missed while one path reconnects: the other path still delivers.

Events deduplicated, by kind and id (the kind is part of the key, so a ``clearmsg`` whose target
is message X is not mistaken for message X itself):

- ``message``: :attr:`MessageEvent.id`
- ``usernotice``: :attr:`UserNoticeEvent.id`
- ``clearmsg``: :attr:`ClearMsgEvent.target_message_id`

Everything else passes through from every source: ``coverage`` events (each names its
``source``, so a gap on one path is visible while the other covers it), IRC-only server events,
errors, and ``clearchat`` (neither path gives it an id, and the two paths' timestamps differ, so
a chat clear or timeout seen by both paths is delivered once per path).

Ids need parsed events, so :class:`MergedSource` parses IRC :class:`RawLine` items itself with
:func:`chatpulse.irc.twitch.parse_line` and yields only events; the pipeline's parse step then
has nothing left to do for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from typing import Final

from chatpulse.errors import SourceError
from chatpulse.events import ChatEvent, ClearMsgEvent, MessageEvent, UserNoticeEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.base import RawLine, Source, SourceItem

log = logging.getLogger(__name__)

DEFAULT_WINDOW: Final = 50_000
"""Ids remembered. Two paths deliver the same message within seconds of each other; 50k ids
cover minutes even at Twitch-wide rates (~1,600 msg/s), in a few MB."""


class RecentIds:
    """A bounded memory of recently seen ids (least recently seen forgotten first)."""

    def __init__(self, max_size: int = DEFAULT_WINDOW) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._ids: OrderedDict[object, None] = OrderedDict()

    def seen(self, key: object) -> bool:
        """True if ``key`` was seen within the window; otherwise remember it and return False."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return True
        self._ids[key] = None
        if len(self._ids) > self.max_size:
            self._ids.popitem(last=False)
        return False

    def __len__(self) -> int:
        return len(self._ids)


def dedupe_key(event: ChatEvent) -> tuple[str, str] | None:
    """The identity two paths share for the same chat event, or None when it has none."""
    if isinstance(event, (MessageEvent, UserNoticeEvent)) and event.id:
        return (event.kind, event.id)
    if isinstance(event, ClearMsgEvent) and event.target_message_id:
        return ("clearmsg", event.target_message_id)
    return None


_DONE: Final = object()


class MergedSource:
    """Several sources read concurrently, duplicate events dropped (see the module docstring).

    Called by the pipeline like any :class:`~chatpulse.sources.base.Source`. When one source fails
    (raises), the failure is logged and the others go on; the iterator ends when every source has
    ended, and then re-raises the first failure, if any, so a dead path is never silent.
    """

    def __init__(
        self, sources: Sequence[Source], window: int = DEFAULT_WINDOW, queue_size: int = 10_000
    ) -> None:
        if not sources:
            raise ValueError("MergedSource needs at least one source")
        self.sources = tuple(sources)
        self.name = "+".join(source.name for source in self.sources)
        self.recent = RecentIds(window)
        self.duplicates = 0  # events dropped because another path delivered them first
        self._queue_size = queue_size
        self._closed = False

    async def stream(self) -> AsyncIterator[SourceItem]:
        queue: asyncio.Queue[tuple[Source, object]] = asyncio.Queue(self._queue_size)
        failures: list[BaseException] = []
        pumps = [asyncio.create_task(self._pump(source, queue, failures)) for source in self.sources]
        running = len(pumps)
        try:
            while running and not self._closed:
                source, item = await queue.get()
                if item is _DONE:
                    running -= 1
                    continue
                event = self._event(source, item)
                if event is None:
                    continue
                key = dedupe_key(event)
                if key is not None and self.recent.seen(key):
                    self.duplicates += 1
                    continue
                yield event
        finally:
            for pump in pumps:
                pump.cancel()
            for pump in pumps:
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
        if failures and not self._closed:
            raise failures[0]

    @staticmethod
    def _event(source: Source, item: object) -> ChatEvent | None:
        if isinstance(item, RawLine):
            return parse_line(item.line, item.received_at, source.name)
        return item if isinstance(item, ChatEvent) else None

    @staticmethod
    async def _pump(
        source: Source,
        queue: asyncio.Queue[tuple[Source, object]],
        failures: list[BaseException],
    ) -> None:
        try:
            async for item in source.stream():
                await queue.put((source, item))  # a full queue slows every source (back-pressure)
        except Exception as exc:  # any failure of one path must not stop the others
            level = logging.ERROR if isinstance(exc, SourceError) else logging.CRITICAL
            log.log(level, "source %s failed; the other sources go on: %s", source.name, exc)
            failures.append(exc)
        await queue.put((source, _DONE))

    async def close(self) -> None:
        """Close every source; the merged iterator ends once they have stopped."""
        self._closed = True
        for source in self.sources:
            await source.close()
