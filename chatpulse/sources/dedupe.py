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

``clearchat`` (a timeout, a ban, a whole-chat clear) has no id on either path, and the two
paths' timestamps differ, so :class:`ClearChatTwins` pairs its copies instead: the same channel
and target from *another* path within :data:`TWIN_WINDOW_MS` (of arrival here) is the same
action. Of the two copies the one that knows the timeout's duration is kept: IRC's CLEARCHAT
carries ``ban-duration``, EventSub's ``channel.chat.clear_user_messages`` does not. So when
several paths are read, a clearchat that names a user but no duration waits up to
:data:`HOLD_MS` for a twin that knows more (IRC bans wait too: they have no duration either).
The same path repeating a clearchat is another action (a moderator timing out twice).

Everything else passes through from every source: ``coverage`` events (each names its
``source``, so a gap on one path is visible while the other covers it), IRC-only server events
and errors.

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
from dataclasses import dataclass
from typing import Final

from chatpulse.errors import SourceError
from chatpulse.events import ChatEvent, ClearChatEvent, ClearMsgEvent, MessageEvent, UserNoticeEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.base import RawLine, Source, SourceItem, now_ms

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


TWIN_WINDOW_MS: Final = 10_000
"""Two paths deliver one moderation action within this much of each other."""
HOLD_MS: Final = 2_000
"""How long a clearchat without a duration waits for a twin from another path that has one."""


@dataclass(slots=True)
class _Seen:
    source: str
    arrived: int  # ms, the caller's clock
    held: ClearChatEvent | None  # not delivered yet: waiting for a better twin until ``due``
    due: int


class ClearChatTwins:
    """The copies of one ``clearchat`` that several paths deliver, paired (see the module
    docstring). Pure: the caller passes the clock (ms) and yields what the calls return."""

    def __init__(self, hold: bool) -> None:
        """``hold``: wait for a better twin (when more than one kind of path is read)."""
        self.hold = hold
        self.duplicates = 0
        self._recent: OrderedDict[tuple[str, str], _Seen] = OrderedDict()

    def offer(self, event: ClearChatEvent, now: int) -> list[ClearChatEvent]:
        """What to deliver now that ``event`` arrived (maybe nothing, maybe a held one)."""
        out = self.release_due(now)
        key = (event.channel or "", event.target_user_login or "")
        seen = self._recent.pop(key, None)
        if seen is not None and seen.source != event.source and now - seen.arrived <= TWIN_WINDOW_MS:
            self.duplicates += 1
            if seen.held is not None:  # keep the copy that knows the duration, else the first
                better = event.ban_duration is not None and seen.held.ban_duration is None
                out.append(event if better else seen.held)
            return out
        if seen is not None and seen.held is not None:  # another action: the earlier one goes first
            out.append(seen.held)
        if self.hold and event.target_user_login and event.ban_duration is None:
            self._recent[key] = _Seen(event.source, now, event, now + HOLD_MS)
        else:
            self._recent[key] = _Seen(event.source, now, None, 0)
            out.append(event)
        return out

    def release_due(self, now: int) -> list[ClearChatEvent]:
        """Held clearchats whose wait is over (no better twin came); old entries forgotten."""
        out: list[ClearChatEvent] = []
        for key, seen in list(self._recent.items()):
            if seen.held is not None and seen.due <= now:
                out.append(seen.held)
                seen.held = None
            elif seen.held is None and now - seen.arrived > TWIN_WINDOW_MS:
                del self._recent[key]
        return out

    def release_all(self) -> list[ClearChatEvent]:
        """Every held clearchat (the sources have ended)."""
        out = [seen.held for seen in self._recent.values() if seen.held is not None]
        self._recent.clear()
        return out

    def seconds_to_next_release(self, now: int) -> float | None:
        """How long until a held clearchat is due; None when none is held."""
        dues = [seen.due for seen in self._recent.values() if seen.held is not None]
        return max(0.0, (min(dues) - now) / 1000) if dues else None


_DONE: Final = object()


class MergedSource:
    """Several sources read concurrently, duplicate events dropped (see the module docstring).

    Called by the pipeline like any :class:`~chatpulse.sources.base.Source`. When one source fails
    (raises), the failure is logged and the others go on; the iterator ends when every source has
    ended, and then re-raises the first failure, if any, so a dead path is never silent.
    """

    in_history = False  # see Source.in_history

    def history_stored(self) -> None:
        """No history: nothing waits for it."""

    def __init__(
        self, sources: Sequence[Source], window: int = DEFAULT_WINDOW, queue_size: int = 10_000
    ) -> None:
        if not sources:
            raise ValueError("MergedSource needs at least one source")
        self.sources = tuple(sources)
        self.name = "+".join(source.name for source in self.sources)
        self.recent = RecentIds(window)
        self.twins = ClearChatTwins(hold=len({source.name for source in self.sources}) > 1)
        self._duplicates = 0
        self._queue_size = queue_size
        self._closed = False

    @property
    def duplicates(self) -> int:
        """Events dropped because another path delivered them first."""
        return self._duplicates + self.twins.duplicates

    async def stream(self) -> AsyncIterator[SourceItem]:
        queue: asyncio.Queue[tuple[Source, object]] = asyncio.Queue(self._queue_size)
        failures: list[BaseException] = []
        pumps = [asyncio.create_task(self._pump(source, queue, failures)) for source in self.sources]
        running = len(pumps)
        try:
            twins = self.twins
            while running and not self._closed:
                wait = twins.seconds_to_next_release(now_ms())
                try:
                    source, item = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:  # a held clearchat is due
                    for held in twins.release_due(now_ms()):
                        yield held
                    continue
                if item is _DONE:
                    running -= 1
                    continue
                event = self._event(source, item)
                if event is None:
                    continue
                if isinstance(event, ClearChatEvent):
                    for clear in twins.offer(event, now_ms()):
                        yield clear
                    continue
                key = dedupe_key(event)
                if key is not None and self.recent.seen(key):
                    self._duplicates += 1
                    continue
                yield event
            for held in twins.release_all():  # nothing more can pair with them
                yield held
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
