"""The dashboard's streams view: ``GET /api/streams`` (one channel's streams, newest first) and
``GET /api/recap`` (one stream's recap, the JSON ``chatpulse recap --json`` prints; the page
renders it with the recap's own script, served at ``/vendor/recap.js``).

Parameters are validated like every other endpoint (:mod:`chatpulse.dashboard.params`): one
channel matching ``^[a-z0-9_]{1,25}$``, a stream id of letters, digits, ``-`` and ``_`` (or
``latest``); the SQL is parameterized (:mod:`chatpulse.streams.table`, :mod:`chatpulse.recap`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from chatpulse.dashboard import params
from chatpulse.recap.build import build_recap
from chatpulse.store import Store
from chatpulse.streams.listing import channel_streams, find_stream, stream_json

_STREAM_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def _one_channel(channel_values: list[str]) -> str:
    names = params.channels(channel_values, required=True)
    if len(names) != 1:
        raise params.BadRequest("parameter 'channel' must name one channel")
    return names[0]


class StreamsApi:
    """``/api/streams`` and ``/api/recap`` over one store; chat sessions cut at ``gap_minutes``."""

    def __init__(self, store: Store, gap_minutes: float, clock: Callable[[], int]) -> None:
        self.store = store
        self.gap_minutes = gap_minutes
        self.clock = clock

    def streams(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        params.known_only(query, frozenset({"channel"}))
        channel = _one_channel(channel_values)
        now = self.clock()
        rows = channel_streams(self.store, channel, self.gap_minutes, now)
        return {"channel": channel, "now": now, "streams": [stream_json(r, now) for r in rows]}

    def recap(self, query: Mapping[str, str], channel_values: list[str]) -> dict[str, Any]:
        params.known_only(query, frozenset({"channel", "stream"}))
        channel = _one_channel(channel_values)
        wanted = query.get("stream", "latest")
        if not _STREAM_ID.fullmatch(wanted):
            raise params.BadRequest("invalid stream: expected an id from /api/streams or 'latest'")
        now = self.clock()
        streams = channel_streams(self.store, channel, self.gap_minutes, now)
        stream = find_stream(streams, wanted)
        if stream is None:
            raise params.BadRequest(f"no stream {wanted!r} for channel {channel!r}")
        return build_recap(self.store, stream, streams, now)
