"""A bounded, append-only on-disk spool of Kafka records, for when the broker cannot be reached.

The producer (:mod:`chatpulse.transport.producer`) appends records here while the broker is
away and sends them back, oldest first, when it returns. Nothing else touches the folder.

Layout: ``<folder>/<sequence>.seg`` files, written in order. A segment is appended to until it
reaches ``segment_bytes``, then *sealed* and a new one started. Each record is one frame::

    u32 payload length | u32 crc32(payload) | payload

    payload = u16 topic length, topic | i32 key length (-1: none), key |
              u16 header count, (u16 name length, name, i32 value length (-1: none), value)* |
              u32 value length, value

so a crash in the middle of a write leaves a torn last frame that the reader detects (length or
CRC mismatch), logs and skips; every earlier record is still read. :meth:`RecordSpool.sync`
fsyncs the open segment: the producer calls it before it reports records as durable.

Bounded: :meth:`RecordSpool.append` returns False when the spool holds ``max_bytes`` already;
the caller slows its source (back-pressure) instead of dropping the record.

One process per folder: :func:`lock_spool_folder` takes an exclusive ``flock`` on it, so two
workers of one stage on one machine get separate folders and a restarted worker adopts the
spool its predecessor left.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

log = logging.getLogger(__name__)

_FRAME: Final = struct.Struct(">II")
_U16: Final = struct.Struct(">H")
_I32: Final = struct.Struct(">i")
_U32: Final = struct.Struct(">I")
SUFFIX: Final = ".seg"

Header = tuple[str, bytes | None]


@dataclass(frozen=True, slots=True)
class SpooledRecord:
    """One Kafka record as the producer would send it."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: tuple[Header, ...] = field(default_factory=tuple)


def encode_record(record: SpooledRecord) -> bytes:
    """One frame (header + payload) for ``record``."""
    topic = record.topic.encode("utf-8")
    parts = [_U16.pack(len(topic)), topic]
    parts.append(_I32.pack(-1) if record.key is None else _I32.pack(len(record.key)))
    if record.key is not None:
        parts.append(record.key)
    parts.append(_U16.pack(len(record.headers)))
    for name, value in record.headers:
        encoded = name.encode("utf-8")
        parts += [_U16.pack(len(encoded)), encoded]
        parts.append(_I32.pack(-1) if value is None else _I32.pack(len(value)))
        if value is not None:
            parts.append(value)
    parts += [_U32.pack(len(record.value)), record.value]
    payload = b"".join(parts)
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise ValueError("truncated payload")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def u16(self) -> int:
        value: int = _U16.unpack(self.take(2))[0]
        return value

    def i32(self) -> int:
        value: int = _I32.unpack(self.take(4))[0]
        return value

    def u32(self) -> int:
        value: int = _U32.unpack(self.take(4))[0]
        return value

    def optional(self) -> bytes | None:
        size = self.i32()
        return None if size == -1 else self.take(size)


def decode_payload(payload: bytes) -> SpooledRecord:
    """The record in one frame's payload (ValueError when malformed)."""
    reader = _Reader(payload)
    topic = reader.take(reader.u16()).decode("utf-8")
    key = reader.optional()
    headers = []
    for _ in range(reader.u16()):
        name = reader.take(reader.u16()).decode("utf-8")
        headers.append((name, reader.optional()))
    value = reader.take(reader.u32())
    return SpooledRecord(topic=topic, value=value, key=key, headers=tuple(headers))


def read_segment(path: Path) -> Iterator[SpooledRecord]:
    """Every intact record of one segment, in order; a torn or corrupt tail is logged and skipped."""
    data = path.read_bytes()
    pos = 0
    while pos < len(data):
        if pos + _FRAME.size > len(data):
            log.warning("spool %s: torn frame header at byte %d (crash during a write?); skipped", path, pos)
            return
        size, crc = _FRAME.unpack_from(data, pos)
        payload = data[pos + _FRAME.size : pos + _FRAME.size + size]
        if len(payload) < size or zlib.crc32(payload) != crc:
            log.warning("spool %s: corrupt record at byte %d; the rest of the segment is skipped", path, pos)
            return
        try:
            yield decode_payload(payload)
        except (ValueError, UnicodeDecodeError):
            log.warning("spool %s: undecodable record at byte %d; skipped", path, pos)
        pos += _FRAME.size + size


class RecordSpool:
    """Append-only segment files under ``folder``, at most ``max_bytes`` in all."""

    def __init__(self, folder: Path, max_bytes: int, segment_bytes: int | None = None) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        self.folder = folder
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes or max(64 * 1024, min(8 * 1024 * 1024, max_bytes // 8))
        folder.mkdir(parents=True, exist_ok=True)
        segments = self.segments()
        self._bytes = sum(p.stat().st_size for p in segments)
        self._next_seq = (_sequence(segments[-1]) + 1) if segments else 1
        self._open: IO[bytes] | None = None
        self._open_path: Path | None = None
        self._open_size = 0
        self._dirty = False
        self.records = 0  # records appended by this process (for counters)

    @property
    def size_bytes(self) -> int:
        """Bytes held now (every segment, sealed or open)."""
        return self._bytes

    def is_empty(self) -> bool:
        return self._bytes == 0 and not self.segments()

    def segments(self) -> list[Path]:
        """Every segment file, oldest first."""
        return sorted(self.folder.glob(f"*{SUFFIX}"), key=_sequence)

    def append(self, record: SpooledRecord) -> bool:
        """Append ``record``; False (nothing written) when the spool is full."""
        frame = encode_record(record)
        if self._bytes + len(frame) > self.max_bytes and self._bytes > 0:
            return False
        if self._open is None or self._open_size >= self.segment_bytes:
            self.seal()
            self._open_path = self.folder / f"{self._next_seq:012d}{SUFFIX}"
            self._next_seq += 1
            self._open = self._open_path.open("ab")
            self._open_size = 0
        self._open.write(frame)
        self._open_size += len(frame)
        self._bytes += len(frame)
        self._dirty = True
        self.records += 1
        return True

    def sync(self) -> None:
        """Make every appended record durable (flush + fsync the open segment)."""
        if self._open is not None and self._dirty:
            self._open.flush()
            os.fsync(self._open.fileno())
        self._dirty = False

    def seal(self) -> None:
        """Close the open segment (durably); the next append starts a new one."""
        if self._open is not None:
            self.sync()
            self._open.close()
        self._open = None
        self._open_path = None

    def remove(self, segment: Path) -> None:
        """Delete a sealed segment whose records were all delivered."""
        if segment == self._open_path:
            raise ValueError("cannot remove the open segment; seal() it first")
        try:
            size = segment.stat().st_size
        except FileNotFoundError:
            return
        segment.unlink()
        self._bytes = max(0, self._bytes - size)

    def close(self) -> None:
        self.seal()


def _sequence(path: Path) -> int:
    try:
        return int(path.name.removesuffix(SUFFIX))
    except ValueError:
        return 0


class SpoolLock:
    """An exclusive lock on one spool folder, held until :meth:`release` (or process exit)."""

    def __init__(self, folder: Path, handle: IO[bytes]) -> None:
        self.folder = folder
        self._handle = handle

    def release(self) -> None:
        if not self._handle.closed:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()


def lock_spool_folder(base: Path, stage: str, limit: int = 64) -> SpoolLock:
    """Lock the first free ``base/<stage>-<n>`` folder (n = 0, 1, ...) for this process.

    Workers of one stage on one machine each get their own folder; a worker that restarts after
    a crash takes the lowest free one, and so sends what a dead worker left behind.
    """
    for index in range(limit):
        folder = base / f"{stage}-{index}"
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / ".lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return SpoolLock(folder, handle)
    raise OSError(f"no free spool folder under {base} for {stage} (all {limit} are locked)")
