"""On-disk spool for batches the store refused, replayed oldest first.

One file per :class:`~chatpulse.store.rows.StoreBatch`: ``<sequence>.arrows`` holding the three
tables as Arrow IPC streams, each after its byte length. Written to a temporary name, fsynced
and renamed, so a crash leaves either the whole batch or nothing. A file is removed only after
the store took it. A file that cannot be read (edited by hand, disk fault) is renamed ``*.bad``
and kept for a human, never deleted. Not thread-safe: the sink serialises calls.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Final

import pyarrow as pa

from chatpulse.errors import StoreError
from chatpulse.store.rows import EMOTE_SCHEMA, EVENT_SCHEMA, MESSAGE_SCHEMA, StoreBatch

log = logging.getLogger(__name__)

_SPOOL_MAGIC: Final = b"CHATPULSE-STOREBATCH-1\n"
_SPOOL_SUFFIX: Final = ".arrows"


class BatchSpool:
    """Spooled :class:`StoreBatch` es: one ``<sequence>.arrows`` file each (three Arrow IPC
    streams, each after its byte length), written to a temporary name, fsynced and renamed.
    An unreadable file is renamed ``*.bad`` and kept for a human, never deleted."""

    _SCHEMAS: Final = (MESSAGE_SCHEMA, EMOTE_SCHEMA, EVENT_SCHEMA)

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sequence = max((_sequence(p) for p in self.pending()), default=0)

    def pending(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob(f"*{_SPOOL_SUFFIX}"), key=_sequence)

    def put(self, batch: StoreBatch) -> Path:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._sequence += 1
            final = self.folder / f"{self._sequence:012d}{_SPOOL_SUFFIX}"
            partial = final.with_suffix(".partial")
            with partial.open("wb") as handle:
                handle.write(_SPOOL_MAGIC)
                for table in (batch.messages, batch.emotes, batch.events):
                    payload = _ipc_bytes(table)
                    handle.write(len(payload).to_bytes(8, "little"))
                    handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, final)
        except OSError as exc:
            raise StoreError(f"cannot write spool file in {self.folder}: {exc.strerror}") from exc
        return final

    def load(self, path: Path) -> StoreBatch | None:
        try:
            data = path.read_bytes()
            if not data.startswith(_SPOOL_MAGIC):
                raise ValueError("not a ChatPulse batch file")
            offset, tables = len(_SPOOL_MAGIC), []
            for schema in self._SCHEMAS:
                size = int.from_bytes(data[offset : offset + 8], "little")
                offset += 8
                table = pa.ipc.open_stream(pa.py_buffer(data[offset : offset + size])).read_all()
                offset += size
                if not table.schema.equals(schema):
                    raise ValueError("unexpected columns")
                tables.append(table)
            return StoreBatch(*tables)
        except (OSError, ValueError, pa.ArrowException) as exc:
            bad = path.with_suffix(".bad")
            log.error("spool file %s is unreadable (%s); kept as %s", path, exc, bad.name)
            os.replace(path, bad)
            return None

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)


def _sequence(path: Path) -> int:
    try:
        return int(path.stem)
    except ValueError:
        return 0


def _ipc_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()
