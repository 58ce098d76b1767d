"""SyntheticSource: real Twitch IRC lines, parse-clean, seeded, paced, with every kind of event."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter

import pytest

from chatpulse.events import ClearChatEvent, ClearMsgEvent, MessageEvent, ServerEvent, UserNoticeEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.base import RawLine, now_ms
from chatpulse.sources.synthetic.chat import SyntheticSource, generate_lines
from chatpulse.sources.synthetic.vocabulary import (
    NEGATIVE_EMOTES,
    NEGATIVE_PHRASES,
    POSITIVE_EMOTES,
    POSITIVE_PHRASES,
    TWITCH_EMOTES,
)

LONG_RUN = 60_000  # at LONG_RUN_RATE: about 15 simulated minutes, several game events per channel
LONG_RUN_RATE = 60.0
_TS = re.compile(r"tmi-sent-ts=\d+")


@pytest.fixture(scope="module")
def long_run() -> list[str]:
    return list(generate_lines(LONG_RUN, channels=5, seed=7, rate=LONG_RUN_RATE))


def test_every_line_parses_without_error(long_run: list[str]) -> None:
    errors = [e for e in (parse_line(line, 0, "synthetic") for line in long_run) if e.kind == "error"]
    assert errors == []


def test_same_seed_same_lines_apart_from_timestamps() -> None:
    first = [_TS.sub("", line) for line in generate_lines(3000, seed=11, start_ms=1_600_000_000_000)]
    again = [_TS.sub("", line) for line in generate_lines(3000, seed=11, start_ms=1_700_000_000_000)]
    other = [_TS.sub("", line) for line in generate_lines(3000, seed=12, start_ms=1_600_000_000_000)]
    assert first == again
    assert first != other


def test_every_event_type_appears(long_run: list[str]) -> None:
    events = [parse_line(line, 0, "synthetic") for line in long_run]
    notices = Counter(e.notice_type for e in events if isinstance(e, UserNoticeEvent))
    assert {"sub", "resub", "subgift", "submysterygift", "raid"} <= set(notices)
    messages = [e for e in events if isinstance(e, MessageEvent)]
    assert any(m.bits > 0 for m in messages)
    assert any(m.is_action for m in messages)
    assert any(m.first_msg for m in messages)
    assert any(m.reply_parent is not None for m in messages)
    clears = [e for e in events if isinstance(e, ClearChatEvent)]
    assert any(c.ban_duration is not None for c in clears)  # timeouts
    assert any(c.ban_duration is None and c.target_user_login for c in clears)  # bans
    assert any(isinstance(e, ClearMsgEvent) for e in events)
    roomstates = [e for e in events if isinstance(e, ServerEvent) and e.kind == "roomstate"]
    assert len(roomstates) == 5


def test_twitch_emote_positions_match_the_text(long_run: list[str]) -> None:
    checked = 0
    for line in long_run:
        event = parse_line(line, 0, "synthetic")
        if isinstance(event, MessageEvent | UserNoticeEvent):
            for emote in event.emotes:
                assert event.text[emote.start : emote.end] == emote.name
                assert TWITCH_EMOTES[emote.name] == emote.id
                checked += 1
            # Every Twitch global emote typed as a word is tagged (no emote left unmarked).
            words = event.text.split(" ")
            assert sum(w in TWITCH_EMOTES for w in words) == len(event.emotes)
    assert checked > 1000


def test_emote_positions_count_code_points_not_utf16_units(long_run: list[str]) -> None:
    with_emoji = [
        e
        for e in map(lambda line: parse_line(line, 0, "synthetic"), long_run)
        if isinstance(e, MessageEvent) and e.emotes and any(ord(ch) > 0xFFFF for ch in e.text)
    ]
    assert with_emoji, "some messages mix astral-plane emoji and emotes"
    for event in with_emoji:
        assert all(event.text[em.start : em.end] == em.name for em in event.emotes)


def test_deleted_messages_and_replies_name_earlier_messages(long_run: list[str]) -> None:
    seen: dict[str, tuple[str | None, str]] = {}  # id -> (channel, text)
    deletions = replies = 0
    for line in long_run:
        event = parse_line(line, 0, "synthetic")
        if isinstance(event, MessageEvent):
            if event.reply_parent is not None:
                assert seen[event.reply_parent.id] == (event.channel, event.reply_parent.text)
                replies += 1
            assert event.id not in seen
            seen[event.id] = (event.channel, event.text)
        elif isinstance(event, ClearMsgEvent):
            assert seen[event.target_message_id] == (event.channel, event.text)
            deletions += 1
    assert deletions > 50 and replies > 500


def test_timeouts_target_people_who_chatted_in_that_channel(long_run: list[str]) -> None:
    chatted: set[tuple[str | None, str | None]] = set()
    for line in long_run:
        event = parse_line(line, 0, "synthetic")
        if isinstance(event, MessageEvent):
            chatted.add((event.channel, event.user_id))
        elif isinstance(event, ClearChatEvent):
            assert (event.channel, event.target_user_id) in chatted


def test_game_events_swing_one_channels_rate_and_sentiment(long_run: list[str]) -> None:
    """Per 5 s window and channel: rates spike well above the channel's median, and waves of
    one emote take over chat for a while (the generator's hype spikes and emote waves)."""
    per_window: Counter[tuple[str | None, int]] = Counter()
    dominant: Counter[tuple[str | None, int, str]] = Counter()
    start: int | None = None
    for line in long_run:
        event = parse_line(line, 0, "synthetic")
        if isinstance(event, MessageEvent) and event.sent_at is not None:
            start = event.sent_at if start is None else start
            window = (event.sent_at - start) // 5000
            per_window[(event.channel, window)] += 1
            dominant[(event.channel, window, event.text)] += 1
    channels = {ch for ch, _ in per_window}
    spiky = 0
    for channel in channels:
        counts = sorted(n for (ch, _), n in per_window.items() if ch == channel)
        median = counts[len(counts) // 2]
        spiky += counts[-1] >= 2.5 * median
    assert spiky >= 3, "most channels have hype spikes"
    waves = [key for key, n in dominant.items() if n >= 0.3 * per_window[key[:2]] and n >= 20]
    assert len(waves) >= 5, "emote waves: one text repeated by many chatters"


def _polarity(text: str) -> int:
    lowered = f" {text.lower()} "
    words = set(text.split(" "))
    pos = bool(words & set(POSITIVE_EMOTES)) or any(f" {p.lower()} " in lowered for p in POSITIVE_PHRASES)
    neg = bool(words & set(NEGATIVE_EMOTES)) or any(f" {p.lower()} " in lowered for p in NEGATIVE_PHRASES)
    return int(pos) - int(neg)


def test_sentiment_swings_both_ways_within_a_channel(long_run: list[str]) -> None:
    """Windows of 10 s where a channel is mostly positive and others where it is mostly negative."""
    tally: dict[tuple[str | None, int], Counter[int]] = {}
    start: int | None = None
    for line in long_run:
        event = parse_line(line, 0, "synthetic")
        if isinstance(event, MessageEvent) and event.sent_at is not None:
            start = event.sent_at if start is None else start
            key = (event.channel, (event.sent_at - start) // 10_000)
            tally.setdefault(key, Counter())[_polarity(event.text)] += 1
    swings: Counter[tuple[str | None, str]] = Counter()
    for (channel, _), counts in tally.items():
        total = sum(counts.values())
        if total >= 40:
            if counts[1] > 0.6 * total:
                swings[(channel, "positive")] += 1
            if counts[-1] > 0.5 * total:
                swings[(channel, "negative")] += 1
    both = {ch for ch, mood in swings if (ch, "positive") in swings and (ch, "negative") in swings}
    assert both, f"no channel swung both ways: {swings}"


def test_channel_names_are_valid_logins_and_custom_names_are_used() -> None:
    names = {parse_line(line, 0).channel for line in generate_lines(2000, channels=30)}
    assert len(names) == 30
    assert all(n and re.fullmatch(r"[a-z0-9_]{4,25}", n) for n in names)
    custom = {parse_line(line, 0).channel for line in generate_lines(500, channels=["foo_bar", "Baz1"])}
    assert custom == {"foo_bar", "baz1"}
    with pytest.raises(ValueError, match="invalid channel name"):
        SyntheticSource(channels=["not valid!"])


def test_generator_is_fast() -> None:
    # The contract is "well over 100k lines/s on one core"; the shared CI machine gets slack.
    started = time.perf_counter()
    for _ in generate_lines(50_000):
        pass
    rate = 50_000 / (time.perf_counter() - started)
    assert rate > 40_000, f"{rate:,.0f} lines/s"


async def test_stream_is_paced_to_the_rate() -> None:
    source = SyntheticSource(channels=3, rate=400.0, seed=1, duration=1.0)
    started = time.perf_counter()
    items = [item async for item in source.stream()]
    elapsed = time.perf_counter() - started
    assert 0.9 <= elapsed < 2.0
    assert 200 <= len(items) <= 600
    assert all(isinstance(i, RawLine) for i in items)
    assert source.name == "synthetic"


async def test_unpaced_stream_yields_to_the_loop_and_close_stops_it() -> None:
    source = SyntheticSource(rate=None, seed=2)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    count = 0
    async for _ in source.stream():
        count += 1
        if count == 20_000:
            await source.close()
    task.cancel()
    assert count == 20_000
    assert ticks >= 20  # the loop ran other tasks while lines were flowing


async def test_a_limited_stream_ends_after_that_many_lines_with_current_receive_times() -> None:
    before = now_ms()
    items = [item async for item in SyntheticSource(rate=None, seed=3, limit=1000).stream()]
    assert len(items) == 1000
    assert all(isinstance(i, RawLine) and before <= i.received_at <= now_ms() for i in items)
    paced = [item async for item in SyntheticSource(rate=2000.0, seed=3, limit=50).stream()]
    assert len(paced) == 50
    with pytest.raises(ValueError, match="limit"):
        SyntheticSource(limit=-1)


def _channel_shares(lines: list[str]) -> dict[str, float]:
    counts = Counter(m[1] for line in lines if (m := re.search(r" PRIVMSG #(\w+) ", line)))
    total = sum(counts.values())
    return {channel: n / total for channel, n in counts.items()}


async def test_demo_live_chat_continues_the_back_fill_at_the_same_rates() -> None:
    # 30 s of back-fill (no hype spike starts before 150 s), then 4 s of live chat: each channel
    # keeps its share of the chat, and live times follow the back-fill's.
    from chatpulse.sources.synthetic.demo import DemoSource

    demo = DemoSource(rate=2000.0, history_s=30.0)
    demo.history_stored()  # as if the back-fill were stored at once: live chat follows it directly
    history: list[str] = []
    live: list[str] = []
    async for item in demo.stream():
        assert isinstance(item, RawLine)
        (history if demo.in_history else live).append(item.line)
        if len(live) >= 8000:
            break
    await demo.close()
    before, after = _channel_shares(history[-len(live) :]), _channel_shares(live)
    assert set(before) == set(after)
    assert all(abs(before[c] - after[c]) < 0.05 for c in before), (before, after)
    sent = [int(m[1]) for line in history[-100:] + live[:100] if (m := re.search(r"tmi-sent-ts=(\d+)", line))]
    assert sent == sorted(sent)
