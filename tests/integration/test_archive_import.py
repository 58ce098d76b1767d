"""`chatpulse import` against a justlog/rustlog-style archive on 127.0.0.1 serving the real captures.

The archive (:mod:`chatpulse.testing.archive_server`) serves the captures as days; faults make
days fail (5xx), answer slowly, cut their body, or answer something that is not chat. What a
user notices: the same rows as replaying the capture, every message once however often days
are imported, failing days reported while the others are kept, and a rerun that fetches only
what is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.store import open_store
from chatpulse.testing.archive_server import ArchiveData, ArchiveTestServer, Fault, capture_days
from tests.integration.conftest import anonymous_env

CAPTURES = {"xqcow": "xqcow-2019-09-15.irc.gz", "nymn": "nymn-2024-01-06.json"}
# What a user reads back; received_at (each run's clock) and source (replay vs archive) differ.
COMPARED = {
    "chat_messages": (
        "SELECT id, channel, user_id, user_login, user_name, text, emote_count, sentiment_label, "
        "round(sentiment_score, 5) AS score, deleted, deleted_by, sent_at, bits "
        "FROM chat_messages FINAL ORDER BY id"
    ),
    "chat_emotes": "SELECT message_id, position, emote_id, emote_name, provider, user_login FROM chat_emotes "
    "ORDER BY message_id, position",
    "chat_events": "SELECT event_key, kind, notice_type, user_login, target_user_login, ban_duration, "
    "sent_at FROM chat_events ORDER BY event_key",
    "chat_minute": "SELECT minute, countMerge(messages), uniqMerge(chatters), sumMerge(bits_sum), "
    "countMerge(deleted_messages) FROM chat_minute GROUP BY minute ORDER BY minute",
}


def _query(dsn: str, sql: str) -> list[dict[str, Any]]:
    store = open_store(StoreSettings(dsn=dsn))
    try:
        return store.query(sql)
    finally:
        store.close()


def _rows(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    return {table: [tuple(row.values()) for row in _query(dsn, sql)] for table, sql in COMPARED.items()}


def _chatpulse(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatpulse", *args],
        capture_output=True, text=True, timeout=300, env=anonymous_env(tmp_path) | env, cwd=tmp_path,
        check=False,
    )  # fmt: skip


def _import(
    server: ArchiveTestServer, channel: str, dsn: str, tmp_path: Path, *extra: str
) -> tuple[int, dict[str, Any], str]:
    done = _chatpulse(
        ["import", "--archive", server.url, "--channel", channel, "--store", dsn, "--workers", "0", *extra],
        tmp_path,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    return done.returncode, json.loads(lines[-1]), done.stderr


@pytest.fixture
def archive(shared_data: Path, request: pytest.FixtureRequest) -> Iterator[ArchiveTestServer]:
    days = getattr(request, "param", 1)
    data = ArchiveData()
    for capture in CAPTURES.values():
        channel, room, split = capture_days(shared_data / "replay" / capture, days)
        data.add(channel, room, split)
    with ArchiveTestServer(data) as server:
        yield server


@pytest.mark.parametrize("channel", sorted(CAPTURES))
def test_import_stores_what_a_replay_stores(
    channel: str, archive: ArchiveTestServer, shared_data: Path, tmp_path: Path
) -> None:
    imported, replayed = f"chdb://{tmp_path / 'imported'}", f"chdb://{tmp_path / 'replayed'}"
    code, summary, stderr = _import(archive, channel, imported, tmp_path)
    assert code == 0, stderr[-3000:]
    assert re.search(r"days \[#+\] 1/1 \(\d{4}-\d\d-\d\d\) │ fetched [\d,]+ lines, [\d,]+ lines/s", stderr)
    assert len(summary["days_imported"]) == 1 and not summary["days_failed"]
    recording = shared_data / "replay" / CAPTURES[channel]
    done = _chatpulse(
        [
            "run",
            "--replay",
            str(recording),
            "--speed",
            "max",
            "--no-dashboard",
            "--store",
            replayed,
            "--workers",
            "0",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    a, b = _rows(imported), _rows(replayed)
    assert len(a["chat_messages"]) > 500 and summary["messages"] >= len(a["chat_messages"])
    for table in COMPARED:
        assert a[table] == b[table], f"{table}: import and replay differ"
    sources = _query(imported, "SELECT DISTINCT source FROM chat_messages")
    assert sources == [{"source": "archive"}], "imported rows say where they came from"


@pytest.mark.parametrize("archive", [4], indirect=True)
def test_failing_days_are_retried_reported_and_fetched_again_on_rerun(
    archive: ArchiveTestServer, tmp_path: Path
) -> None:
    days = sorted(archive.data.channels["xqcow"])
    archive.fault("xqcow", days[0], Fault("cut", times=1))  # retried, then whole
    archive.fault("xqcow", days[1], Fault("status", status=503))  # fails every time
    archive.fault("xqcow", days[2], Fault("slow", times=1, delay_s=2.0))  # times out once
    dsn = f"chdb://{tmp_path / 'store'}"

    code, summary, stderr = _import(archive, "xqcow", dsn, tmp_path, "--retries", "2", "--timeout", "1")
    assert code == 1
    assert summary["days_failed"] == [
        {"day": days[1].isoformat(), "error": summary["days_failed"][0]["error"]}
    ]
    assert "HTTP 503" in summary["days_failed"][0]["error"] and "HTTP 503" in stderr
    assert summary["days_imported"] == [d.isoformat() for d in (days[0], days[2], days[3])]
    assert summary["retries"] >= 4  # the cut day once, the slow day once, the failing day twice
    assert (
        archive.day_requests().count(f"/channel/xqcow/{days[1].year}/{days[1].month}/{days[1].day}?raw") == 3
    )
    kept = _query(dsn, "SELECT count() AS n, uniqExact(id) AS u FROM chat_messages WHERE version = 0")[0]
    assert kept["n"] == kept["u"] > 3000, "the days that worked are stored, each message once"

    del archive.faults[("xqcow", days[1])]
    before = len(archive.day_requests())
    code, summary, stderr = _import(archive, "xqcow", dsn, tmp_path)
    assert code == 0, stderr[-3000:]
    assert archive.day_requests()[before:] == [
        f"/channel/xqcow/{days[1].year}/{days[1].month}/{days[1].day}?raw"
    ]
    assert summary["days_already_stored"] == 3 and summary["days_imported"] == [days[1].isoformat()]
    everything = _query(dsn, "SELECT count() AS n, uniqExact(id) AS u FROM chat_messages WHERE version = 0")[
        0
    ]
    assert everything["n"] == everything["u"] == 4933, "the whole capture, every message once"


@pytest.mark.parametrize("archive", [5], indirect=True)
def test_answers_that_are_not_chat_are_refused_and_not_retried(
    archive: ArchiveTestServer, tmp_path: Path
) -> None:
    days = sorted(archive.data.channels["xqcow"])
    archive.fault("xqcow", days[0], Fault("not_chat"))
    archive.fault("xqcow", days[1], Fault("huge_line"))
    archive.fault("xqcow", days[2], Fault("redirect_away"))
    archive.fault("xqcow", days[3], Fault("json"))
    archive.fault("xqcow", days[4], Fault("redirect_same", times=1))  # followed: same host
    dsn = f"chdb://{tmp_path / 'store'}"

    code, summary, _ = _import(archive, "xqcow", dsn, tmp_path, "--retries", "3")
    assert code == 1
    errors = {f["day"]: f["error"] for f in summary["days_failed"]}
    assert "the body is not chat" in errors[days[0].isoformat()]
    assert "redirected to another host (archive.invalid)" in errors[days[2].isoformat()]
    assert "application/json" in errors[days[3].isoformat()]
    assert len(errors) == 3 and summary["retries"] == 0
    # A huge line is dropped unread and reported; the rest of its day is chat and is kept.
    assert summary["days_imported"] == [days[1].isoformat(), days[4].isoformat()]
    assert len(summary["lines_refused"]) == 1
    assert "line 501: a line over 65,536 bytes" in summary["lines_refused"][0]
    assert not _query(dsn, "SELECT user_login FROM chat_messages WHERE user_login = 'x'"), "huge line stored"
    stored = _query(dsn, "SELECT toDate(sent_at) AS day, count() AS n FROM chat_messages FINAL GROUP BY day")
    assert sorted((row["day"], row["n"] > 900) for row in stored) == [(days[1], True), (days[4], True)]


def test_importing_chat_stored_live_changes_no_count(
    archive: ArchiveTestServer, shared_data: Path, tmp_path: Path
) -> None:
    dsn = f"chdb://{tmp_path / 'store'}"
    done = _chatpulse(
        ["run", "--replay", str(shared_data / "replay" / CAPTURES["nymn"]), "--speed", "max",
         "--no-dashboard", "--store", dsn, "--workers", "0"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    before = _rows(dsn)

    for _ in range(2):  # the second import finds the day recorded; the first overlaps live chat
        code, summary, stderr = _import(archive, "nymn", dsn, tmp_path)
        assert code == 0, stderr[-3000:]
    assert summary["days_already_stored"] == 1 and summary["lines"] == 0

    after = _rows(dsn)
    assert after == before, "per-minute counts, messages, emotes and events unchanged"


def test_a_day_without_a_log_and_a_range_outside_the_list(archive: ArchiveTestServer, tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path / 'store'}"
    code, summary, _ = _import(archive, "xqcow", dsn, tmp_path, "--from", "2030-01-01")
    assert code == 0 and summary["days_listed"] == 0 and summary["lines"] == 0
    done = _chatpulse(["import", "--archive", archive.url, "--channel", "nobody", "--store", dsn], tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["days_listed"] == 0
    done = _chatpulse(
        ["import", "--archive", archive.url, "--channel", "xqcow", "--from", "2024-02-30"], tmp_path
    )
    assert done.returncode == 2 and "--from must be a date" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists(), "a refused command creates no store"


def test_import_by_channel_id(archive: ArchiveTestServer, tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path / 'store'}"
    room = next(i for i, c in archive.data.channel_ids.items() if c == "nymn")
    done = _chatpulse(
        ["import", "--archive", archive.url, "--channel-id", room, "--store", dsn, "--workers", "0"], tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["channel"] == f"id:{room}" and len(summary["days_imported"]) == 1
    assert _query(dsn, "SELECT DISTINCT channel FROM chat_messages") == [{"channel": "nymn"}]
    assert dt.date.fromisoformat(summary["days_imported"][0]) == dt.date(2024, 1, 6)


def test_an_import_withholds_opted_out_users(archive: ArchiveTestServer, tmp_path: Path) -> None:
    [lines] = archive.data.channels["nymn"].values()
    logins = [line.split(" :", 1)[1].split("!", 1)[0] for line in lines if " PRIVMSG " in line]
    busiest = max(set(logins), key=logins.count)
    (tmp_path / "opt-out.txt").write_text(f"{busiest}\n")
    dsn = f"chdb://{tmp_path / 'store'}"
    done = _chatpulse(
        ["import", "--archive", archive.url, "--channel", "nymn", "--store", dsn, "--workers", "0"],
        tmp_path, CHATPULSE_PRIVACY__OPT_OUT=str(tmp_path / "opt-out.txt"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["withheld"] == logins.count(busiest) > 10
    everyone = _query(dsn, "SELECT uniqExact(id) AS n, groupUniqArray(user_login) AS who FROM chat_messages")[
        0
    ]
    assert busiest not in everyone["who"] and everyone["n"] == len(logins) - summary["withheld"]


@pytest.mark.parametrize("archive", [4], indirect=True)
def test_ctrl_c_keeps_the_finished_days_and_a_rerun_fetches_the_rest(
    archive: ArchiveTestServer, tmp_path: Path
) -> None:
    days = sorted(archive.data.channels["xqcow"])
    archive.fault("xqcow", days[2], Fault("slow", times=1, delay_s=3.0))  # Ctrl-C comes while it waits
    dsn = f"chdb://{tmp_path / 'store'}"
    args = ["import", "--archive", archive.url, "--channel", "xqcow", "--store", dsn, "--workers", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "chatpulse", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=anonymous_env(tmp_path), cwd=tmp_path,
    )  # fmt: skip
    slow = f"/channel/xqcow/{days[2].year}/{days[2].month}/{days[2].day}?raw"
    deadline = time.monotonic() + 60
    while slow not in archive.day_requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["interrupted"] and "SIGINT: stopping" in err
    assert summary["days_imported"] == [days[0].isoformat(), days[1].isoformat()]

    before = len(archive.day_requests())
    code, summary, err = _import(archive, "xqcow", dsn, tmp_path)
    assert code == 0, err[-3000:]
    assert summary["days_already_stored"] == 2
    assert archive.day_requests()[before:] == [
        f"/channel/xqcow/{d.year}/{d.month}/{d.day}?raw" for d in days[2:]
    ]
    everything = _query(dsn, "SELECT count() AS n, uniqExact(id) AS u FROM chat_messages WHERE version = 0")[
        0
    ]
    assert everything["n"] == everything["u"] == 4933
