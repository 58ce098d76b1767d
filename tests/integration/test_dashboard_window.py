"""The dashboard API over the whole chosen window, on a chDB store filled from the real xqcow
capture: the events panel counts every event of the window (not the newest N), and a channel
whose chat lies before the window comes with the time of its last message."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.dashboard.app import DashboardApi
from chatpulse.store import Store, open_store

CAPTURE_END = 1_568_506_063_953  # the capture's newest message + 1 (2019-09-15T00:07:43.953Z)
# The events the panel shows, counted here with this test's own SQL.
EVENTS_SQL = """
SELECT (SELECT count() FROM chat_events FINAL WHERE channel = 'xqcow'
          AND (kind IN ('clearchat', 'clearmsg', 'coverage') OR (kind = 'usernotice' AND notice_type
               IN ('sub', 'resub', 'subgift', 'submysterygift', 'raid', 'announcement'))))
     + (SELECT count() FROM chat_messages FINAL WHERE channel = 'xqcow' AND bits > 0) AS n,
       (SELECT toUnixTimestamp64Milli(min(sent_at)) FROM chat_events FINAL
        WHERE channel = 'xqcow' AND kind = 'clearchat') AS first_clear
"""


@pytest.fixture(scope="module")
def store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    dsn = f"chdb://{tmp_path_factory.mktemp('dashboard-window') / 'db'}"
    capture = shared_data / "replay" / "xqcow-2019-09-15.irc.gz"
    filled = subprocess.run(
        [sys.executable, "-m", "chatpulse", "run", "--replay", str(capture), "--speed", "max",
         "--no-dashboard", "--store", dsn, "--workers", "0"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert filled.returncode == 0, filled.stderr
    opened = open_store(StoreSettings(dsn=dsn))
    yield opened
    opened.close()


def api(store: Store) -> DashboardApi:
    return DashboardApi(store, None, lambda: CAPTURE_END + 3 * 3_600_000)  # the capture is old chat


def events(store: Store, limit: int) -> dict[str, Any]:
    return api(store).events({"channel": "xqcow", "range": "15m", "limit": str(limit)}, ["xqcow"])


def test_more_events_than_the_limit_are_counted_per_bucket_over_the_whole_window(store: Store) -> None:
    expected = store.query(EVENTS_SQL)[0]
    body = events(store, 20)
    assert body["bucketed"] and body["total"] == expected["n"] > 20
    assert sum(item["count"] for item in body["events"]) == expected["n"]
    bucket_ms = body["window"]["bucket_s"] * 1000
    times = [item["t"] for item in body["events"]]
    assert times == sorted(times)
    # From the window's first events to its last, not the newest 20.
    assert times[0] == expected["first_clear"] - expected["first_clear"] % bucket_ms
    assert times[-1] >= CAPTURE_END - 2 * bucket_ms
    timeouts = [item for item in body["events"] if item["type"] == "timeout"]
    assert timeouts and all(item["detail"].startswith(f"timeouts: {item['count']}") for item in timeouts)


def test_events_within_the_limit_are_listed_one_by_one(store: Store) -> None:
    total = store.query(EVENTS_SQL)[0]["n"]
    body = events(store, 2000)
    assert not body["bucketed"] and body["total"] == total == len(body["events"])


def test_a_channel_whose_chat_is_older_than_the_window_says_when_it_last_spoke(store: Store) -> None:
    later = {"channel": "xqcow", "from": str(CAPTURE_END + 3_600_000), "to": str(CAPTURE_END + 7_200_000)}
    body = api(store).overview(later, ["xqcow"])
    assert body["totals"]["messages"] == 0
    assert body["quiet"] == [{"channel": "xqcow", "last_message": CAPTURE_END - 1, "before_window": True}]
    shown = api(store).overview({"channel": "xqcow", "range": "15m"}, ["xqcow"])
    assert shown["totals"]["messages"] > 0 and shown["quiet"] == []
