"""All cases of ../shared/data/irc/tag_unescape_cases.jsonl against parse_tags / unescape_tag_value.

Two shapes: ``tags_raw`` -> ``expect_tags`` (a whole tag block) and ``value_raw`` ->
``expect_value`` (one escaped value). Where dank-twitch-irc's expectations follow its own
conventions rather than IRCv3 (flagged by the record's ``note``), the spec is followed:

- a value-less tag (``key``) is ``null`` there; IRCv3 message-tags makes it equivalent to an
  empty value, and ours is ``""``;
- dank-twitch-irc lower-cases keys; IRCv3 does not, and ours keeps keys as sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chatpulse.irc.parser import parse_irc, parse_tags, unescape_tag_value
from tests.conftest import SHARED_DATA

CASES_PATH = SHARED_DATA / "irc" / "tag_unescape_cases.jsonl"
CASES: list[dict[str, Any]] = (
    [json.loads(line) for line in CASES_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    if CASES_PATH.is_file()
    else []
)
DANK_CONVENTIONS = "dank-twitch-irc maps value-less tag to null and lower-cases keys"


def _spec_expectation(case: dict[str, Any]) -> dict[str, str]:
    expected: dict[str, Any] = case["expect_tags"]
    if case.get("note") != DANK_CONVENTIONS:
        return expected
    # Undo dank's conventions: null -> "" (IRCv3), and keys as they appear in the raw block.
    raw_keys = {
        item.partition("=")[0].lower(): item.partition("=")[0] for item in case["tags_raw"].split(";")
    }
    return {raw_keys[key]: "" if value is None else value for key, value in expected.items()}


def test_all_34_cases_are_present(shared_data: Path) -> None:
    assert len(CASES) == 34


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{i}:{c['source'].rsplit('#', 1)[-1]}" for i, c in enumerate(CASES)]
)
def test_case(case: dict[str, Any]) -> None:
    if "value_raw" in case:
        assert unescape_tag_value(case["value_raw"]) == case["expect_value"]
        # and the same value inside a whole line
        assert parse_irc(f"@key={case['value_raw']} PING").tags == {"key": case["expect_value"]}
        return
    expected = _spec_expectation(case)
    assert parse_tags(case["tags_raw"]) == expected
    assert parse_irc(f"@{case['tags_raw']} :tmi.twitch.tv PING").tags == expected


def test_keys_keep_their_case_as_sent() -> None:
    assert parse_tags("MESSAGE=Hi;message=lo") == {"MESSAGE": "Hi", "message": "lo"}


def test_empty_keys_are_dropped_and_the_rest_kept() -> None:
    assert parse_tags("a=1;;=x;b") == {"a": "1", "b": ""}


def test_values_may_hold_equals_signs() -> None:
    assert parse_tags("url=https://x.test/?a=b&c=d") == {"url": "https://x.test/?a=b&c=d"}
