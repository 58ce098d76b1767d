"""Deterministic channel sharding and the ``--shard INDEX/COUNT`` syntax."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chatpulse.errors import ConfigError
from chatpulse.sources.sharding import Shard, parse_shard, shard_channels, shard_of

CHANNELS = [f"channel_{n}" for n in range(1000)]


def test_every_channel_is_in_exactly_one_shard() -> None:
    shards = [shard_channels(CHANNELS, index, 8) for index in range(8)]
    flat = [channel for shard in shards for channel in shard]
    assert sorted(flat) == sorted(CHANNELS)
    assert all(60 < len(shard) < 190 for shard in shards)  # roughly even: 125 expected each


def test_shards_keep_the_original_order_and_ignore_case_and_hash() -> None:
    mine = shard_channels(CHANNELS, 3, 8)
    assert mine == sorted(mine, key=CHANNELS.index)
    assert shard_of("#XQC", 8) == shard_of("xqc", 8)


def test_assignment_is_the_same_in_another_process() -> None:
    # Python's own hash() is salted per process; the shard must not be.
    code = "from chatpulse.sources.sharding import shard_of; print([shard_of(f'c{n}', 7) for n in range(50)])"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == str([shard_of(f"c{n}", 7) for n in range(50)])


def test_parse_shard() -> None:
    assert parse_shard("2/8") == Shard(2, 8)
    assert parse_shard(" 0/1 ") == Shard(0, 1)
    assert str(parse_shard("7/8")) == "7/8"


@pytest.mark.parametrize(
    ("text", "reason"),
    [("8/8", "index must be in 0..7"), ("1/0", "at least 1"), ("2", "INDEX/COUNT"), ("a/b", "INDEX/COUNT"),
     ("-1/4", "INDEX/COUNT")],
)  # fmt: skip
def test_bad_shard_spec_says_why(text: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        parse_shard(text)
