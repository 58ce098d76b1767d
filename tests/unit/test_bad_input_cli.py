"""Bad input as a new user meets it: a missing, binary or malformed file given to any command, a
broken ``.env`` or ``--config``. Each gives one line naming the file and the problem, exit 2,
no traceback, and nothing stored or created."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from chatpulse.recording import SNIFF_BYTES, sniff_recording
from tests.cli import chatpulse, one_line

BINARY = bytes(range(256)) * 8  # NULs and invalid UTF-8: a file that was never chat
GOOD_LINE = "@tmi-sent-ts=1568505600000 :ann!ann@ann.tmi.twitch.tv PRIVMSG #demo :Kappa hello\n"


# --- configuration files -------------------------------------------------------------------------


def test_a_dotenv_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"NICKNAME=ann\nPORT=\xff\xfe\n")
    line = one_line(chatpulse(tmp_path, "sentiment", "-", stdin="hello\n"))
    assert ".env line 2" in line and "UTF-8" in line


def test_a_binary_config_file_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "settings.bin").write_bytes(BINARY)
    line = one_line(chatpulse(tmp_path, "sentiment", "--config", "settings.bin", "-", stdin="hi\n"))
    assert "config file settings.bin" in line and "not a text file" in line


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("sentiment:\n  analyzer: lexicon\n  batch_size: [1\n")
    line = one_line(chatpulse(tmp_path, "sentiment", "--config", "c.yaml", "-", stdin="hi\n"))
    assert "config file c.yaml line" in line and "not valid YAML" in line


def test_bad_dotenv_lines_are_our_warnings_naming_file_line_and_setting(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text('NICKNAME=ann\nthis is not a setting\nTOKEN="oauth:sekrit\n')
    result = chatpulse(tmp_path, "sentiment", "-", stdin="good game\n")
    assert result.returncode == 0 and json.loads(result.stdout)["text"] == "good game"
    assert "Python-dotenv" not in result.stderr  # the library's own wording stays out
    assert ".env line 2: not a KEY=VALUE line; ignored" in result.stderr
    assert ".env line 3 (TOKEN, setting twitch.token)" in result.stderr
    assert "sekrit" not in result.stderr  # a .env holds secrets: values never appear


def test_a_web_port_in_dotenv_is_said_to_go_to_twitch_irc(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=8080\n")
    result = chatpulse(tmp_path, "sentiment", "-", stdin="hi\n")
    assert result.returncode == 0
    assert "PORT=8080 went to the Twitch IRC port (setting twitch.port)" in result.stderr


@pytest.mark.parametrize("dotenv", ["PORT=6697\n", "PORT=6667\n", "SERVER=127.0.0.1\nPORT=8080\n"])
def test_irc_ports_and_own_servers_give_no_port_warning(tmp_path: Path, dotenv: str) -> None:
    (tmp_path / ".env").write_text(dotenv)
    result = chatpulse(tmp_path, "sentiment", "-", stdin="hi\n")
    assert result.returncode == 0 and "PORT" not in result.stderr


# --- input files ---------------------------------------------------------------------------------


def test_sentiment_on_a_missing_or_binary_file(tmp_path: Path) -> None:
    assert one_line(chatpulse(tmp_path, "sentiment", "absent.txt")) == "chatpulse: absent.txt: no such file"
    (tmp_path / "blob.bin").write_bytes(BINARY)
    line = one_line(chatpulse(tmp_path, "sentiment", "blob.bin"))
    assert line.startswith("chatpulse: blob.bin: not a text file")


def test_sentiment_reports_broken_json_as_its_help_says(tmp_path: Path) -> None:
    result = chatpulse(tmp_path, "sentiment", "-", stdin="{bad json\nnice one\n")
    assert result.returncode == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(rows[0]) == {"error", "raw"} and rows[0]["raw"] == "{bad json"
    assert rows[1]["text"] == "nice one" and "1 bad lines" in result.stderr


@pytest.mark.parametrize("command", [["parse"], ["run", "--no-dashboard", "--replay"], ["tail", "--replay"]])
def test_a_missing_recording_exits_2_in_the_same_words(tmp_path: Path, command: list[str]) -> None:
    line = one_line(chatpulse(tmp_path, *command, "absent.irc"))
    assert line.startswith("chatpulse: ") and line.endswith("absent.irc: no such file")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("blob.bin", BINARY, "binary data"),
        ("blob.irc.gz", gzip.compress(BINARY), "binary data"),
        ("broken.gz", b"\x1f\x8bnot really gzip", "a broken gzip file"),
        ("latin1.irc", GOOD_LINE.encode() + "Grüße\n".encode("latin-1"), "not UTF-8 text"),
        ("notes.txt", b"hello world\nthis is a shopping list\n", "first line is not IRC"),
    ],
)
@pytest.mark.parametrize("command", [["parse"], ["run", "--no-dashboard", "--replay"], ["tail", "--replay"]])
def test_a_file_that_is_not_a_recording_is_refused_before_anything_is_stored(
    tmp_path: Path, command: list[str], name: str, content: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(content)
    store = tmp_path / "store"
    line = one_line(chatpulse(tmp_path, *command, name, "--store", f"chdb://{store}")
                    if command[0] == "run" else chatpulse(tmp_path, *command, name))  # fmt: skip
    assert name in line and "not a chat recording" in line and reason in line
    assert not store.exists()  # nothing opened, nothing created


def test_recordings_still_replay(tmp_path: Path, shared_data: Path) -> None:
    long_tags = "@" + ";".join(f"k{i}=v{i}" for i in range(400)) + " :a!a@a.tmi.twitch.tv PRIVMSG #c :hi\n"
    (tmp_path / "long.irc").write_text(long_tags + GOOD_LINE)  # a first line longer than the sniff
    (tmp_path / "ping.irc").write_text("PING :tmi.twitch.tv\n" + GOOD_LINE)
    for file in ["long.irc", "ping.irc", str(shared_data / "replay" / "xqcow-2019-09-15.irc.gz")]:
        result = chatpulse(tmp_path, "parse", file)
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("\n") >= 2


def test_a_character_cut_by_the_sniff_is_not_refused() -> None:
    head = (GOOD_LINE * 20).replace("hello", "h\u00e9llo").encode()[:SNIFF_BYTES]
    cut = head.rindex(b"\xc3") + 1  # just after the first of the two bytes of an "\u00e9"
    assert sniff_recording(head[:cut], complete=False) is None
    assert sniff_recording(head[: cut - 1] + b"\xff", complete=False) is not None


@pytest.mark.parametrize(
    ("args", "env", "label"),
    [
        (["tail", "--channels-file", "blob.bin"], {}, "--channels-file blob.bin"),
        (["run", "--demo", "--no-dashboard", "--kafka", "blob.bin"], {}, "kafka.properties_file blob.bin"),
        (["sentiment", "-"], {"CHATPULSE_SENTIMENT__LEXICON": "blob.bin"}, "Twitch lexicon blob.bin"),
    ],
)  # fmt: skip
def test_every_text_file_a_setting_names_refuses_binary_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], label: str
) -> None:
    (tmp_path / "blob.bin").write_bytes(BINARY)
    line = one_line(chatpulse(tmp_path, *args, stdin="hi\n", env=env))
    assert line.startswith(f"chatpulse: {label}")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["parse", "."], "chatpulse parse: Invalid value for '[FILE]': File '.' is a directory."),
        (["run", "--bogus"], "chatpulse run: No such option '--bogus'."),
        (["query"], "chatpulse query: Missing argument 'SQL'."),
    ],
)
def test_usage_errors_are_one_line_naming_the_problem(tmp_path: Path, args: list[str], expected: str) -> None:
    line = one_line(chatpulse(tmp_path, *args))
    assert line.startswith(expected) and line.endswith(f"(see chatpulse {args[0]} --help)")
