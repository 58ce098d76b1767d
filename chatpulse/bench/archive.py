"""``chatpulse bench archive``: ``chatpulse import`` from a local archive vs ``run --replay --speed max``.

The same lines both ways: the xqcow capture copied ``days`` times, copy ``k`` moved ``k`` days
later with its message ids made unique (so every copy is new chat to the store), served by the
archive test server as one day per copy, and written to one file for the replay. Each command
runs as its own process into an empty chDB folder (a process can open one chDB folder), timed
from start to exit, so both pay the same start-up (worker pool, store); the import also reports
its own lines/s from the pipeline's start.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

from chatpulse.bench import BenchOptions, Measurement
from chatpulse.testing.archive_server import ArchiveData, ArchiveTestServer, capture_days, shift_day

_ID: Final = re.compile(r"(?<=[@;])id=([^; ]+)")
TARGET: Final = 0.8  # import at least this share of a replay's rate: fetching must not be the bottleneck


def _copy(line: str, k: int) -> str:
    return _ID.sub(lambda m: f"id={m[1]}-{k}", shift_day(line, k)) if k else line


def _timed(args: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    command = [sys.executable, "-m", "chatpulse", *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)  # noqa: S603 - our own CLI
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"chatpulse {args[0]} failed: {done.stderr[-2000:]}")
    return elapsed, done.stdout


def run(options: BenchOptions) -> list[Measurement]:
    days = int(options.extra.get("days", 4 if options.quick else 40))
    capture = options.shared_data / "replay" / "xqcow-2019-09-15.irc.gz"
    channel, room, served = capture_days(capture)
    [(first_day, base)] = served.items()
    copies = {first_day + dt.timedelta(days=k): [_copy(line, k) for line in base] for k in range(days)}
    total = days * len(base)
    with tempfile.TemporaryDirectory(prefix="chatpulse-bench-archive-") as folder:
        root = Path(folder)
        recording = root / "copies.irc"
        recording.write_text(
            "".join(f"{line}\n" for day in copies.values() for line in day), encoding="utf-8"
        )
        data = ArchiveData()
        data.add(channel, room, copies)
        with ArchiveTestServer(data) as server:
            args = [
                "import",
                "--archive",
                server.url,
                "--channel",
                channel,
                "--store",
                f"chdb://{root / 'a'}",
            ]
            imported, out = _timed(args, root)
        summary = json.loads(out.strip().splitlines()[-1])
        args = [
            "run",
            "--replay",
            str(recording),
            "--speed",
            "max",
            "--no-dashboard",
            "--store",
            f"chdb://{root / 'b'}",
        ]
        replayed, _ = _timed(args, root)
    import_rate, replay_rate = total / imported, total / replayed
    ratio = import_rate / replay_rate
    note = f"{days} days x {len(base):,} lines; whole commands, start-up included"
    return [
        Measurement("archive", "chatpulse import (local archive)", round(import_rate), "lines/s", note=note),
        Measurement(
            "archive", "chatpulse run --replay --speed max", round(replay_rate), "lines/s", note=note
        ),
        Measurement("archive", "import / replay", round(ratio, 3), "ratio", f">= {TARGET}", ratio >= TARGET),
        Measurement(
            "archive",
            "import, pipeline only",
            round(float(summary["lines_per_s"])),
            "lines/s",
            note="from the pipeline's start (the import's own summary)",
        ),  # fmt: skip
    ]
