"""``chatpulse report`` as a user reads it piped (80 columns, no colour) on the 7.7-minute xqcow
capture: the window trimmed to the stored chat, whole bars, the sentiment mix without colour,
and the events list saying how many it left out."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "chatpulse"]
ROW = re.compile(r"^│ (\d\d:\d\d) │ +([\d,.]+) │ (█*) *│ +[\d,]+ │ ([+=-]*) *│$")


@pytest.fixture(scope="module")
def dsn(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    dsn = f"chdb://{tmp_path_factory.mktemp('report') / 'db'}"
    capture = shared_data / "replay" / "xqcow-2019-09-15.irc.gz"
    args = [
        "run",
        "--replay",
        str(capture),
        "--speed",
        "max",
        "--no-dashboard",
        "--store",
        dsn,
        "--workers",
        "0",
    ]
    filled = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=180, check=False)
    assert filled.returncode == 0, filled.stderr
    yield dsn


def report(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The report through a pipe, in an environment that asks for no width or colour."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE")}
    return subprocess.run(
        [*CLI, "report", "--channel", "xqcow", "--store", dsn, *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


def test_piped_report_fits_80_columns_with_whole_bars_and_a_readable_mix(dsn: str) -> None:
    done = report(dsn, "--since", "1h")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "\x1b[" not in done.stdout and "…" not in done.stdout.split("Events")[0]

    rows = [match.groups() for line in lines if (match := ROW.match(line))]
    # Trimmed to the stored chat: 00:00 .. 00:07, no empty hour around it.
    assert [row[0] for row in rows] == [f"00:0{i}" for i in range(8)]
    assert "covers 7.7 of the 60 minutes" in done.stdout
    # Bars are whole: proportional to the rate, the busiest minute's bar the longest.
    rates = [float(row[1].replace(",", "")) for row in rows]
    bars = [len(row[2]) for row in rows]
    assert bars[rates.index(max(rates))] == max(bars) >= 20
    assert all(abs(bar - max(bars) * rate / max(rates)) <= 1 for bar, rate in zip(bars, rates, strict=True))
    # The mix in + = - (no colour to tell them apart), as wide in every row, in the shares stored.
    mixes = [row[3] for row in rows]
    assert len({len(mix) for mix in mixes}) == 1 and len(mixes[0]) >= 10
    minutes = json.loads(report(dsn, "--since", "1h", "--json").stdout)["minutes"]
    for mix, minute in zip(mixes, minutes, strict=True):
        scored = minute["positive"] + minute["neutral"] + minute["negative"]
        assert mix.count("+") == round(len(mix) * minute["positive"] / scored)
        assert mix.count("-") == round(len(mix) * minute["negative"] / scored)


def test_a_capped_events_list_says_how_many_more_there_are(dsn: str) -> None:
    everything = json.loads(report(dsn, "--all", "--json", "--events", "100000").stdout)
    total = len(everything["events"])
    assert total > 5 and everything["events_total"] == total
    done = report(dsn, "--all", "--events", "5")
    assert f"… and {total - 5:,} more; --events N lists more" in done.stdout
    capped = json.loads(report(dsn, "--all", "--json", "--events", "5").stdout)
    assert len(capped["events"]) == 5 and capped["events_total"] == total
    assert "more; --events" not in report(dsn, "--all", "--events", str(total)).stdout
