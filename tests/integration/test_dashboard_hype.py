"""One definition of a hype moment: the dashboard's ``/api/hype`` names the minutes that
``chatpulse report`` names, on a store filled from the real xqcow capture.

The capture (8 minutes of steady chat) has no hype minute of its own, and two empty lists agree
trivially, so the store also gets an echo burst: the real messages of two of its minutes replayed
twice more under new message ids (as when a clip goes viral and chat copies itself). Both tools
must then name exactly those minutes, with the same counts, baselines and scores.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CLI = [sys.executable, "-m", "chatpulse"]
MINUTE_MS = 60_000
ECHOES = 2  # extra copies of each message in a burst minute
_TS = re.compile(r"(?:^@|;)tmi-sent-ts=(\d+)")
_ID = re.compile(r"((?:^@|;)id=)([^; ]+)")


@dataclass
class Served:
    url: str
    report_all: dict[str, Any]
    report_15m: dict[str, Any]
    burst_minutes: list[int]


def get(url: str) -> Any:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - checked above
        return json.loads(response.read())


def _echo_burst(capture: Path, target: Path) -> list[int]:
    """Write the echoes of the capture's 3rd-to-last and last minutes; return those minutes."""
    with gzip.open(capture, "rt", encoding="utf-8") as f:
        lines = [line.rstrip("\r\n") for line in f if " PRIVMSG #" in line]
    minutes = sorted({int(m[1]) // MINUTE_MS * MINUTE_MS for line in lines if (m := _TS.search(line))})
    burst = [minutes[-3], minutes[-1]]
    with target.open("w", encoding="utf-8") as out:
        for line in lines:
            sent = _TS.search(line)
            if sent is None or int(sent[1]) // MINUTE_MS * MINUTE_MS not in burst:
                continue
            for copy in range(1, ECHOES + 1):
                out.write(_ID.sub(lambda m, c=copy: f"{m[1]}{m[2]}-echo{c}", line, count=1) + "\n")
    return burst


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def served(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("dashboard-hype")
    dsn = f"chdb://{folder / 'db'}"
    capture = shared_data / "replay" / "xqcow-2019-09-15.irc.gz"
    burst_minutes = _echo_burst(capture, folder / "echoes.irc")
    for recording in (capture, folder / "echoes.irc"):
        _cli("run", "--replay", str(recording), "--speed", "max", "--no-dashboard", "--store", dsn,
             "--workers", "0")  # fmt: skip
    # The report runs first: a chDB folder belongs to one process, and the dashboard holds it next.
    report_all = json.loads(_cli("report", "--channel", "xqcow", "--all", "--json", "--store", dsn).stdout)
    report_15m = json.loads(
        _cli("report", "--channel", "xqcow", "--since", "15m", "--json", "--store", dsn).stdout
    )
    server = subprocess.Popen(
        [*CLI, "dashboard", "--store", dsn, "--port", "0"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, f"no dashboard URL in {first!r}"
        yield Served(match[0], report_all, report_15m, burst_minutes)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()


def _report_moments(report: dict[str, Any]) -> list[tuple[int, int, float]]:
    return [(m["minute"], m["messages"], round(m["baseline"], 2)) for m in report["hype_moments"]]


def _api_moments(body: dict[str, Any]) -> list[tuple[int, int, float]]:
    return sorted((m["t"], m["messages"], m["baseline"]) for m in body["moments"])


def test_api_and_report_name_the_same_hype_minutes_over_the_whole_capture(served: Served) -> None:
    report = served.report_all
    body = get(
        f"{served.url}/api/hype?channel=xqcow&from={report['since_ms']}&to={report['until_ms']}&limit=100"
    )
    assert body["found"] == len(report["hype_moments"]) <= 100
    assert _api_moments(body) == _report_moments(report)
    assert [m[0] for m in _report_moments(report)] == served.burst_minutes
    assert body["bucket_s"] == 60


def test_a_relative_range_agrees_with_report_since(served: Served) -> None:
    body = get(f"{served.url}/api/hype?channel=xqcow&range=15m&limit=100")
    # Same end; the report trims its start to the stored chat, the dashboard keeps the range.
    assert body["window"]["to"] == served.report_15m["until_ms"]
    first_minute = served.report_15m["minutes"][0]["minute"]
    assert body["window"]["from"] <= served.report_15m["since_ms"] <= first_minute
    assert _api_moments(body) == _report_moments(served.report_15m)
    assert _api_moments(body)


def test_the_strongest_moment_comes_first_with_its_minute_in_detail(served: Served) -> None:
    body = get(f"{served.url}/api/hype?channel=xqcow&range=15m&limit=1")
    strongest = max(served.report_15m["hype_moments"], key=lambda m: m["score"])
    [moment] = body["moments"]
    assert (moment["t"], moment["messages"]) == (strongest["minute"], strongest["messages"])
    assert moment["score"] == pytest.approx(strongest["score"], abs=0.01)
    # The burst repeats the minute's messages, so its most repeated text is seen at least 3 times.
    assert moment["top_messages"] and moment["top_messages"][0]["count"] >= 1 + ECHOES
    assert moment["top_emotes"]
