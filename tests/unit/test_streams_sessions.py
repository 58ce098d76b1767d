"""Chat sessions: active minutes cut at silences of ``gap`` minutes, with stable ids."""

from __future__ import annotations

from chatpulse.streams.listing import merge
from chatpulse.streams.sessions import MINUTE_MS, Session, chat_stream_id, cut_sessions
from chatpulse.streams.table import StreamRow

T0 = 1_568_505_600_000  # 2019-09-15 00:00 UTC
GAP = 30 * MINUTE_MS


def minutes(*offsets: int) -> list[int]:
    return [T0 + m * MINUTE_MS for m in offsets]


def test_a_silence_of_gap_minutes_starts_a_new_session_and_a_shorter_one_does_not() -> None:
    # After minute 7, minute 37 follows 29 silent minutes (8..36): the same session;
    # minute 38 follows 30 (8..37): a new one.
    one = cut_sessions(minutes(0, 7, 37), GAP, now_ms=T0 + 10 * 3_600_000)
    assert [(s.start_ms, s.last_minute_ms) for s in one] == [(T0, T0 + 37 * MINUTE_MS)]
    two = cut_sessions(minutes(0, 7, 38), GAP, now_ms=T0 + 10 * 3_600_000)
    assert [(s.start_ms, s.end_ms) for s in two] == [
        (T0, T0 + 8 * MINUTE_MS),
        (T0 + 38 * MINUTE_MS, T0 + 39 * MINUTE_MS),
    ]
    assert all(not s.open for s in two)


def test_the_newest_session_stays_open_until_the_clock_passes_it_by_the_gap() -> None:
    active = minutes(0, 1, 2)
    end = T0 + 3 * MINUTE_MS
    assert cut_sessions(active, GAP, now_ms=end + GAP - 1)[-1].ended_at is None
    closed = cut_sessions(active, GAP, now_ms=end + GAP)[-1]
    assert closed.ended_at == end and not closed.open


def test_order_and_repeats_do_not_matter_and_nothing_active_is_no_session() -> None:
    assert cut_sessions(minutes(5, 0, 5, 1), GAP, T0) == cut_sessions(minutes(0, 1, 5), GAP, T0)
    assert cut_sessions([], GAP, T0) == []


def test_ids_name_the_channel_and_first_minute_so_a_recompute_finds_the_same_ids() -> None:
    assert chat_stream_id("xqcow", T0) == "chat-xqcow-20190915T0000"
    first = [chat_stream_id("xqcow", s.start_ms) for s in cut_sessions(minutes(0, 50, 51), GAP, T0)]
    again = [chat_stream_id("xqcow", s.start_ms) for s in cut_sessions(minutes(51, 0, 50, 0), GAP, T0)]
    assert first == again == ["chat-xqcow-20190915T0000", "chat-xqcow-20190915T0050"]


def test_twitch_streams_hide_the_chat_sessions_they_overlap_and_the_list_is_newest_first() -> None:
    def row(source: str, start: int, end: int | None, sid: str) -> StreamRow:
        return StreamRow(
            "xqcow", sid, source, T0 + start * MINUTE_MS, None if end is None else T0 + end * MINUTE_MS
        )

    twitch = [row("twitch", 100, 150, "42")]
    chat = [row("chat", 0, 8, "a"), row("chat", 95, 130, "b"), row("chat", 200, 201, "c")]
    now = T0 + 300 * MINUTE_MS
    assert [r.stream_id for r in merge(twitch, chat, now)] == ["c", "42", "a"]
    live = [row("twitch", 100, None, "43")]  # live until now: it covers c too
    assert [r.stream_id for r in merge(live, chat, now)] == ["43", "a"]
    assert isinstance(cut_sessions(minutes(0), GAP, T0)[0], Session)
