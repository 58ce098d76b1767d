"""A chDB data folder, checked before chDB opens it: one clear line instead of native errors.

chDB reports a folder it cannot use in its own way: a path that is a file comes back as an
exception whose text carries ~35 lines of C++ stack frames, and a folder another process holds
("Cannot lock file .../status") is printed by the native code straight onto stderr before the
exception. So :class:`~chatpulse.store.clickhouse.ChdbStore` first asks here whether the folder
can be used at all and who holds it, and opens chDB with the native stderr captured.

Facts used (ClickHouse's ``StatusFile``): a running server, and so a chDB session, writes
``PID: <n>`` into ``<folder>/status`` and holds an exclusive ``flock`` on it until it closes.
A ChatPulse store is a chDB folder whose ``default`` database holds the ``chatpulse_schema``
table, whose definition ClickHouse keeps in ``metadata/default/chatpulse_schema.sql``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from chatpulse.errors import ConfigError, StoreError

STATUS_FILE: Final = "status"
SCHEMA_DEFINITION: Final = Path("metadata") / "default" / "chatpulse_schema.sql"
DASHBOARD_NOTE: Final = "chatpulse-dashboard"  # "<pid> <url>" while `run` serves this folder
_PID_LINE = re.compile(r"^PID:\s*(\d+)", re.MULTILINE)


def folder_of(dsn: str) -> Path | None:
    """The local folder of a ``chdb://`` DSN; None for ``:memory:`` or a ClickHouse server."""
    from chatpulse.store.dsn import MEMORY, ChdbTarget, parse_dsn

    target = parse_dsn(dsn)
    return (
        Path(target.path).expanduser() if isinstance(target, ChdbTarget) and target.path != MEMORY else None
    )


def has_chatpulse_schema(folder: Path) -> bool:
    """Does ``folder`` hold a ChatPulse store (one ``chatpulse db migrate`` has run on)?"""
    return (folder / SCHEMA_DEFINITION).is_file()


def prepare_folder(folder: Path, shown: str) -> None:
    """Make sure chDB can use ``folder`` (created when missing); :class:`ConfigError` naming
    ``shown`` (the path as the user gave it) when it is a file or cannot be created or written."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"invalid setting store.dsn: {shown} is a file, not a chDB data folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"invalid setting store.dsn: cannot create the chDB folder {shown} ({exc.strerror})"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"invalid setting store.dsn: the chDB folder {shown} is not writable")


def holder(folder: Path) -> int | None:
    """The process id of whoever holds ``folder`` open now (0 if unknown), or None if free."""
    status = folder / STATUS_FILE
    try:
        fd = os.open(status, os.O_RDONLY)
    except OSError:
        return None  # no status file: nobody has the folder open
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            match = _PID_LINE.search(os.read(fd, 4096).decode("ascii", "replace"))
            return int(match.group(1)) if match else 0
        fcntl.flock(fd, fcntl.LOCK_UN)  # free: a status file left behind by a process that ended
        return None
    finally:
        os.close(fd)


def held_error(folder: Path, shown: str, pid: int) -> StoreError:
    """One line: which process holds the folder, and what to open instead."""
    command = _command_of(pid)
    who = f"`{command}` (pid {pid})" if command else f"process {pid}" if pid else "another process"
    url = _dashboard_of(folder, pid)
    if url:
        instead = f"open the dashboard it serves at {url} instead, or stop it first"
    elif command.startswith(("chatpulse run", "chatpulse dashboard")):
        instead = "open the dashboard it serves instead (the address it printed), or stop it first"
    else:
        instead = "wait until it ends, or stop it first"
    return StoreError(
        f"the chDB folder {shown} is in use by {who}; a chDB folder belongs to one process: {instead}"
    )


@contextlib.contextmanager
def dashboard_note(folder: Path | None, url: str | None) -> Iterator[None]:
    """While the block runs, ``folder`` says which dashboard serves it (``run`` or ``dashboard``
    holds the folder and serves the dashboard; a second command refused the folder points the
    user there)."""
    if folder is None or url is None:
        yield
        return
    note = folder / DASHBOARD_NOTE
    note.write_text(f"{os.getpid()} {url}\n", encoding="utf-8")
    try:
        yield
    finally:
        note.unlink(missing_ok=True)


def _dashboard_of(folder: Path, pid: int) -> str | None:
    try:
        owner, _, url = (folder / DASHBOARD_NOTE).read_text(encoding="utf-8").strip().partition(" ")
    except (OSError, ValueError):
        return None
    return url if url and owner == str(pid) else None


def _command_of(pid: int) -> str:
    """``chatpulse run --demo`` for a chatpulse process (from /proc, where there is one), else ""."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return ""
    for index, arg in enumerate(argv):
        if Path(arg).name == "chatpulse":
            command = " ".join(["chatpulse", *argv[index + 1 :]]).strip()
            return command if len(command) <= 80 else command[:77] + "..."
    return ""


def clean_native_error(text: str) -> str:
    """chDB's exception text as one line: its cause, without the C++ stack frames."""
    text = text.split("Stack trace", 1)[0]
    if "e.what() = " in text:  # a C++ exception wrapped in ClickHouse's: its own words are the cause
        text = text.rsplit("e.what() = ", 1)[1]
    return " ".join(text.split()).rstrip(" ,.") or "chDB gave no reason"


def native_reason(exception_text: str, printed: str) -> str:
    """Why chDB could not open a folder, in one line: the first ClickHouse error it printed on
    stderr (its exception may say only "Error initializing EmbeddedServer: ."), else the
    exception's own cause."""
    for line in printed.splitlines():
        if "DB::Exception" in line or line.startswith("Code:"):
            return clean_native_error(line)
    return clean_native_error(exception_text)


@contextlib.contextmanager
def native_stderr_captured() -> Iterator[list[str]]:
    """Run a block with file descriptor 2 pointed at a temporary file (what native code prints
    there is kept out of the terminal); the yielded list receives its text afterwards."""
    captured: list[str] = []
    sys.stderr.flush()
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", "replace"))
