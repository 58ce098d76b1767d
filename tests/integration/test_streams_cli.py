"""``chatpulse streams`` and ``recap --json`` on a store filled by ``run --replay`` with the real
xqcow capture three times: as captured, 40 minutes later and 3 hours later (new message ids),
the last copy with chat echoing itself in its final minute. Default gap 30 minutes: three chat
sessions; a 45-minute gap joins the first two."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.store import open_store
from tests.cli import chatpulse, one_line
from tests.streams_data import capture_lines, echoed, first_sent_ms, minutes_of, shifted, tag_values

MINUTE_MS = 60_000
SHIFTS_MS = (40 * MINUTE_MS, 3 * 3_600_000)


@dataclass
class Filled:
    dsn: str
    folder: Path
    lines: list[str]
    start_ms: int
    echo_minute: int  # the last copy's final minute, echoed twice
    echoes: int


@pytest.fixture(scope="module")
def filled(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Filled:
    folder = tmp_path_factory.mktemp("streams")
    lines = capture_lines(shared_data / "replay" / "xqcow-2019-09-15.irc.gz")
    every = list(lines)
    for number, shift in enumerate(SHIFTS_MS, start=1):
        every += shifted(lines, shift, f"s{number}")
    last_copy = shifted(lines, SHIFTS_MS[-1], "s2")
    echo_minute = minutes_of(last_copy)[-1]
    echo = echoed(last_copy, echo_minute, 2, "echo")
    recording = folder / "sessions.irc"
    recording.write_text("\n".join(every + echo) + "\n", encoding="utf-8")
    dsn = f"chdb://{folder / 'db'}"
    done = chatpulse(folder, "run", "--replay", str(recording), "--speed", "max", "--no-dashboard",
                     "--store", dsn, "--workers", "0", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Filled(dsn, folder, lines, first_sent_ms(lines), echo_minute, len(echo))


def _json(filled: Filled, *args: str) -> Any:
    done = chatpulse(filled.folder, *args, "--store", filled.dsn)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_run_kept_the_streams_table_current(filled: Filled) -> None:
    # Nothing recomputed by hand yet: the rows are those `run --replay` wrote as chat arrived.
    listed = _json(filled, "streams", "--channel", "xqcow", "--json")
    assert _stored(filled) == sorted((s["id"], s["messages"]) for s in listed)
    assert len(listed) == 3


def test_three_chat_sessions_newest_first_with_their_chat(filled: Filled) -> None:
    streams = _json(filled, "streams", "--channel", "xqcow", "--json")
    messages = sum(1 for line in filled.lines if " PRIVMSG #xqcow " in line)
    first_minute = filled.start_ms // MINUTE_MS * MINUTE_MS
    starts = [first_minute + shift for shift in (*reversed(SHIFTS_MS), 0)]
    assert [s["started_ms"] for s in streams] == starts
    assert [s["id"] for s in streams] == ["chat-xqcow-20190915T0300", "chat-xqcow-20190915T0040",
                                          "chat-xqcow-20190915T0000"]  # fmt: skip
    assert [s["messages"] for s in streams] == [messages + filled.echoes, messages, messages]
    last_minute = minutes_of(filled.lines)[-1]
    assert streams[-1]["ended_ms"] == last_minute + MINUTE_MS  # old chat: every session ended
    assert all(s["source"] == "chat" and s["duration_s"] == 8 * 60 for s in streams)
    notices = tag_values(filled.lines, "msg-id")
    subs = sum(1 for n in notices if n in ("sub", "resub"))
    bits = sum(int(b) for b in tag_values(filled.lines, "bits"))
    assert subs > 0 and bits > 0
    assert all(s["subs"] == subs and s["bits"] == bits and s["gifts"] == 0 for s in streams)
    chatters = len(
        {line.split("!", 1)[0].rsplit(":", 1)[-1] for line in filled.lines if " PRIVMSG #" in line}
    )
    assert abs(streams[-1]["chatters"] - chatters) <= chatters * 0.02  # uniq() is approximate
    assert -1 < streams[0]["sentiment_mean"] < 1

    joined = _json(filled, "streams", "--channel", "xqcow", "--json", "--gap-minutes", "45")
    assert [s["started_ms"] for s in joined] == [starts[0], starts[2]]
    assert joined[1]["messages"] == 2 * messages and joined[1]["ended_ms"] == starts[1] + 8 * MINUTE_MS


def _stored(filled: Filled) -> list[tuple[str, int]]:
    store = open_store(StoreSettings(dsn=filled.dsn))
    try:
        rows = store.query(
            "SELECT stream_id, messages FROM streams FINAL "
            "WHERE channel = 'xqcow' AND NOT dropped ORDER BY stream_id"
        )
    finally:
        store.close()
    return [(r["stream_id"], int(r["messages"])) for r in rows]


def test_recompute_stores_the_sessions_with_stable_ids_and_drops_the_ones_a_new_gap_joins(
    filled: Filled,
) -> None:
    listed = _json(filled, "streams", "--channel", "xqcow", "--json", "--recompute")
    first = _stored(filled)
    assert first == sorted((s["id"], s["messages"]) for s in listed)
    _json(filled, "streams", "--channel", "xqcow", "--json", "--recompute")
    assert _stored(filled) == first  # recomputed from the same chat: the same rows, no extra
    _json(filled, "streams", "--channel", "xqcow", "--json", "--recompute", "--gap-minutes", "45")
    assert [sid for sid, _ in _stored(filled)] == ["chat-xqcow-20190915T0000", "chat-xqcow-20190915T0300"]
    _json(filled, "streams", "--channel", "xqcow", "--json", "--recompute")
    assert _stored(filled) == first


def test_recap_json_of_the_latest_stream(filled: Filled) -> None:
    recap = _json(filled, "recap", "--channel", "xqcow", "--json")
    streams = _json(filled, "streams", "--channel", "xqcow", "--json")
    assert recap["stream"]["id"] == streams[0]["id"]
    summary = recap["summary"]
    assert summary["messages"] == streams[0]["messages"] and summary["duration"] == "0:08:00"
    assert summary["new_chatters"] == 0  # the same people spoke in the earlier sessions
    assert summary["peak_rate"] == max(m["messages"] for m in recap["minutes"])
    assert summary["peak_at"]["offset"] == "0:07:00"  # the echoed minute
    # The echoed minute is the stream's hype moment, 7 minutes in, with its repeated messages.
    assert [h["offset"] for h in recap["hype_moments"]] == ["0:07:00"]
    hype = recap["hype_moments"][0]
    assert hype["t"] == filled.echo_minute and hype["top_messages"][0]["count"] >= 3
    assert hype["vod_url"] is None  # a chat session has no VOD
    assert recap["negative_moments"] and all(n["offset"].startswith("0:0") for n in recap["negative_moments"])
    kinds = {e["type"] for e in recap["events"]}
    assert {"resub", "timeout", "bits"} <= kinds
    assert all(0 <= e["offset_s"] < 8 * 60 for e in recap["events"])
    assert recap["top_emotes"][0]["uses"] >= recap["top_emotes"][-1]["uses"] > 0
    assert recap["top_chatters"][0]["messages"] >= recap["top_chatters"][1]["messages"]
    assert recap["comparison"]["streams"] == 2 and recap["comparison"]["rate"]["change"] > 0

    oldest = _json(filled, "recap", "--channel", "xqcow", "--stream", streams[-1]["id"], "--json")
    assert oldest["summary"]["new_chatters"] == oldest["summary"]["chatters"] or (
        abs(oldest["summary"]["new_chatters"] - oldest["summary"]["chatters"])
        <= oldest["summary"]["chatters"] * 0.02
    )
    assert oldest["comparison"]["streams"] == 0 and oldest["hype_moments"] == []


def test_recap_refuses_an_unknown_stream_and_a_missing_store_in_one_line(
    filled: Filled, tmp_path: Path
) -> None:
    line = one_line(chatpulse(filled.folder, "recap", "--channel", "xqcow", "--stream", "nope", "--json",
                              "--store", filled.dsn))  # fmt: skip
    assert "no stream 'nope'" in line
    missing = tmp_path / "nowhere"
    for args in (("recap", "--channel", "xqcow", "--json"), ("streams", "--channel", "xqcow")):
        assert "no ChatPulse store" in one_line(chatpulse(tmp_path, *args, "--store", f"chdb://{missing}"))
    assert not missing.exists()
    assert "invalid channel" in one_line(chatpulse(tmp_path, "streams", "--channel", "Bad Name!"))
    assert "--output" in one_line(chatpulse(tmp_path, "recap", "--channel", "xqcow", "--store", filled.dsn))
