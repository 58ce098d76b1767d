"""Split one channel list over several ingest processes, the same way in every process. Pure.

``--shard 2/8`` means "this process is shard 2 of 8" (0-based index). A channel belongs to
shard ``crc32(lower-case name) % count``: every process computes the same answer from the
name alone, with no coordination, and each channel lands in exactly one shard. CRC-32 rather
than Python's ``hash()``, which is salted per process.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from chatpulse.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count`` (0 <= index < count)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ConfigError(f"invalid shard {self.index}/{self.count}: the shard count must be at least 1")
        if not 0 <= self.index < self.count:
            raise ConfigError(
                f"invalid shard {self.index}/{self.count}: the index must be in 0..{self.count - 1}"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"2/8"`` -> ``Shard(2, 8)``; :class:`ConfigError` with a one-line reason otherwise."""
    index, sep, count = text.strip().partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ConfigError(f"invalid shard {text!r}: use INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 2/8")
    return Shard(int(index), int(count))


def shard_of(channel: str, count: int) -> int:
    """The shard index ``channel`` belongs to among ``count`` shards."""
    return zlib.crc32(channel.strip().lstrip("#").lower().encode("utf-8")) % count


def shard_channels(channels: Iterable[str], index: int, count: int) -> list[str]:
    """The channels of shard ``index`` of ``count``, in their original order."""
    shard = Shard(index, count)
    return [channel for channel in channels if shard_of(channel, shard.count) == shard.index]
