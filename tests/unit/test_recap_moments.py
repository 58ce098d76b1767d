"""The recap's pure parts: offsets, VOD links, negative turns and comparisons."""

from __future__ import annotations

import pytest

from chatpulse.recap.moments import (
    MoodMinute,
    MoodRule,
    comparison,
    format_offset,
    negative_moments,
    place,
    vod_url,
)

T0 = 1_700_000_000_000


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00:00"), (59, "0:00:59"), (3723, "1:02:03"), (36_000, "10:00:00"), (-5, "0:00:00")],
)
def test_offsets_read_as_hours_minutes_seconds(seconds: int, text: str) -> None:
    assert format_offset(seconds) == text


def test_vod_links_open_twitchs_player_at_the_offset() -> None:
    assert vod_url("1234567890", 3723) == "https://www.twitch.tv/videos/1234567890?t=1h2m3s"
    assert vod_url("42", 0) == "https://www.twitch.tv/videos/42?t=0h0m0s"
    assert vod_url(None, 10) is None and vod_url("", 10) is None
    assert vod_url("42&x=1", 10) is None  # not an id: never built into a link


def test_a_moment_is_placed_from_the_stream_start() -> None:
    assert place(T0 + 3_723_400, T0, "9") == {
        "offset_s": 3723, "offset": "1:02:03", "vod_url": "https://www.twitch.tv/videos/9?t=1h2m3s",
    }  # fmt: skip
    assert place(T0 + 90_000, T0, None)["vod_url"] is None


def mood(minute: int, mean: float, scored: int = 100) -> MoodMinute:
    return MoodMinute(T0 + minute * 60_000, scored, mean)


def test_chat_turns_negative_where_a_minute_falls_far_below_the_streams_usual_mood() -> None:
    minutes = [mood(m, 0.30 + 0.01 * (m % 3)) for m in range(20)]
    minutes[7] = mood(7, -0.40)
    minutes[8] = mood(8, -0.35)  # the same dip continues: one moment, its first minute
    minutes[15] = mood(15, -0.20)
    found = negative_moments(minutes)
    assert [(n.minute, n.turned) for n in found] == [(T0 + 7 * 60_000, True), (T0 + 15 * 60_000, True)]
    assert found[0].drop == pytest.approx(found[0].baseline + 0.40)


def test_minutes_with_too_few_scored_messages_are_not_judged() -> None:
    minutes = [mood(m, 0.3) for m in range(10)] + [mood(10, -0.9, scored=5)]
    assert all(n.minute != T0 + 10 * 60_000 for n in negative_moments(minutes, MoodRule(min_messages=20)))


def test_without_a_turn_the_lowest_minutes_are_given_unflagged_and_in_time_order() -> None:
    minutes = [mood(m, 0.30 + 0.02 * m) for m in range(6)]
    found = negative_moments(minutes, lowest=2)
    assert [(n.minute, n.turned) for n in found] == [(T0, False), (T0 + 60_000, False)]
    assert negative_moments([]) == []


def test_comparison_with_previous_streams() -> None:
    this = {"rate": 120.0, "chatters": 900, "mood": 0.10}
    previous = [
        {"rate": 100.0, "chatters": 1000, "mood": 0.30},
        {"rate": 100.0, "chatters": 800, "mood": 0.20},
    ]
    result = comparison(this, previous)
    assert result["streams"] == 2
    assert result["rate"] == {"this": 120.0, "previous": 100.0, "change": 0.2}
    assert result["chatters"]["change"] == 0.0
    assert result["mood"]["previous"] == 0.25 and result["mood"]["change"] == pytest.approx(-0.15)
    first = comparison(this, [])
    assert first["streams"] == 0 and first["rate"] == {"this": 120.0, "previous": None, "change": None}
