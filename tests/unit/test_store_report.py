"""Hype detection, durations and event rows: the pure parts behind ``chatpulse report``."""

from __future__ import annotations

import pytest

from chatpulse.errors import ConfigError
from chatpulse.events import ClearChatEvent, CoverageEvent, Emote, MessageEvent, Sentiment
from chatpulse.irc.twitch import parse_line
from chatpulse.store.hype import MINUTE_MS, find_hype_moments
from chatpulse.store.report import parse_duration
from chatpulse.store.rows import emote_table, event_columns, event_key, message_table, python_columns

T0 = 1_568_505_600_000  # 2019-09-15T00:00:00Z


def _counts(values: list[int]) -> dict[int, int]:
    return {T0 + i * MINUTE_MS: n for i, n in enumerate(values)}


def test_a_spike_above_a_noisy_baseline_is_found() -> None:
    values = [100, 95, 110, 104, 98, 102, 97, 105, 99, 101, 400, 103, 99]
    moments = find_hype_moments(_counts(values), T0, T0 + len(values) * MINUTE_MS)
    assert [m.minute for m in moments] == [T0 + 10 * MINUTE_MS]
    assert moments[0].messages == 400
    assert moments[0].baseline == pytest.approx(100.5)  # median of the 10 minutes before


def test_steady_or_quiet_chat_has_no_hype() -> None:
    steady = [100, 101, 99, 100, 102, 98, 100, 101, 99, 115]  # +15 is within Poisson noise
    assert find_hype_moments(_counts(steady), T0, T0 + 10 * MINUTE_MS) == []
    quiet = [0, 1, 0, 0, 2, 0, 1, 0, 9]  # below min_messages
    assert find_hype_moments(_counts(quiet), T0, T0 + 9 * MINUTE_MS) == []


def test_time_before_a_recording_starts_is_not_a_quiet_baseline() -> None:
    # A recording that starts busy: the minutes before it are unknown, so its first minutes are
    # not hype even though a window that reaches back further would see zeros there.
    values = [500, 510, 490, 505, 495, 500, 508]
    assert find_hype_moments(_counts(values), T0 - 30 * MINUTE_MS, T0 + 7 * MINUTE_MS) == []


def test_a_gap_inside_the_data_counts_as_silence() -> None:
    counts = {T0: 50, T0 + 9 * MINUTE_MS: 60}  # 8 silent minutes in between
    moments = find_hype_moments(counts, T0, T0 + 10 * MINUTE_MS)
    assert [m.minute for m in moments] == [T0 + 9 * MINUTE_MS]


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2d", 172800)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1x", "h1", "10", "0m", "1h 30m"])
def test_bad_durations_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="duration"):
        parse_duration(text)


def test_message_rows_keep_unscored_messages_nullable() -> None:
    scored = MessageEvent(received_at=T0 + 5, source="replay", channel="c", sent_at=T0, id="a",
                          user_login="u", text="Kappa hi", emotes=(Emote("25", "Kappa", 0, 5),),
                          sentiment=Sentiment("positive", 0.5, 0.9, "lexicon@1"))  # fmt: skip
    unscored = MessageEvent(received_at=T0 + 7, source="replay", channel="c", id="b", user_login="v")
    rows = message_table([scored, unscored])
    columns = python_columns(rows)
    assert {len(v) for v in columns.values()} == {2}
    assert columns["sentiment_score"] == [0.5, None]
    assert columns["sentiment_label"] == ["positive", ""]
    assert columns["sent_at"] == [T0, T0 + 7]  # no server time: filed at receive time
    emotes = python_columns(emote_table([scored, unscored], rows))
    assert emotes["message_id"] == ["a"] and emotes["emote_name"] == ["Kappa"]


def test_event_keys_are_stable_and_distinct() -> None:
    line_a = (
        "@ban-duration=10;room-id=1;target-user-id=2;tmi-sent-ts=1568505600739 "
        ":tmi.twitch.tv CLEARCHAT #c :bob"
    )
    line_b = line_a.replace("1568505600739", "1568505601031")
    a1, a2, b = (parse_line(x, 0, "replay") for x in (line_a, line_a, line_b))
    assert isinstance(a1, ClearChatEvent)
    assert event_key(a1) == event_key(a2) != event_key(b)
    cov = CoverageEvent(received_at=T0, source="irc", channel="c", state="disconnected")
    assert event_key(cov) != event_key(CoverageEvent(received_at=T0, source="irc", channel="c"))
    columns = event_columns([a1, cov])
    assert columns["notice_type"] == ["timeout", "disconnected"]
    assert columns["ban_duration"] == [10, None]
