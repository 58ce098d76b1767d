"""The checks made before chDB opens a folder: who holds it (the flock on its status file), what a
refused user is told, and chDB's native error text reduced to one line."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from chatpulse.errors import ConfigError
from chatpulse.store.chdb_folder import (
    clean_native_error,
    dashboard_note,
    held_error,
    holder,
    native_reason,
    prepare_folder,
)

# What chDB 4.4 raised for a data folder path that is a file (shortened: ~35 frames follow).
FILE_AS_FOLDER = (
    "Failed to create connection: Code: 36. DB::Exception: Error initializing EmbeddedServer: "
    "std::exception. Code: 1001, type: std::__1::filesystem::filesystem_error, e.what() = filesystem "
    'error: in create_directories: File exists ["/tmp/x/afile"], Stack trace (when copying this '
    "message, always include the lines below):\n\n0. arrow::acero::TableSinkNodeConsumer::Finish() "
    "(.cold) @ 0x0000000000030434\n1. ? @ 0x000000002061bd19\n"
)
# What it raised, and printed on stderr, for a folder another process holds.
LOCKED = (
    "Failed to create connection: Code: 36. DB::Exception: "
    "Error initializing EmbeddedServer: . (BAD_ARGUMENTS)"
)
LOCKED_PRINTED = (
    "Code: 76. DB::Exception: Cannot lock file /tmp/x/status. Another server instance in same "
    "directory is already running. (CANNOT_OPEN_FILE)\n"
)


def test_native_errors_become_their_cause_in_one_line() -> None:
    assert (
        clean_native_error(FILE_AS_FOLDER)
        == 'filesystem error: in create_directories: File exists ["/tmp/x/afile"]'
    )
    assert native_reason(LOCKED, LOCKED_PRINTED).startswith(
        "Code: 76. DB::Exception: Cannot lock file /tmp/x/status."
    )
    assert native_reason(LOCKED, "") == clean_native_error(LOCKED)


def test_the_holder_is_whoever_has_the_status_file_locked(tmp_path: Path) -> None:
    assert holder(tmp_path) is None  # no status file: nobody
    status = tmp_path / "status"
    status.write_text("PID: 4242\nStarted at: 2026-12-03 10:05:32\nRevision: 54515\n")
    assert holder(tmp_path) is None  # left behind by a process that ended: free
    fd = os.open(status, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert holder(tmp_path) == 4242
    finally:
        os.close(fd)
    assert holder(tmp_path) is None


def test_a_refused_user_is_sent_to_the_holders_dashboard(tmp_path: Path) -> None:
    with dashboard_note(tmp_path, "http://127.0.0.1:8123"):
        message = str(held_error(tmp_path, "./data/chatpulse", os.getpid()))
        assert "open the dashboard it serves at http://127.0.0.1:8123 instead" in message
        assert str(held_error(tmp_path, "./data/chatpulse", 1)).endswith(
            "wait until it ends, or stop it first"
        )
    assert not (tmp_path / "chatpulse-dashboard").exists()  # the note goes with its holder


def test_a_file_is_no_folder(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("x")
    with pytest.raises(ConfigError, match="notes.txt is a file, not a chDB data folder"):
        prepare_folder(file, str(file))
    with pytest.raises(ConfigError, match="cannot create the chDB folder .*Not a directory"):
        prepare_folder(file / "db", str(file / "db"))
    prepare_folder(tmp_path / "new" / "db", "new/db")
    assert (tmp_path / "new" / "db").is_dir()
