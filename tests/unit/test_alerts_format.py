"""Alert bodies for Discord, Slack and plain JSON; webhook URLs as settings and in logs."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from chatpulse.alerts.detect import Alert, VodRef
from chatpulse.alerts.format import default_format, render, summary
from chatpulse.alerts.setup import reachable
from chatpulse.alerts.urls import check_url, redact
from chatpulse.config import load_settings
from chatpulse.errors import ConfigError

AT = 1_568_505_612_345  # 2019-09-15T00:00:12.345Z
HYPE = Alert(
    "hype",
    "xqcow",
    AT,
    {"messages": 412, "seconds": 38.5, "baseline_per_min": 79.0, "bar": 114.6, "score": 37.5, "ratio": 5.2},
    minute_ms=AT - 12_345,
)
# A raider's display name comes from chat: it may try to ping everyone or inject markup.
RAID = Alert("raid", "nymn", AT, {"viewers": 1200, "from": "@everyone <!channel> & co"})
DISCORD = "https://discord.com/api/webhooks/123456/s3cr3t-t0ken"
SLACK = "https://hooks.slack.com/services/T000/B000/s3cr3t"


def test_the_format_follows_the_webhooks_host() -> None:
    assert default_format(DISCORD) == "discord"
    assert default_format("https://discordapp.com/api/webhooks/1/x") == "discord"
    assert default_format(SLACK) == "slack"
    assert default_format("https://alerts.example.org/chatpulse") == "json"


def test_plain_json_says_channel_what_when_the_numbers_and_the_dashboard_link() -> None:
    body = render(HYPE, "json", "http://127.0.0.1:8080")
    assert body["kind"] == "hype"
    assert body["channel"] == "xqcow"
    assert body["at"] == "2019-09-15T00:00:12.345Z"
    assert body["minute"] == "2019-09-15T00:00:00.000Z"
    assert body["numbers"]["messages"] == 412
    assert body["summary"] == "Hype in #xqcow: 412 messages in 38.5 s, 5.2x its baseline of 79.0/min"
    link = urlsplit(body["dashboard_url"])
    query = parse_qs(link.query)
    assert (link.netloc, query["channel"]) == ("127.0.0.1:8080", ["xqcow"])
    assert int(query["from"][0]) < AT < int(query["to"][0])
    assert body["vod"] is None
    json.dumps(body)  # serialisable as is


def test_a_vod_time_appears_once_streams_know_it() -> None:
    alert = Alert("hype", "xqcow", AT, HYPE.numbers, vod=VodRef("2231234567", 3723))
    body = render(alert, "json", None)
    assert body["vod"]["url"] == "https://www.twitch.tv/videos/2231234567?t=1h2m3s"
    assert body["dashboard_url"] is None
    fields = render(alert, "discord", None)["embeds"][0]["fields"]
    assert {"name": "VOD", "value": body["vod"]["url"], "inline": False} in fields


def test_discord_body_has_content_an_embed_and_pings_nobody() -> None:
    body = render(RAID, "discord", "http://stream-pc:8080/")
    assert body["content"] == summary(RAID)
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["title"] == "Raid in #nymn"
    assert embed["timestamp"] == "2019-09-15T00:00:12.345Z"
    assert embed["url"].startswith("http://stream-pc:8080/?channel=nymn&")
    assert {"name": "viewers", "value": "1200", "inline": True} in embed["fields"]


def test_slack_body_escapes_chat_text() -> None:
    body = render(RAID, "slack", None)
    assert body["text"] == "Raid on #nymn: 1200 viewers from @everyone &lt;!channel&gt; &amp; co"
    section = body["blocks"][0]["text"]["text"]
    assert "<!channel>" not in section and "&lt;!channel&gt;" in section
    assert body["blocks"][1]["type"] == "context"


def test_long_chat_names_are_clipped_to_discords_limits() -> None:
    alert = Alert("gift_bomb", "nymn", AT, {"gifts": 50, "from": "x" * 5000})
    body = render(alert, "discord", None)
    assert len(body["content"]) <= 2000
    assert all(len(f["value"]) <= 1024 for f in body["embeds"][0]["fields"])


def test_links_from_a_wildcard_bind_name_this_machine() -> None:
    assert reachable("http://0.0.0.0:8080", "stream-pc") == "http://stream-pc:8080"
    assert reachable("http://[::]:8080", "stream-pc") == "http://stream-pc:8080"
    assert reachable("http://127.0.0.1:8080", "stream-pc") == "http://127.0.0.1:8080"


def test_redacted_urls_keep_the_host_and_hide_the_token() -> None:
    assert redact(DISCORD) == "https://discord.com/…"
    assert redact("http://user:pw@127.0.0.1:8099/hook?token=abc") == "http://127.0.0.1:8099/…"
    assert check_url(DISCORD) is None
    assert check_url("ftp://host/secret") is not None
    assert check_url("https://host:99999/secret") == "not a valid URL"
    assert check_url("https://host/a b") == "must not contain spaces or control characters"


def test_webhooks_from_the_environment_and_the_config_file(tmp_path: Path) -> None:
    settings = load_settings(env_file=None, environ={"CHATPULSE_ALERTS__WEBHOOKS": f"{DISCORD} {SLACK}"})
    assert [w.url.get_secret_value() for w in settings.alerts.webhooks] == [DISCORD, SLACK]
    assert "s3cr3t" not in repr(settings)
    config = tmp_path / "chatpulse.yaml"
    config.write_text(
        f"alerts:\n  webhooks:\n    - url: {SLACK}\n      kinds: [hype, raid]\n    - {DISCORD}\n"
        "  raid_min_viewers: 500\n  dashboard_url: http://stream-pc:8080\n",
        encoding="utf-8",
    )
    settings = load_settings(config, env_file=None, environ={})
    first, second = settings.alerts.webhooks
    assert (first.kinds, second.kinds, second.format) == (("hype", "raid"), (), "auto")
    assert settings.alerts.raid_min_viewers == 500


def test_a_bad_webhook_url_names_the_setting_never_the_url() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None, environ={"CHATPULSE_ALERTS__WEBHOOKS": "ftp://example.org/s3cr3t"})
    assert "alerts.webhooks.0.url" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)
