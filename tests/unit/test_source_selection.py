"""Choosing the live chat path (--source) and reading channel lists from a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatpulse.cli import main
from chatpulse.config import load_settings
from chatpulse.errors import ConfigError
from chatpulse.sources.channels import read_channel_file
from chatpulse.sources.dedupe import MergedSource
from chatpulse.sources.eventsub.source import EventSubSource
from chatpulse.sources.select import build_source
from chatpulse.sources.twitch_irc.source import TwitchIrcSource

EVENTSUB_ENV = {"TWITCH_CLIENT_ID": "abc123", "TOKEN": "oauth:sekrit-token-value", "NICKNAME": "me"}


@pytest.mark.parametrize(
    ("source", "expected"), [("irc", TwitchIrcSource), ("eventsub", EventSubSource), ("both", MergedSource)]
)
def test_source_setting_picks_the_live_path(source: str, expected: type) -> None:
    settings = load_settings(env_file=None, environ=EVENTSUB_ENV, overrides={"twitch.source": source})
    assert isinstance(build_source(settings, channels=["xqc"]), expected)


def test_eventsub_without_client_id_exits_2_without_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env or chatpulse.yaml here
    monkeypatch.setenv("TOKEN", "oauth:sekrit-token-value")
    monkeypatch.setenv("NICKNAME", "me")
    monkeypatch.delenv("TWITCH_CLIENT_ID", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["tail", "--source", "eventsub", "--channel", "xqc", "--duration", "1"])
    assert exit_info.value.code == 2
    out = capsys.readouterr()
    assert "client" in out.err.lower()
    assert "sekrit" not in out.out + out.err


def test_channel_file_reads_names_comments_and_commas(tmp_path: Path) -> None:
    listing = tmp_path / "channels.txt"
    listing.write_text("# big ones\nxqc\nNymN, forsen  # trailing comment\n\nxqc\n", encoding="utf-8")
    assert read_channel_file(listing) == ("xqc", "nymn", "forsen")


def test_channel_file_names_the_bad_line(tmp_path: Path) -> None:
    listing = tmp_path / "channels.txt"
    listing.write_text("xqc\nnot a channel!\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2"):
        read_channel_file(listing)


def test_missing_channel_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["tail", "--channels-file", str(tmp_path / "nope.txt")])
    assert exit_info.value.code == 2
    assert "nope.txt" in capsys.readouterr().err
