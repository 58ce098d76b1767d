"""Twitch's streams from Helix polls and EventSub events: starts, category changes, ends,
restarts and archive VODs, as rows of the streams table."""

from __future__ import annotations

import pytest

from chatpulse.streams.tracker import ArchiveVideo, LiveStream, StreamTracker, twitch_time

T0 = 1_700_000_040_000
MIN = 60_000


def live(stream_id: str, category: str = "Chess", title: str = "t", started: int = T0) -> LiveStream:
    return LiveStream(stream_id, "1001", "xqcow", title, category, started)


def test_a_stream_starts_changes_category_and_ends_at_the_poll_that_misses_it() -> None:
    tracker = StreamTracker()
    [opened] = tracker.poll(["xqcow"], [live("1")], T0 + MIN)
    assert (opened.started_at, opened.ended_at, opened.category_names) == (T0, None, ("Chess",))
    assert tracker.poll(["xqcow"], [live("1")], T0 + 2 * MIN) == []
    [moved] = tracker.poll(["xqcow"], [live("1", "Art")], T0 + 3 * MIN)
    assert moved.category_times == (T0, T0 + 3 * MIN) and moved.category == "Art"
    [ended] = tracker.poll(["xqcow"], [], T0 + 9 * MIN)
    assert ended.ended_at == T0 + 9 * MIN and ended.category_names == ("Chess", "Art")
    assert tracker.poll(["xqcow"], [], T0 + 10 * MIN) == []


def test_a_restart_ends_the_old_stream_where_the_new_one_begins() -> None:
    tracker = StreamTracker()
    tracker.poll(["xqcow"], [live("1")], T0 + MIN)
    old, new = tracker.poll(["xqcow"], [live("2", started=T0 + 30 * MIN)], T0 + 31 * MIN)
    assert (old.stream_id, old.ended_at) == ("1", T0 + 30 * MIN)
    assert (new.stream_id, new.started_at, new.ended_at) == ("2", T0 + 30 * MIN, None)


def test_eventsub_events_and_archive_videos() -> None:
    tracker = StreamTracker()
    [opened] = tracker.online("xqcow", "7", T0)
    assert opened.ended_at is None and tracker.online("xqcow", "7", T0) == []
    [with_vod] = tracker.archive("xqcow", [ArchiveVideo("555", "7"), ArchiveVideo("554", "6")], [opened])
    assert with_vod.vod_id == "555" and tracker.open["xqcow"].vod_id == "555"
    [ended] = tracker.offline("xqcow", T0 + 5 * MIN)
    assert (ended.ended_at, ended.vod_id) == (T0 + 5 * MIN, "555")
    assert ArchiveVideo.from_helix({"id": "1", "type": "highlight", "stream_id": "7"}) is None


def test_twitch_times() -> None:
    assert twitch_time("2023-11-14T22:14:00Z") == T0
    assert twitch_time("2023-11-14T22:14:00.123456789Z") == T0 + 123
    with pytest.raises(ValueError, match="not a Twitch time"):
        twitch_time("yesterday")
