"""A live run that received nothing in its ``--duration``: a failure, said in one line at the end.

A live source retries a refused connection for as long as the run lasts (chat must survive an
outage), so without this a run against a wrong ``--irc-url`` or an unreachable Twitch would end
"successfully" having read nothing. With ``--duration`` the run has an end, so it can judge:
a live source (IRC, EventSub, or both) that delivered not one line makes the run exit 1. A
replay or synthetic chat is not judged (an empty recording is not a failure), nor a run
stopped by Ctrl-C before its duration. Used by ``run`` and ``tail``.
"""

from __future__ import annotations

from typing import Final

from chatpulse.errors import SourceError
from chatpulse.sources.base import Source

LIVE_SOURCES: Final = frozenset({"irc", "eventsub"})


def silence_error(source: Source, read: int, duration: float | None, elapsed_s: float) -> SourceError | None:
    """The error to end the run with, or None. ``read``: lines the source delivered; ``elapsed_s``:
    how long it ran (shorter than ``duration`` when Ctrl-C ended it: then nobody is judged)."""
    if duration is None or elapsed_s < duration or read > 0 or not set(source.name.split("+")) & LIVE_SOURCES:
        return None
    reason = _why(source)
    return SourceError(f"nothing was received in {duration:g} s" + (f": {reason}" if reason else ""))


def _why(source: Source) -> str:
    from chatpulse.sources.twitch_irc.source import TwitchIrcSource

    if isinstance(source, TwitchIrcSource):
        counters = source.counters
        where = source.endpoint.describe()
        if counters.connects == 0 and counters.connect_failures:
            return f"every connection to {where} failed ({counters.connect_failures} attempts)"
        if counters.connects == 0:
            return f"no connection to {where} was made"
        return f"connected to {where}, but it sent nothing"
    return f"the {source.name} source delivered no chat"
