"""Twitch as the truth: a local Helix test server (GET /streams, GET /videos?type=archive) with
a channel whose streams start, change category, end and restart, polled by the run's watcher
into a real chDB store holding the real xqcow capture's chat during the first stream. Then
``chatpulse streams`` lists Twitch's streams (hiding the chat session they cover) and the recap
links its moments into the VOD."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import SecretStr

from chatpulse.config import StoreSettings
from chatpulse.errors import AuthenticationError
from chatpulse.irc.twitch import parse_line
from chatpulse.store import ClickHouseSink, open_store
from chatpulse.streams.helix import HelixStreams
from chatpulse.streams.table import list_streams
from chatpulse.streams.tracker import eventsub_stream_event
from chatpulse.streams.watcher import TwitchStreamWatcher
from chatpulse.testing.helix_server import HelixTestServer
from tests.cli import chatpulse
from tests.streams_data import capture_lines, first_sent_ms, shifted

MINUTE_MS = 60_000
T0 = 1_700_000_040_000  # 2023-11-14 22:14 UTC, a minute start in the past


def test_streams_start_change_category_end_and_restart(shared_data: Path, tmp_path: Path) -> None:
    lines = capture_lines(shared_data / "replay" / "xqcow-2019-09-15.irc.gz")
    chat = shifted(lines, T0 + 30_000 - first_sent_ms(lines), "live")  # 30 s into the first stream
    dsn = f"chdb://{tmp_path / 'db'}"
    store = open_store(StoreSettings(dsn=dsn))
    store.migrate()
    sink = ClickHouseSink(store, spool_dir=tmp_path / "spool")
    sink.add([parse_line(line, 0, "irc") for line in chat])
    sink.close()
    clock = [T0]
    with HelixTestServer() as helix:
        client = HelixStreams(helix.client_id, SecretStr(helix.token), helix.helix_url)
        watcher = TwitchStreamWatcher(store, client, lambda: ["xqcow", "nymn"], clock=lambda: clock[0])

        helix.go_live("xqcow", "40001", "Morning chat", "Just Chatting", T0)
        clock[0] = T0 + MINUTE_MS
        [opened] = watcher.poll_once()
        assert (opened.stream_id, opened.ended_at, opened.category, opened.vod_id) == (
            "40001", None, "Just Chatting", "900040001",
        )  # fmt: skip
        assert watcher.poll_once() == [opened]  # nothing changed: the live stream's figures refreshed

        helix.change("xqcow", category="Overwatch", title="Ranked")
        clock[0] = T0 + 5 * MINUTE_MS
        [moved] = watcher.poll_once()
        assert moved.category_names == ("Just Chatting", "Overwatch")
        assert moved.category_times == (T0, T0 + 5 * MINUTE_MS) and moved.title == "Ranked"

        helix.end("xqcow")
        clock[0] = T0 + 9 * MINUTE_MS
        [ended] = watcher.poll_once()
        assert ended.ended_at == T0 + 9 * MINUTE_MS
        messages = sum(1 for line in lines if " PRIVMSG #xqcow " in line)
        assert ended.figures.messages == messages  # all the chat fell inside the stream

        helix.go_live("xqcow", "40002", "Evening", "Chess", T0 + 60 * MINUTE_MS)
        clock[0] = T0 + 61 * MINUTE_MS
        assert [r.stream_id for r in watcher.poll_once()] == ["40002"]
        helix.go_live("xqcow", "40003", "Evening, again", "Chess", T0 + 90 * MINUTE_MS)  # a restart
        clock[0] = T0 + 91 * MINUTE_MS
        restarted = watcher.poll_once()
        assert [(r.stream_id, r.ended_at) for r in restarted] == [
            ("40002", T0 + 90 * MINUTE_MS),
            ("40003", None),
        ]

        stored = {r.stream_id: r for r in list_streams(store, "xqcow") if r.source == "twitch"}
        assert sorted(stored) == ["40001", "40002", "40003"] and stored["40003"].ended_at is None
        assert stored["40001"].vod_id == "900040001" and stored["40001"].figures.messages == messages

        # A fresh watcher (a restarted run) carries on with the stream left open.
        again = TwitchStreamWatcher(store, client, lambda: ["xqcow"], clock=lambda: clock[0])
        assert [(r.stream_id, r.ended_at) for r in again.poll_once()] == [("40003", None)]
        helix.end("xqcow")
        clock[0] = T0 + 95 * MINUTE_MS
        assert [(r.stream_id, r.ended_at) for r in again.poll_once()] == [("40003", T0 + 95 * MINUTE_MS)]

        wrong = HelixStreams(helix.client_id, SecretStr("not-the-token"), helix.helix_url)
        try:
            wrong.live(["xqcow"])
        except AuthenticationError as exc:
            assert "not-the-token" not in str(exc)
        else:
            raise AssertionError("a wrong token was accepted")
        assert all(path in ("/helix/streams", "/helix/videos") for path, _ in helix.requests)
    store.close()

    listed = json.loads(chatpulse(tmp_path, "streams", "--channel", "xqcow", "--json", "--store", dsn).stdout)
    assert [(s["id"], s["source"]) for s in listed] == [
        ("40003", "twitch"),
        ("40002", "twitch"),
        ("40001", "twitch"),
    ]
    done = chatpulse(tmp_path, "recap", "--channel", "xqcow", "--stream", "40001", "--json", "--store", dsn)
    recap = json.loads(done.stdout)
    assert recap["stream"]["category"] == "Overwatch" and recap["summary"]["messages"] == messages
    peak = recap["summary"]["peak_at"]
    hours, rest = divmod(peak["offset_s"], 3600)
    assert peak["vod_url"] == f"https://www.twitch.tv/videos/900040001?t={hours}h{rest // 60}m{rest % 60}s"
    assert all(
        e["vod_url"].startswith("https://www.twitch.tv/videos/900040001?t=0h") for e in recap["events"]
    )


def test_eventsub_stream_notifications_map_to_stream_events() -> None:
    online = {
        "metadata": {"message_type": "notification", "subscription_type": "stream.online",
                     "message_timestamp": "2023-07-19T14:56:51.634234626Z"},
        "payload": {"event": {"id": "9001", "broadcaster_user_id": "1337", "broadcaster_user_login": "XQCow",
                              "type": "live", "started_at": "2023-07-19T14:56:51.634234626Z"}},
    }  # fmt: skip
    offline = {
        "metadata": {"message_type": "notification", "subscription_type": "stream.offline",
                     "message_timestamp": "2023-07-19T18:00:00.5Z"},
        "payload": {"event": {"broadcaster_user_id": "1337", "broadcaster_user_login": "xqcow"}},
    }  # fmt: skip
    assert eventsub_stream_event(online) == ("online", "xqcow", "9001", 1689778611634)
    assert eventsub_stream_event(offline) == ("offline", "xqcow", "", 1689789600500)
    assert eventsub_stream_event({"metadata": {"message_type": "session_keepalive"}, "payload": {}}) is None


def test_run_watches_twitch_only_for_live_twitch_sources_with_credentials(tmp_path: Path) -> None:
    from chatpulse.config import load_settings
    from chatpulse.streams.watcher import twitch_watcher

    class Live:
        name = "irc"
        channels = ("xqcow",)

    class Replay:
        name = "replay"

    store = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'db'}"))
    store.migrate()
    try:
        env = {"TWITCH_CLIENT_ID": "app", "TOKEN": "oauth:secret-token"}
        settings = load_settings(env_file=None, environ=env)
        watcher = twitch_watcher(settings, store, Live(), lambda: ())
        assert watcher is not None and list(watcher.channels()) == ["xqcow"]
        assert twitch_watcher(settings, store, Replay(), lambda: ()) is None
        anonymous = load_settings(env_file=None, environ={})
        assert twitch_watcher(anonymous, store, Live(), lambda: ()) is None
    finally:
        store.close()
