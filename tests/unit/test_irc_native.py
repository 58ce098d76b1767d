"""The native ``split_irc`` (chatpulse/irc/_fastirc.c) against the pure-Python one, differentially.

Both must give the same ``(tags, prefix, command, params)`` - tag order included - or raise the
same exception with the same message, for: every shared vector and tag-unescape case, every line
of both real captures, hypothesis-made strings (lone surrogates, NULs, CR/LF, every PEP 393
width), and huge lines. The native module is optional at install time, so these tests skip when
it is missing - except under CI (``CI=true``), where ``make test`` installs it and a missing
build is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatpulse.errors import IrcParseError
from chatpulse.irc import twitch
from chatpulse.irc.parser import IrcParts, python_split_irc
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.replay import iter_lines
from chatpulse.wire import to_wire
from tests.conftest import PROJECT_ROOT, SHARED_DATA

Split = Callable[[str, bool], IrcParts]
DIFF_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


VECTOR_LINES = [record["raw"] for record in _jsonl(SHARED_DATA / "irc" / "vectors.jsonl")]
TAG_LINES = [
    f"@key={case['value_raw']} PING" if "value_raw" in case else f"@{case['tags_raw']} :tmi.twitch.tv PING"
    for case in _jsonl(SHARED_DATA / "irc" / "tag_unescape_cases.jsonl")
]
# Appended to a line, each forces another string representation of the whole line: Latin-1
# (1 byte), BMP (2 bytes), astral (4 bytes), and a lone surrogate (only a str can hold one).
WIDENERS = ["", "\xe9", "\u20ac", "\U0001f600", "\udc80"]


@pytest.fixture(scope="module")
def native() -> Split:
    try:
        from chatpulse.irc._fastirc import split_irc
    except ImportError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the native parser is not built, but CI installs it (pip install -e .): {exc}")
        pytest.skip("the native parser is not built (pip install -e . with a C compiler builds it)")
    return split_irc


def _outcome(split: Split, line: str, strict: bool) -> tuple[Any, ...]:
    """What a caller can observe: the parts with their types and tag order, or the error."""
    try:
        tags, prefix, command, params = split(line, strict)
    except Exception as exc:
        return ("raised", type(exc), str(exc))
    return ("parsed", type(tags), list(tags.items()), prefix, command, type(params), params)


def _assert_same(native: Split, line: str) -> None:
    for strict in (True, False):
        expected = _outcome(python_split_irc, line, strict)
        assert _outcome(native, line, strict) == expected, (line, strict)


def test_every_shared_vector_and_tag_case_in_every_width(native: Split) -> None:
    assert len(VECTOR_LINES) == 226 and len(TAG_LINES) == 34
    for line in VECTOR_LINES + TAG_LINES:
        for widener in WIDENERS:
            _assert_same(native, line + widener)


# Each error the grammar knows, its boundaries, and a malformed command longer than the 20
# characters the message quotes.
EDGE_LINES = [
    "", " ", "@", "@ ", "@a", "@ PING", "@;;= PING", ":", ": ", ":p", ":p ", ": PING", "PING", "ping",
    "PING ", "PING  x", "PING :", "PING :x :y", "PING x  :y", "12 x", "1234 x", "001", "a1 x", "x\r",
    "x\ny", "CAP\x00 x", "bad-command-name-longer-than-twenty-characters x", "@k=\\ PING", "@k=v\\\\ PING",
    # prefixes: every empty nick, user or host, and the "!"/"@" orders around them
    ":a@ PING", ":a!@b PING", ":!a@b PING", ":@b PING", ":a! PING", ":a!b@ PING", ":a@b!c PING", ":a@b@ PING",
    ":a!b!c@d PING", ":! PING", ":@ PING", ":!@ PING", ":@! PING", ":a@! PING", ":coolguy@127.0.0.1 PING",
]  # fmt: skip


def test_edge_lines_in_every_width(native: Split) -> None:
    for line in EDGE_LINES:
        for widener in WIDENERS:
            _assert_same(native, line + widener)
            _assert_same(native, widener + line)


@pytest.mark.parametrize("capture", ["xqcow-2019-09-15.irc.gz", "nymn-2024-01-06.json"])
def test_every_line_of_the_real_captures(native: Split, shared_data: Path, capture: str) -> None:
    lines = list(iter_lines(shared_data / "replay" / capture))
    assert len(lines) in (5000, 800)
    for line in lines:
        _assert_same(native, line)


def test_parse_line_builds_the_same_events_on_either_parser(
    native: Split, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = list(iter_lines(shared_data / "replay" / "nymn-2024-01-06.json"))
    monkeypatch.setattr(twitch, "split_irc", native)
    with_native = [to_wire(parse_line(line, 1, "replay")) for line in lines]
    monkeypatch.setattr(twitch, "split_irc", python_split_irc)
    with_python = [to_wire(parse_line(line, 1, "replay")) for line in lines]
    assert with_native == with_python


# Pieces of IRC grammar, so random strings reach every branch (tags, escapes, prefix, spacing).
GRAMMAR = ["@", ":", " ", "  ", " :", ";", "=", "\\", "\\s", "\\:", "\\\\", "\r", "\n", "\x00", "a", "Z"]
GRAMMAR += ["PRIVMSG", "privmsg", "PING", "001", "1234", "#chan", "nick!u@h", "key=value", "\udfff"]
GRAMMAR += ["!", "@", ":n@h ", ":n! ", ":n!@h "]
# Any code point, with lone surrogates, NUL and each PEP 393 width drawn often rather than rarely.
any_character = st.characters(exclude_categories=()) | st.sampled_from(
    ["\ud800", "\udc80", "\x00", "\xe9", "\u20ac", "\U0001f600"]
)
grammar_shaped = st.lists(st.sampled_from(GRAMMAR) | st.text(any_character, max_size=3), max_size=30).map(
    "".join
)


@DIFF_SETTINGS
@given(st.text(any_character, max_size=80))
def test_any_string(native: Split, line: str) -> None:
    _assert_same(native, line)


@DIFF_SETTINGS
@given(grammar_shaped)
def test_grammar_shaped_strings(native: Split, line: str) -> None:
    _assert_same(native, line)


@DIFF_SETTINGS
@given(
    st.dictionaries(st.text(any_character, max_size=8), st.text(any_character, max_size=12), max_size=6),
    st.sampled_from(["", ":nick!u@h ", ":tmi.twitch.tv ", ": ", ":x  "]),
    st.sampled_from(["PRIVMSG", "privmsg", "CAP", "001", "12", "PRIV MSG", "", "Ä"]),
    st.lists(st.text(any_character, max_size=6), max_size=4),
    st.sampled_from(["", " :", " :trailing text", " ::x", "  :", " "]),
)
def test_line_shaped_strings(
    native: Split, tags: dict[str, str], prefix: str, command: str, middles: list[str], trailing: str
) -> None:
    block = ";".join(f"{key}={value}" for key, value in tags.items())
    head = " ".join([command, *middles])
    _assert_same(native, f"@{block} {prefix}{head}{trailing}")
    _assert_same(native, f"{prefix}{head}{trailing}")


def test_huge_lines(native: Split) -> None:
    # Values long enough to be unescaped through a heap buffer rather than the stack one.
    escaped = "\\s" * 100_000 + ";one=" + "x" * 5_000 + "\\:"
    tags = ";".join(f"key{i}=value{i}\\:{'x' * (i % 50)}" for i in range(20_000))
    for widener in WIDENERS:
        for line in (
            f"@{tags};long={escaped}{widener} :{'n' * 100_000}!u@h PRIVMSG #c :{'text ' * 200_000}",
            "A" * 1_000_000 + widener,  # one huge command
            "a" * 1_000_000 + " " + "p " * 100_000 + ":" + widener,
            "@" + "k" * 1_000_000 + widener,  # no space after tags
        ):
            _assert_same(native, line)


def test_keywords_and_wrong_types_behave_like_python(native: Split) -> None:
    call: Any = native
    for line in ("PING  x", "ping x", "@a=\\s :p PRIVMSG #c :hi"):
        for strict in (True, False):
            by_keyword = _outcome(lambda text, flag: call(line=text, strict=flag), line, strict)
            assert by_keyword == _outcome(python_split_irc, line, strict)
        by_default = _outcome(lambda text, _: call(text), line, False)
        assert by_default == _outcome(python_split_irc, line, False)  # strict defaults to False
    for wrong in (b"PING", None, 7):
        with pytest.raises(TypeError):
            python_split_irc(wrong, True)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            call(wrong, True)
    with pytest.raises(TypeError):
        call("PING", True, "extra")
    with pytest.raises(TypeError):
        call("PING", line="PING")
    with pytest.raises(TypeError):
        call(strict=True)


def test_no_memory_is_kept_across_calls(native: Split) -> None:
    """A leaked reference per call (on success or on any error path) would grow memory steadily."""
    lines = VECTOR_LINES[:40] + [
        "@a=1 :p PRIVMSG  #c :x",  # too many spaces (after tags and prefix were built)
        "@a=b\\sc;d=" + "\\s" * 300 + " :p bad! x",  # malformed command after a heap unescape
        "@ x",
        ":p",
        "@a=1",
        "x\r",
        "PRIVMSG #c :\U0001f600",
    ]

    def parse_all() -> None:
        for line in lines:
            for strict in (True, False):
                with contextlib.suppress(IrcParseError):  # the error paths are the point
                    native(line, strict)

    for _ in range(50):  # warm every cache (tag keys, interned commands, free lists)
        parse_all()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(500):
            parse_all()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, f"{grown:,} bytes kept after {500 * len(lines) * 2:,} calls"


def _implementation_chosen(environment: dict[str, str]) -> str:
    code = "from chatpulse.irc import parser, twitch; print(parser.SPLIT_IRC_IMPLEMENTATION, "
    code += "twitch.split_irc is parser.python_split_irc)"
    env = {k: v for k, v in os.environ.items() if k != "CHATPULSE_PURE_PYTHON"} | environment
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_native_parser_is_used_unless_pure_python_is_asked_for(native: Split) -> None:
    assert _implementation_chosen({}) == "native False"
    assert _implementation_chosen({"CHATPULSE_PURE_PYTHON": "1"}) == "python True"
