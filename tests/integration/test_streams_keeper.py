"""The streams table kept current while chat arrives: the real xqcow capture moved to "now" and
stored through the run's sink wrapper in two halves, with a clock the test moves. The open
session grows with each pass, stays live (no end) while chat may still join it, and gets its
end once the clock passes it by the gap."""

from __future__ import annotations

from pathlib import Path

from chatpulse.config import StoreSettings
from chatpulse.irc.twitch import parse_line
from chatpulse.stages import store_rows
from chatpulse.store import ClickHouseSink, open_store
from chatpulse.streams.keeper import StreamKeeper, with_streams
from chatpulse.streams.table import list_streams
from tests.streams_data import capture_lines, first_sent_ms, shifted

MINUTE_MS = 60_000
NOW_MS = 1_800_000_000_000  # a fixed "now" (2027), where the capture is moved to


def test_the_open_session_grows_stays_live_and_ends_after_the_gap(shared_data: Path, tmp_path: Path) -> None:
    lines = capture_lines(shared_data / "replay" / "xqcow-2019-09-15.irc.gz")
    start = NOW_MS - 10 * MINUTE_MS
    live = shifted(lines, start - first_sent_ms(lines), "now")
    events = [parse_line(line, 0, "irc") for line in live]
    half = len(events) // 2
    store = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'db'}"))
    store.migrate()
    clock = [NOW_MS]
    keeper = StreamKeeper(store, gap_minutes=30, interval_s=3600, clock=lambda: clock[0])
    sink = with_streams(ClickHouseSink(store, spool_dir=tmp_path / "spool"), keeper)
    try:
        sink.add_batch(store_rows(events[:half]))
        sink.flush()
        assert keeper.run_pass() == 1
        [first] = list_streams(store, "xqcow")
        assert first.ended_at is None and first.figures.messages > 0

        sink.add_batch(store_rows(events[half:]))
        sink.flush()
        keeper.run_pass()
        [grown] = list_streams(store, "xqcow")
        messages = sum(1 for line in lines if " PRIVMSG #xqcow " in line)
        assert (grown.stream_id, grown.ended_at) == (first.stream_id, None)
        assert grown.figures.messages == messages

        clock[0] = NOW_MS + 25 * MINUTE_MS  # 27 silent minutes after the last one: still open
        keeper.run_pass()
        assert list_streams(store, "xqcow")[0].ended_at is None
        clock[0] = NOW_MS + 30 * MINUTE_MS  # no new chat, but the channel is re-judged: it ended
        assert keeper.run_pass() == 1
        [ended] = list_streams(store, "xqcow")
        assert ended.ended_at == grown.started_at + 8 * MINUTE_MS
        assert keeper.run_pass() == 0  # nothing open, nothing new: no work
    finally:
        sink.close()
        store.close()
    assert keeper.failures == 0
