"""Twitch's own streams: what Helix (``GET /streams``, ``GET /videos?type=archive``) and
EventSub (``stream.online``, ``stream.offline``) say, turned into ``streams`` rows. Pure.

:class:`StreamTracker` keeps each channel's open Twitch stream. A poll of ``GET /streams``
(every channel asked about; the live ones answered) opens a stream it has not seen (closing the
channel's previous one: a restart is a new stream id), records a category change (the category
and the time it was first seen) and a title change, and ends an open stream whose channel is no
longer live (at the poll's time: Helix does not say when it ended). EventSub's notifications
open and end streams at the times Twitch gives. An archive video (``GET /videos``) names the
stream it recorded (``stream_id``), so its id becomes the stream's ``vod_id``.

References: https://dev.twitch.tv/docs/api/reference/#get-streams,
https://dev.twitch.tv/docs/api/reference/#get-videos,
https://dev.twitch.tv/docs/eventsub/eventsub-subscription-types/#streamonline
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chatpulse.streams.table import StreamRow
from chatpulse.times import parse_time


@dataclass(frozen=True, slots=True)
class LiveStream:
    """One entry of ``GET /streams``: a channel live right now."""

    stream_id: str
    user_id: str
    login: str
    title: str
    category: str
    started_at: int  # ms

    @classmethod
    def from_helix(cls, item: Mapping[str, Any]) -> LiveStream:
        started = twitch_time(str(item["started_at"]))
        return cls(
            str(item["id"]), str(item.get("user_id") or ""), str(item["user_login"]).lower(),
            str(item.get("title") or ""), str(item.get("game_name") or ""), started,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ArchiveVideo:
    """One archive video of ``GET /videos?type=archive``: the recording of a stream."""

    video_id: str
    stream_id: str

    @classmethod
    def from_helix(cls, item: Mapping[str, Any]) -> ArchiveVideo | None:
        if item.get("type", "archive") != "archive" or not item.get("stream_id"):
            return None
        return cls(str(item["id"]), str(item["stream_id"]))


class StreamTracker:
    """Each channel's open Twitch stream; every method returns the rows to write."""

    def __init__(self, open_rows: Iterable[StreamRow] = ()) -> None:
        """``open_rows``: Twitch streams stored as live (a restarted run carries on with them)."""
        self.open: dict[str, StreamRow] = {r.channel: r for r in open_rows if r.ended_at is None}

    def poll(self, asked: Iterable[str], live: Iterable[LiveStream], now_ms: int) -> list[StreamRow]:
        """A ``GET /streams`` answer for the channels ``asked``: ``live`` are those on air."""
        changed: list[StreamRow] = []
        on_air = {stream.login: stream for stream in live}
        for channel in sorted(set(asked) | set(on_air)):
            stream = on_air.get(channel)
            if stream is None:
                changed += self.offline(channel, now_ms)
            else:
                changed += self._seen(stream, now_ms)
        return changed

    def online(self, channel: str, stream_id: str, started_at: int) -> list[StreamRow]:
        """EventSub ``stream.online`` (title and category come with the next poll)."""
        return self._seen(LiveStream(stream_id, "", channel, "", "", started_at), started_at, keep_info=True)

    def offline(self, channel: str, at_ms: int) -> list[StreamRow]:
        """The channel is off air (a poll without it, or EventSub ``stream.offline``)."""
        current = self.open.pop(channel, None)
        if current is None:
            return []
        return [replace(current, ended_at=max(at_ms, current.started_at))]

    def archive(
        self, channel: str, videos: Iterable[ArchiveVideo], known: Iterable[StreamRow]
    ) -> list[StreamRow]:
        """Rows of ``known`` (the channel's Twitch streams) that ``videos`` give a VOD id."""
        by_stream = {v.stream_id: v.video_id for v in videos}
        changed = []
        for row in known:
            vod = by_stream.get(row.stream_id)
            if row.channel == channel and vod and vod != row.vod_id:
                updated = replace(row, vod_id=vod)
                if channel in self.open and self.open[channel].stream_id == row.stream_id:
                    self.open[channel] = updated
                changed.append(updated)
        return changed

    def _seen(self, stream: LiveStream, now_ms: int, keep_info: bool = False) -> list[StreamRow]:
        channel = stream.login
        current = self.open.get(channel)
        if current is not None and current.stream_id == stream.stream_id:
            if keep_info or (stream.category == current.category and stream.title == current.title):
                return []
            updated = replace(current, title=stream.title or current.title)
            if stream.category != current.category:
                updated = replace(
                    updated, category=stream.category,
                    category_times=(*current.category_times, now_ms),
                    category_names=(*current.category_names, stream.category),
                )  # fmt: skip
            self.open[channel] = updated
            return [updated]
        changed = []
        if current is not None:  # a restart: the earlier stream ended when this one began
            changed += self.offline(channel, min(now_ms, stream.started_at))
        opened = StreamRow(
            channel, stream.stream_id, "twitch", stream.started_at, None, stream.title, stream.category,
            (stream.started_at,) if stream.category else (), (stream.category,) if stream.category else (),
        )  # fmt: skip
        self.open[channel] = opened
        return [*changed, opened]


_TWITCH_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$")


def twitch_time(text: str) -> int:
    """Twitch's RFC 3339 UTC times (``...:51Z``, or with up to nanoseconds ``...:51.634234626Z``)
    in ms; ValueError for anything else."""
    match = _TWITCH_TIME.match(text)
    if match is None:
        raise ValueError(f"not a Twitch time: {text[:40]!r}")
    return parse_time(f"{match[1]}.{((match[2] or '') + '000')[:3]}Z")


def eventsub_stream_event(doc: Mapping[str, Any]) -> tuple[str, str, str, int] | None:
    """``(kind, channel, stream_id, at_ms)`` of an EventSub ``stream.online`` / ``stream.offline``
    notification (``kind`` is ``online`` or ``offline``; ``stream_id`` empty for offline), else
    None. ``at_ms``: the stream's ``started_at``, or the message time for offline."""
    meta = doc.get("metadata") or {}
    kind = meta.get("subscription_type")
    event = (doc.get("payload") or {}).get("event") or {}
    channel = str(event.get("broadcaster_user_login") or "").lower()
    if meta.get("message_type") != "notification" or not channel:
        return None
    if kind == "stream.online" and event.get("type", "live") == "live" and event.get("started_at"):
        return "online", channel, str(event.get("id") or ""), twitch_time(str(event["started_at"]))
    if kind == "stream.offline" and meta.get("message_timestamp"):
        return "offline", channel, "", twitch_time(str(meta["message_timestamp"]))
    return None
