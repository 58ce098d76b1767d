"""Joining and parting channels of a running source, for ``POST /api/channels/{name}/join|part``.

``chatpulse run`` builds a :class:`ChannelControl` with :func:`control_for` from the source it
reads and hands it to :func:`chatpulse.dashboard.app.create_app`; ``chatpulse dashboard`` has no
source and passes None (the endpoints then answer 501). Only a live IRC source
(:class:`~chatpulse.sources.twitch_irc.source.TwitchIrcSource`) can change its channels while it runs;
for every other source (a replay, synthetic chat, EventSub, IRC and EventSub merged)
:func:`control_for` returns a control whose ``join``/``part`` raise :class:`ControlUnavailable`
naming the reason (the endpoints then answer 409).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

from chatpulse.errors import ChatPulseError


class ControlUnavailable(ChatPulseError):  # noqa: N818 - reads as the state it reports
    """This run cannot join or part channels now; the message says why (shown to the user)."""


class ChannelControl(Protocol):
    """The channels of the running source, as the dashboard API changes them.

    The app calls these on the event loop that runs the source (``chatpulse run`` serves the
    dashboard in the same loop). Names are validated login names (``^[a-z0-9_]{1,25}$``).
    ``join``/``part`` return once the source has taken the request (the IRC JOIN itself is
    paced and confirmed later; a failed join shows up as a coverage gap, as at start-up), and
    raise :class:`ControlUnavailable` when the source cannot change channels or is stopping.
    """

    def channels(self) -> tuple[str, ...]:
        """Channels the source reads or is joining, sorted by name."""
        ...

    def refusal(self) -> str | None:
        """Why channels cannot change now (shown to the user); None when they can."""
        ...

    async def join(self, channel: str) -> None: ...

    async def part(self, channel: str) -> None: ...


@runtime_checkable
class JoinableSource(Protocol):
    """What a source offers to be controlled at run time (``TwitchIrcSource`` does)."""

    @property
    def channels(self) -> tuple[str, ...]: ...

    async def join(self, channel: str) -> None: ...

    async def part(self, channel: str) -> None: ...


class SourceChannelControl:
    """A :class:`ChannelControl` over a source that can join and part (live IRC).

    ``stopping`` tells whether the run is shutting down: the source is then closing, and a join
    would start a connection nobody stops, so requests are refused.
    """

    def __init__(self, source: JoinableSource, stopping: Callable[[], bool] = lambda: False) -> None:
        self._source = source
        self._stopping = stopping

    def channels(self) -> tuple[str, ...]:
        return tuple(sorted(self._source.channels))

    def refusal(self) -> str | None:
        return "the run is stopping: channels can no longer change" if self._stopping() else None

    async def join(self, channel: str) -> None:
        self._check()
        await self._source.join(channel)

    async def part(self, channel: str) -> None:
        self._check()
        await self._source.part(channel)

    def _check(self) -> None:
        reason = self.refusal()
        if reason is not None:
            raise ControlUnavailable(reason)


_WHY_FIXED: Final = {
    "replay": "this run replays a recording",
    "synthetic": "this run plays synthetic chat (--demo)",
    "eventsub": "EventSub subscriptions are made for the channels given at start",
    "irc+eventsub": "EventSub subscriptions are made for the channels given at start (--source both)",
}


class FixedChannels:
    """A :class:`ChannelControl` for a source whose channels cannot change while it runs."""

    def __init__(self, source_name: str) -> None:
        why = _WHY_FIXED.get(source_name, f"the {source_name!r} source reads a fixed set of channels")
        self.reason = (
            f"channels cannot change at run time: {why}; only `chatpulse run --channel NAME` "
            "with --source irc can join or part"
        )

    def channels(self) -> tuple[str, ...]:
        return ()

    def refusal(self) -> str | None:
        return self.reason

    async def join(self, channel: str) -> None:
        raise ControlUnavailable(self.reason)

    async def part(self, channel: str) -> None:
        raise ControlUnavailable(self.reason)


def control_for(source: object, stopping: Callable[[], bool] = lambda: False) -> ChannelControl:
    """The control ``chatpulse run`` passes to the dashboard for ``source``."""
    if isinstance(source, JoinableSource):
        return SourceChannelControl(source, stopping)
    return FixedChannels(str(getattr(source, "name", type(source).__name__)))


__all__ = [
    "ChannelControl",
    "ControlUnavailable",
    "FixedChannels",
    "JoinableSource",
    "SourceChannelControl",
    "control_for",
]
