"""The alert detector on real captures and synthetic chat, fed the store's rows as the run feeds it."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from chatpulse.alerts.detect import Alert, AlertDetector, AlertRules
from chatpulse.alerts.rows import feed_batch
from chatpulse.config import SentimentSettings
from chatpulse.events import ChatEvent, UserNoticeEvent
from chatpulse.sentiment import Analyzer, create_analyzer
from chatpulse.sources.replay import iter_lines
from chatpulse.sources.synthetic.chat import SyntheticChat
from chatpulse.stages import parse_lines, score, store_rows
from chatpulse.store.hype import MINUTE_MS, find_hype_moments
from chatpulse.store.rows import StoreBatch, message_time
from tests.alert_recordings import HYPE_MINUTE, LAST_CHAT_MINUTE, SOUR_MINUTE, STORY, scripted

NO_COOLDOWN = {kind: 0.0 for kind in ("hype", "mood_drop", "raid", "gift_bomb", "chat_stopped")}
CAPTURES = ["xqcow-2019-09-15.irc.gz", "nymn-2024-01-06.json"]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return create_analyzer(SentimentSettings())


def store_batches(lines: Sequence[str], analyzer: Analyzer, batch: int = 500) -> list[StoreBatch]:
    """``lines`` as the run's workers lay them out: parse -> score -> the store's rows."""
    batches = []
    for start in range(0, len(lines), batch):
        chunk = lines[start : start + batch]
        events = parse_lines(chunk, [0] * len(chunk), "replay")
        batches.append(store_rows(events, score(events, analyzer)))
    return batches


def run_detector(
    lines: Sequence[str] | Sequence[StoreBatch], analyzer: Analyzer, rules: AlertRules | None = None
) -> tuple[list[Alert], AlertDetector]:
    """Lines (or their store batches) through the detector, batch by batch, as the run feeds it."""
    batches = [b for b in lines if isinstance(b, StoreBatch)] or store_batches(lines, analyzer)  # type: ignore[arg-type]
    detector = AlertDetector(rules)
    alerts: list[Alert] = []
    for batch in batches:
        alerts += feed_batch(detector, batch)
    return alerts, detector


@dataclass(frozen=True)
class Synthetic:
    events: list[ChatEvent]
    batches: list[StoreBatch]


@pytest.fixture(scope="module")
def synthetic(analyzer: Analyzer) -> Synthetic:
    """20 minutes of four synthetic channels (a calm 40 lines/s, plus its hype spikes)."""
    chat = SyntheticChat(4, 40.0, 3, 1_700_000_000_000)
    lines, source = [], chat.lines()
    while chat.elapsed_s < 20 * 60:
        lines.append(next(source))
    return Synthetic(parse_lines(lines, [0] * len(lines), "synthetic"), store_batches(lines, analyzer))


# --- hype: the dashboard's rule ---------------------------------------------------------------


def test_hype_alerts_are_the_first_minutes_of_the_reports_hype_moments(
    synthetic: Synthetic, analyzer: Analyzer
) -> None:
    alerts, _ = run_detector(synthetic.batches, analyzer, AlertRules(cooldown_s=NO_COOLDOWN))
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    for event in synthetic.events:
        if event.kind == "message" and event.channel:
            t = message_time(event)
            counts[event.channel][t - t % MINUTE_MS] += 1
    starts_total = 0
    for channel, per_minute in counts.items():
        moments = find_hype_moments(per_minute, min(per_minute), max(per_minute) + MINUTE_MS)
        minutes = {m.minute for m in moments}
        starts = [m for m in sorted(minutes) if m - MINUTE_MS not in minutes]
        fired = [a.minute_ms for a in alerts if a.kind == "hype" and a.channel == channel]
        assert fired == starts, channel
        starts_total += len(starts)
    assert starts_total >= 8  # synthetic chat has hype spikes in every channel


def test_a_hype_alert_fires_within_its_minute_once_the_count_clears_the_bar(
    synthetic: Synthetic, analyzer: Analyzer
) -> None:
    alerts, _ = run_detector(synthetic.batches, analyzer, AlertRules(cooldown_s=NO_COOLDOWN))
    hype = [a for a in alerts if a.kind == "hype"]
    assert hype
    for alert in hype:
        assert alert.minute_ms is not None
        assert alert.minute_ms <= alert.at_ms < alert.minute_ms + MINUTE_MS
        assert float(alert.numbers["messages"]) > float(alert.numbers["bar"])
    # Batches of 500 lines (~8 s of this chat): most alerts go out well before their minute ends.
    assert sum(1 for a in hype if float(a.numbers["seconds"]) < 50) > len(hype) // 2


# --- real captures ------------------------------------------------------------------------------


@pytest.mark.parametrize("capture", CAPTURES)
def test_real_chat_without_a_moment_alerts_nothing(
    shared_data: Path, analyzer: Analyzer, capture: str
) -> None:
    alerts, detector = run_detector(list(iter_lines(shared_data / "replay" / capture)), analyzer)
    assert alerts == []
    assert detector.stats.late_messages == 0


@pytest.mark.parametrize("capture", CAPTURES)
def test_real_chat_on_a_scripted_timeline_alerts_hype_mood_and_silence(
    shared_data: Path, analyzer: Analyzer, capture: str
) -> None:
    alerts, _ = run_detector(scripted(shared_data / "replay" / capture), analyzer)
    by_kind = {a.kind: a for a in alerts}
    assert sorted(a.kind for a in alerts) == ["chat_stopped", "hype", "mood_drop"]
    assert by_kind["hype"].minute_ms == STORY.minute(HYPE_MINUTE)
    assert by_kind["mood_drop"].minute_ms == STORY.minute(SOUR_MINUTE)
    assert float(by_kind["mood_drop"].numbers["mood"]) < float(by_kind["mood_drop"].numbers["baseline"])
    # The last message of minute 23, plus the five silent minutes the rule waits for.
    stopped = by_kind["chat_stopped"]
    assert STORY.minute(LAST_CHAT_MINUTE + 5) <= stopped.at_ms < STORY.minute(LAST_CHAT_MINUTE + 6)
    assert stopped.numbers["per_min_before"] == pytest.approx(100, abs=2)


def test_history_builds_baselines_but_fires_nothing(shared_data: Path, analyzer: Analyzer) -> None:
    lines = scripted(shared_data / "replay" / CAPTURES[0])
    quiet_until = STORY.minute(SOUR_MINUTE - 1)  # hype (minute 12) is history, the sour minute is not
    alerts, detector = run_detector(lines, analyzer, AlertRules(quiet_before_ms=quiet_until))
    assert [a.kind for a in alerts] == ["mood_drop", "chat_stopped"]
    assert detector.stats.quiet == 1


# --- raids, gift bombs, cooldowns ---------------------------------------------------------------


def test_raids_and_gift_bombs_above_their_size_alert(synthetic: Synthetic, analyzer: Analyzer) -> None:
    rules = AlertRules(raid_min_viewers=100, gift_bomb_min=20, cooldown_s=NO_COOLDOWN)
    alerts, _ = run_detector(synthetic.batches, analyzer, rules)
    expected: list[tuple[str, str, int]] = []
    for event in synthetic.events:
        if isinstance(event, UserNoticeEvent) and event.channel:
            if event.notice_type == "raid" and int(event.params["viewerCount"]) >= 100:
                expected.append(("raid", event.channel, int(event.params["viewerCount"])))
            if event.notice_type == "submysterygift" and int(event.params["mass-gift-count"]) >= 20:
                expected.append(("gift_bomb", event.channel, int(event.params["mass-gift-count"])))
    got = [
        (a.kind, a.channel, a.numbers["viewers" if a.kind == "raid" else "gifts"])
        for a in alerts
        if a.kind in ("raid", "gift_bomb")
    ]
    assert sorted(got) == sorted(expected)
    assert {kind for kind, _, _ in expected} == {"raid", "gift_bomb"}


def test_cooldown_holds_back_repeats_per_channel_and_kind(synthetic: Synthetic, analyzer: Analyzer) -> None:
    free, _ = run_detector(synthetic.batches, analyzer, AlertRules(cooldown_s=NO_COOLDOWN))
    limited, detector = run_detector(
        synthetic.batches, analyzer, AlertRules()
    )  # defaults: 1 min for gift bombs
    last: dict[tuple[str, str], int] = {}
    for alert in limited:
        key = (alert.channel, alert.kind)
        if key in last:
            assert alert.at_ms - last[key] >= detector.rules.cooldown_s[alert.kind] * 1000, key
        last[key] = alert.at_ms
    # The cooldown only holds decisions back; it never changes what is decided.
    assert detector.stats.cooled > 0
    assert len(free) == len(limited) + detector.stats.cooled
    assert {(a.kind, a.channel, a.at_ms) for a in limited} <= {(a.kind, a.channel, a.at_ms) for a in free}


# --- chat stops ---------------------------------------------------------------------------------


def feed_minutes(detector: AlertDetector, channel: str, minutes: range, per_minute: int = 30) -> list[Alert]:
    out: list[Alert] = []
    for m in minutes:
        start = 1_700_000_040_000 + m * MINUTE_MS
        out += detector.messages(channel, start, per_minute, first_ms=start, last_ms=start + 59_000)
    return out + detector.tick()


def test_live_silence_is_judged_by_the_clock_once_the_data_caught_up() -> None:
    detector = AlertDetector()
    t0 = 1_700_000_040_000
    feed_minutes(detector, "busy", range(10))
    last = t0 + 9 * MINUTE_MS + 59_000
    assert detector.tick(last + 20_000) == []  # the data caught up with the clock
    assert detector.tick(last + 4 * MINUTE_MS) == []  # silent for 4 minutes
    stopped = detector.tick(last + 5 * MINUTE_MS + 1)
    assert [(a.kind, a.channel, a.at_ms) for a in stopped] == [("chat_stopped", "busy", last + 5 * MINUTE_MS)]
    assert detector.tick(last + 9 * MINUTE_MS) == []  # once per silence


def test_a_clock_ahead_of_history_being_read_finds_no_silence() -> None:
    detector = AlertDetector()
    t0 = 1_700_000_040_000
    feed_minutes(detector, "busy", range(10))
    wall = t0 + 40 * MINUTE_MS  # a back-fill being read: its chat is half an hour old
    assert detector.tick(wall) == []
    assert feed_minutes(detector, "busy", range(10, 40)) == []  # ... and reaches the present
    assert detector.tick(wall + 1_000) == []


def test_a_quiet_channel_going_silent_is_no_alert() -> None:
    detector = AlertDetector()
    feed_minutes(detector, "tiny", range(10), per_minute=1)
    feed_minutes(detector, "busy", range(10), per_minute=30)
    last = 1_700_000_040_000 + 9 * MINUTE_MS + 59_000
    detector.tick(last + 1_000)
    assert [a.channel for a in detector.tick(last + 20 * MINUTE_MS)] == ["busy"]


def test_a_coverage_gap_alerts_after_its_grace_unless_it_closes_or_was_a_part() -> None:
    detector = AlertDetector(AlertRules(coverage_grace_s=60))
    t0 = 1_700_000_040_000
    feed_minutes(detector, "a", range(3))
    feed_minutes(detector, "b", range(3))
    feed_minutes(detector, "c", range(3))
    now = t0 + 3 * MINUTE_MS
    detector.coverage("a", now, connected=False, reason="connection lost")
    detector.coverage("b", now, connected=False, reason="connection lost")
    detector.coverage("c", now, connected=False, reason="parted")
    detector.coverage("b", now + 5_000, connected=True)  # a reconnect of five seconds
    assert detector.tick(now + 30_000) == []
    alerts = detector.tick(now + 61_000)
    assert [(a.kind, a.channel, a.numbers["reason"]) for a in alerts] == [
        ("chat_stopped", "a", "connection lost")
    ]
    # Later: "b" reconnected but never spoke again (a silence); the parted "c" and "a" stay quiet.
    later = detector.tick(now + 10 * MINUTE_MS)
    assert [(a.channel, a.numbers["reason"]) for a in later] == [("b", "no messages")]


def test_late_messages_are_counted_not_judged() -> None:
    detector = AlertDetector()
    t0 = 1_700_000_040_000
    feed_minutes(detector, "a", range(3))
    assert detector.messages("a", t0, 5) == []
    assert detector.stats.late_messages == 5
