"""On-disk spool for batches the store refused: kept as event JSONL, replayed oldest first.

One file per batch, ``<sequence>.jsonl`` in the wire format (schema 1), written to a temporary
name, fsynced and renamed, so a crash leaves either the whole batch or nothing. A file is
removed only after the store took it. A file that cannot be decoded (edited by hand, disk
fault) is renamed ``*.bad`` and kept for a human, never deleted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from chatpulse.errors import StoreError, WireFormatError
from chatpulse.events import ChatEvent, dumps, loads

log = logging.getLogger(__name__)


class Spool:
    """A folder of pending batches. Not thread-safe: the sink serialises calls."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sequence = max((_sequence(p) for p in self.pending()), default=0)

    def pending(self) -> list[Path]:
        """Spooled batch files, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.jsonl"), key=_sequence)

    def pending_rows(self) -> int:
        """Events waiting in the spool (counts lines; cheap for the few files a spool holds)."""
        total = 0
        for path in self.pending():
            with path.open("rb") as handle:
                total += sum(1 for _ in handle)
        return total

    def put(self, events: Sequence[ChatEvent]) -> Path:
        """Write one batch durably; raises StoreError when the folder cannot be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._sequence += 1
            final = self.folder / f"{self._sequence:012d}.jsonl"
            partial = final.with_suffix(".partial")
            with partial.open("w", encoding="utf-8") as handle:
                for event in events:
                    handle.write(dumps(event))
                    handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, final)
        except OSError as exc:
            raise StoreError(f"cannot write spool file in {self.folder}: {exc.strerror}") from exc
        return final

    def load(self, path: Path) -> list[ChatEvent] | None:
        """The batch in ``path``; None (and the file set aside as ``.bad``) when it is unreadable."""
        try:
            with path.open(encoding="utf-8") as handle:
                return [loads(line) for line in handle if line.strip()]
        except (OSError, UnicodeDecodeError, WireFormatError) as exc:
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
