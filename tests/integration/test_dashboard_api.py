"""The dashboard's JSON API on a store filled from the real xqcow capture.

The store is filled by `chatpulse run --replay`, the API is served by `chatpulse dashboard`
(both real subprocesses), and every figure the API returns is compared with the same figure
computed here directly from the tables with this test's own SQL.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.store import open_store

CLI = [sys.executable, "-m", "chatpulse"]


@dataclass
class Served:
    url: str
    expected: dict[str, Any]
    window: str  # "from=..&to=.." covering the whole capture


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        exc.close()
        return exc.code, json.loads(body) if body.startswith(b"{") else body.decode()


def _expected(dsn: str) -> dict[str, Any]:
    """The figures, straight from the tables (one row per message id: FINAL)."""
    store = open_store(StoreSettings(dsn=dsn))
    try:
        one = store.query(
            "SELECT count() AS messages, uniqExact(user_login) AS chatters, "
            "countIf(sentiment_label = 'positive') AS positive, "
            "countIf(sentiment_label = 'neutral') AS neutral, "
            "countIf(sentiment_label = 'negative') AS negative, avg(sentiment_score) AS mean_score, "
            "toUnixTimestamp64Milli(min(sent_at)) AS first, toUnixTimestamp64Milli(max(sent_at)) AS last "
            "FROM chat_messages FINAL WHERE channel = 'xqcow'"
        )[0]
        one["emotes"] = store.query(
            "SELECT emote_name AS name, count() AS uses FROM chat_emotes FINAL WHERE channel = 'xqcow' "
            "GROUP BY name ORDER BY uses DESC, name LIMIT 5"
        )
        one["chatters_top"] = store.query(
            "SELECT user_login, count() AS messages FROM chat_messages FINAL WHERE channel = 'xqcow' "
            "GROUP BY user_login ORDER BY messages DESC, user_login LIMIT 5"
        )
        one["notices"] = store.query(
            "SELECT notice_type, count() AS n FROM chat_events FINAL WHERE channel = 'xqcow' "
            "AND kind = 'usernotice' GROUP BY notice_type"
        )
        one["cheers"] = store.query(
            "SELECT count() AS n FROM chat_messages FINAL WHERE channel = 'xqcow' AND bits > 0"
        )[0]["n"]
        one["newest"] = [
            r["id"]
            for r in store.query(
                "SELECT id FROM chat_messages FINAL WHERE channel = 'xqcow' "
                "ORDER BY sent_at DESC, id DESC LIMIT 5"
            )
        ][::-1]
        return one
    finally:
        store.close()


@pytest.fixture(scope="module")
def served(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("dashboard-api")
    dsn = f"chdb://{folder / 'db'}"
    capture = shared_data / "replay" / "xqcow-2019-09-15.irc.gz"
    args = ["--replay", str(capture), "--speed", "max", "--no-dashboard", "--store", dsn, "--workers", "1"]
    filled = subprocess.run([*CLI, "run", *args], capture_output=True, text=True, timeout=180, check=False)
    assert filled.returncode == 0, filled.stderr
    expected = _expected(dsn)
    server = subprocess.Popen(
        [*CLI, "dashboard", "--store", dsn, "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, f"no dashboard URL in {first!r}"
        window = f"from={expected['first']}&to={expected['last'] + 1}"
        yield Served(match[0], expected, window)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()


def test_channels_lists_the_capture_with_its_message_count(served: Served) -> None:
    status, body = get(f"{served.url}/api/channels")
    assert status == 200
    assert [(c["channel"], c["messages"]) for c in body["channels"]] == [
        ("xqcow", served.expected["messages"])
    ]


def test_overview_equals_figures_computed_from_chat_messages(served: Served) -> None:
    status, body = get(f"{served.url}/api/overview?channel=xqcow&{served.window}")
    assert status == 200
    totals, expected = body["totals"], served.expected
    for name in ("messages", "chatters", "positive", "neutral", "negative"):
        assert totals[name] == expected[name], name
    assert totals["mean_score"] == pytest.approx(expected["mean_score"], abs=1e-4)
    assert body["per_channel"][0]["messages"] == expected["messages"]


def test_relative_range_ends_at_the_newest_message_of_a_finished_recording(served: Served) -> None:
    status, body = get(f"{served.url}/api/overview?channel=xqcow&range=24h")
    assert status == 200
    assert body["window"]["to"] == served.expected["last"] + 1
    assert body["window"]["live"] is False
    assert body["totals"]["messages"] == served.expected["messages"]


def test_series_buckets_add_up_to_the_total(served: Served) -> None:
    status, body = get(f"{served.url}/api/series?channel=xqcow&{served.window}")
    assert status == 200
    series = body["series"]
    assert sum(row["messages"] for row in series) == served.expected["messages"]
    # Every message with a mood verdict is in the mix (one found not English has none).
    expected = served.expected
    assert sum(row["positive"] + row["neutral"] + row["negative"] for row in series) == (
        expected["positive"] + expected["neutral"] + expected["negative"]
    )
    bucket_ms = body["window"]["bucket_s"] * 1000
    assert all(row["t"] % bucket_ms == 0 for row in series)


def test_top_emotes_and_chatters_match_the_tables(served: Served) -> None:
    _, emotes = get(f"{served.url}/api/emotes?channel=xqcow&limit=5&{served.window}")
    assert [(e["name"], e["uses"]) for e in emotes["emotes"]] == [
        (r["name"], r["uses"]) for r in served.expected["emotes"]
    ]
    twitch = [e for e in emotes["emotes"] if e["provider"] == "twitch"]
    assert twitch and all(
        e["image_url"].startswith("https://static-cdn.jtvnw.net/emoticons/v2/") for e in twitch
    )
    _, chatters = get(f"{served.url}/api/chatters?channel=xqcow&limit=5&{served.window}")
    assert [(c["user_login"], c["messages"]) for c in chatters["chatters"]] == [
        (r["user_login"], r["messages"]) for r in served.expected["chatters_top"]
    ]


def test_events_timeline_counts_every_sub_raid_and_cheer(served: Served) -> None:
    _, body = get(f"{served.url}/api/events?channel=xqcow&limit=2000&{served.window}")
    named = {"sub", "resub", "subgift", "submysterygift", "raid", "announcement"}
    expected_notices = sum(r["n"] for r in served.expected["notices"] if r["notice_type"] in named)
    kinds = [e["type"] for e in body["events"]]
    notice_types = {"sub", "resub", "subgift", "giftbomb", "raid", "announcement"}
    assert sum(kind in notice_types for kind in kinds) == expected_notices > 0
    assert kinds.count("bits") == served.expected["cheers"]
    assert [e["t"] for e in body["events"]] == sorted(e["t"] for e in body["events"])


def test_feed_returns_the_newest_messages_and_pages_with_its_cursor(served: Served) -> None:
    _, first = get(f"{served.url}/api/feed?channel=xqcow&limit=5&{served.window}")
    assert [m["id"] for m in first["messages"]] == served.expected["newest"]
    assert all(m["label"] in ("positive", "neutral", "negative") for m in first["messages"])
    cursor = first["messages"][-1]["cursor"]
    _, after = get(f"{served.url}/api/feed?channel=xqcow&limit=5&after={cursor}&{served.window}")
    assert after["messages"] == []


def test_the_page_and_plotly_are_served_locally(served: Served) -> None:
    with urllib.request.urlopen(f"{served.url}/") as page:  # noqa: S310 - 127.0.0.1 test server
        html = page.read().decode()
        assert "script-src 'self'" in page.headers["content-security-policy"]
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert "/vendor/plotly.min.js" in sources and all(src.startswith("/") for src in sources)
    with urllib.request.urlopen(f"{served.url}/vendor/plotly.min.js") as script:  # noqa: S310
        assert b"plotly.js" in script.read(4096).lower()


def test_status_is_null_without_a_pipeline(served: Served) -> None:
    status, body = get(f"{served.url}/api/status")
    assert status == 200 and body["pipeline"] is None


HOSTILE = [
    "channel=xqcow%27%20OR%201%3D1%20--",
    "channel=xqcow%3B%20DROP%20TABLE%20chat_messages",
    "channel=XQ%C3%87OW",
    "channel=" + "a" * 26,
    "channel=%7Bc0%3AString%7D",
    "channel=xqcow&range=1h%27",
    "channel=xqcow&from=1568505600501&to=now()",
    "channel=xqcow&from=1568505600501",
    "channel=xqcow&limit=-1",
    "channel=xqcow&limit=1%20OR%201",
    "channel=xqcow&after=1%3A%27%20OR%20%271",
    "channel=xqcow&sql=SELECT%201",
]
ENDPOINTS = ["overview", "series", "emotes", "chatters", "events", "hype", "feed"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_parameters_get_400_and_change_nothing(served: Served, endpoint: str, query: str) -> None:
    status, body = get(f"{served.url}/api/{endpoint}?{query}")
    if endpoint != "feed" and "after=" in query:
        assert status == 400 and "unknown parameter" in body["error"]
        return
    if "limit=" in query and endpoint in ("overview", "series"):
        assert status == 400 and "unknown parameter" in body["error"]
        return
    assert status == 400, body
    assert isinstance(body["error"], str) and len(body["error"]) < 160


def test_upper_case_channel_names_read_the_same_channel_as_the_cli_does(served: Served) -> None:
    status, upper = get(f"{served.url}/api/overview?channel=XQCOW&{served.window}")
    assert status == 200 and upper["channels"] == ["xqcow"]
    assert upper["totals"]["messages"] == served.expected["messages"]


def test_the_store_is_intact_after_hostile_requests(served: Served) -> None:
    for query in HOSTILE:
        get(f"{served.url}/api/overview?{query}")
    _, body = get(f"{served.url}/api/overview?channel=xqcow&{served.window}")
    assert body["totals"]["messages"] == served.expected["messages"]


def test_requests_for_another_host_name_are_refused(served: Served) -> None:
    # A page on another site that resolves its own name to 127.0.0.1 (DNS rebinding) is refused.
    status, _ = get(f"{served.url}/api/channels", headers={"Host": "attacker.example"})
    assert status == 400
