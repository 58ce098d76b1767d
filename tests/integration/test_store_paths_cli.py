"""Store paths as a user mistypes them, on real chDB: a read command given a path that holds no
ChatPulse store says so in one line (exit 2) and creates nothing; a path that is a file gets one
line, no native stack frames; a folder a running ``chatpulse run`` holds names that process and
the dashboard it serves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli import chatpulse, clean_env, one_line

READ_COMMANDS = [
    ["query", "SELECT count() FROM chat_messages"],
    ["report", "--channel", "xqcow"],
    ["dashboard", "--port", "0"],
]


def tree(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_a_mistyped_store_is_named_and_not_created(tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "data" / "chatplse"
    line = one_line(chatpulse(tmp_path, *command, "--store", f"chdb://{typo}"), 2)
    assert line.startswith(f"chatpulse: no ChatPulse store at {typo}: no such folder")
    assert not typo.exists() and not (tmp_path / "data").exists()


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_a_folder_without_the_schema_is_no_store_and_stays_untouched(
    tmp_path: Path, command: list[str]
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "cat.jpg").write_bytes(b"\xff\xd8\xff")
    line = one_line(chatpulse(tmp_path, *command, "--store", f"chdb://{photos}"), 2)
    assert f"no ChatPulse store at {photos}: the folder holds no ChatPulse schema" in line
    assert tree(photos) == ["cat.jpg"]  # chDB never opened it, so it wrote nothing there


def test_a_file_as_the_store_is_one_line_without_stack_frames(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("not a folder\n")
    migrate = one_line(chatpulse(tmp_path, "db", "migrate", "--store", f"chdb://{file}"), 2)
    assert migrate == f"chatpulse: invalid setting store.dsn: {file} is a file, not a chDB data folder"
    below = one_line(chatpulse(tmp_path, "db", "migrate", "--store", f"chdb://{file}/db"), 2)
    assert "cannot create the chDB folder" in below and "Not a directory" in below
    query = one_line(chatpulse(tmp_path, "query", "SELECT 1", "--store", f"chdb://{file}"), 2)
    assert "it is a file, not a store folder" in query
    assert file.read_text() == "not a folder\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        line = one_line(chatpulse(tmp_path, "db", "migrate", "--store", f"chdb://{locked}/db"), 2)
        assert "cannot create the chDB folder" in line and "Permission denied" in line
    finally:
        locked.chmod(0o700)


def test_a_store_held_by_a_run_names_the_process_and_its_dashboard(tmp_path: Path) -> None:
    store = tmp_path / "db"
    run = subprocess.Popen(
        [sys.executable, "-m", "chatpulse", "run", "--demo", "--demo-history", "0", "--workers", "0",
         "--port", "0", "--duration", "90", "--store", f"chdb://{store}"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        note = store / "chatpulse-dashboard"
        deadline = time.monotonic() + 60
        while not note.exists():
            assert run.poll() is None, run.stderr.read() if run.stderr else ""
            assert time.monotonic() < deadline, "run did not start serving"
            time.sleep(0.2)
        url = note.read_text().split()[1]
        for command in (["query", "SELECT 1"], ["dashboard", "--port", "0"], ["db", "migrate"]):
            line = one_line(chatpulse(tmp_path, *command, "--store", f"chdb://{store}"), 1)
            assert "is in use by `chatpulse run --demo" in line and f"(pid {run.pid})" in line
            assert f"open the dashboard it serves at {url} instead" in line
    finally:
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=60)
    assert run.returncode == 0
    assert not (store / "chatpulse-dashboard").exists()  # the note goes with the run
    result = chatpulse(
        tmp_path, "query", "SELECT count() AS n FROM chat_messages", "--store", f"chdb://{store}"
    )
    assert result.returncode == 0, result.stderr  # free again: the store opens


def test_a_store_held_by_a_dashboard_points_to_that_dashboard(tmp_path: Path) -> None:
    store = f"chdb://{tmp_path / 'db'}"
    assert chatpulse(tmp_path, "db", "migrate", "--store", store).returncode == 0
    with subprocess.Popen(
        [sys.executable, "-m", "chatpulse", "dashboard", "--port", "0", "--store", store],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean_env(),
    ) as dashboard:  # fmt: skip
        try:
            note = tmp_path / "db" / "chatpulse-dashboard"
            deadline = time.monotonic() + 60
            while not note.exists():
                assert dashboard.poll() is None and time.monotonic() < deadline, "dashboard did not start"
                time.sleep(0.2)
            url = note.read_text().split()[1]
            line = one_line(chatpulse(tmp_path, "report", "--channel", "xqcow", "--store", store), 1)
            assert "is in use by `chatpulse dashboard --port 0 --store chdb://" in line
            assert f"` (pid {dashboard.pid});" in line
            assert line.endswith(f"open the dashboard it serves at {url} instead, or stop it first")
        finally:
            dashboard.send_signal(signal.SIGINT)
            dashboard.communicate(timeout=60)


def test_a_store_held_by_another_program_says_to_wait(tmp_path: Path) -> None:
    holder = (
        "import sys, time\n"
        "from chatpulse.config import StoreSettings\n"
        "from chatpulse.store import open_store\n"
        "store = open_store(StoreSettings(dsn=sys.argv[1]))\n"
        "store.migrate()\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    store = f"chdb://{tmp_path / 'db'}"
    with subprocess.Popen(
        [sys.executable, "-c", holder, store], stdout=subprocess.PIPE, text=True
    ) as program:
        try:
            assert program.stdout is not None and program.stdout.readline().strip() == "ready"
            line = one_line(chatpulse(tmp_path, "query", "SELECT 1", "--store", store), 1)
            assert f"is in use by process {program.pid};" in line
            assert line.endswith("wait until it ends, or stop it first")
        finally:
            program.kill()
