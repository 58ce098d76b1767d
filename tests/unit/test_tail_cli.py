"""``chatpulse tail``: how chat looks, and how bad usage is reported."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from chatpulse.cli import main
from chatpulse.cli.tail import render_event, user_color
from chatpulse.events import CoverageEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.replay import iter_lines

T0 = 1_568_505_600_501  # 2019-09-15T00:00:00.501Z
PRIVMSG = (
    "@badge-info=;badges=;color=#FF0000;display-name=Alice;emotes=25:6-10;id=m1;room-id=1;"
    f"tmi-sent-ts={T0};user-id=7 :alice!alice@alice.tmi.twitch.tv PRIVMSG #xqcow :hello Kappa !"
)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_message_shows_time_channel_colored_user_and_highlighted_emote() -> None:
    line = render_event(parse_line(PRIVMSG, T0), UTC)
    assert line is not None
    assert line.plain == "00:00:00 #xqcow Alice: hello Kappa !"
    styles = {line.plain[span.start : span.end]: str(span.style) for span in line.spans}
    assert "#ff0000" in styles["Alice"].lower()
    assert "magenta" in styles["Kappa"]
    assert "hello" not in styles  # plain text stays plain


def test_user_without_color_gets_a_stable_one() -> None:
    assert user_color("bob", None) == user_color("bob", "")
    assert user_color("bob", "#00FF00") == "#00FF00"
    assert user_color("bob", "red; injected") == user_color("bob", None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            f"@msg-id=sub;system-msg=bob\\ssubscribed\\sat\\sTier\\s1.;login=bob;tmi-sent-ts={T0} "
            ":tmi.twitch.tv USERNOTICE #xqcow :first sub!",
            "★ bob subscribed at Tier 1. first sub!",
        ),
        (
            f"@ban-duration=600;tmi-sent-ts={T0} :tmi.twitch.tv CLEARCHAT #xqcow :troll",
            "⛔ troll timed out for 600s",
        ),
        (f"@tmi-sent-ts={T0} :tmi.twitch.tv CLEARCHAT #xqcow :troll", "⛔ troll banned"),
        (f"@tmi-sent-ts={T0} :tmi.twitch.tv CLEARCHAT #xqcow", "⛔ chat cleared by a moderator"),
        (
            f"@login=bob;target-msg-id=m9;tmi-sent-ts={T0} :tmi.twitch.tv CLEARMSG #xqcow :oops",
            "✂ message by bob deleted: oops",
        ),
        ("@msg-id=slow_on :tmi.twitch.tv NOTICE #xqcow :This room is now in slow mode.", "ⓘ NOTICE This"),
        ("@a=b", "!! unparseable line (no space after tags): @a=b"),
    ],
)
def test_notices_bans_subs_and_errors_are_marked(raw: str, expected: str) -> None:
    line = render_event(parse_line(raw, T0), UTC)
    assert line is not None
    assert expected in line.plain


def test_coverage_gaps_are_shown() -> None:
    down = CoverageEvent(
        received_at=T0, source="irc", channel="xqcow", state="disconnected", reason="no PONG"
    )
    line = render_event(down, UTC)
    assert line is not None and line.plain.endswith("not receiving chat: no PONG")


def test_protocol_chatter_only_with_show_all() -> None:
    roomstate = parse_line("@room-id=1 :tmi.twitch.tv ROOMSTATE #xqcow", T0)
    assert render_event(roomstate, UTC) is None
    shown = render_event(roomstate, UTC, show_all=True)
    assert shown is not None and "roomstate" in shown.plain


@pytest.mark.parametrize("name", ["bad name!", "x" * 26, "#", "ünïcode"])
def test_bad_channel_exits_2_with_one_line(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["tail", "--channel", name], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "invalid channel name" in err


def test_two_sources_at_once_is_bad_usage(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chat.irc").write_text(PRIVMSG + "\n", encoding="utf-8")
    code, _, err = run_cli(["tail", "--channel", "xqc", "--replay", "chat.irc"], capsys)
    assert code == 2 and "--channel and --replay" in err


def test_bad_speed_is_bad_usage(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chat.irc").write_text(PRIVMSG + "\n", encoding="utf-8")
    code, _, err = run_cli(["tail", "--replay", "chat.irc", "--speed", "fast"], capsys)
    assert code == 2 and "--speed" in err


def test_replay_prints_every_message_of_a_recording(
    shared_data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    recording = shared_data / "replay" / "nymn-2024-01-06.json"
    code, out, err = run_cli(["tail", "--replay", str(recording), "--speed", "max", "--no-color"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines and all(" #nymn " in line for line in lines)
    assert "0 unparseable" in err
    messages = [e for e in (parse_line(raw, 0) for raw in iter_lines(recording)) if e.kind == "message"]
    assert f" {len(messages)} messages" in err
    shown = iter(lines)  # every message appears, in order, with its author
    for event in messages:
        assert event.kind == "message"
        name = getattr(event, "user_name", "")
        assert any(name in line for line in shown), name


def test_synthetic_chat_stops_after_duration(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["tail", "--synthetic", "--duration", "0.5", "--no-color"], capsys)
    assert code == 0
    assert len(out.splitlines()) > 5
    assert "tail:" in err
