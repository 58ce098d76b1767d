"""``chatpulse bench twitch``: join time and memory for many channels on the local IRC test server.

The Twitch-like test server runs in a child process (so its memory is not counted) with no join
limit: the figure measures ChatPulse's connection pool, not Twitch's 20-JOINs-per-10-s rule,
which alone would make 1,000 channels take 500 s. Options: ``--opt channels=N``. Also measured:
events/s of the ingest path (source, parse, wire encoding) on a synthetic firehose of as many
channels.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import tracemalloc

from chatpulse.bench import BenchOptions, Measurement
from chatpulse.config import TwitchSettings
from chatpulse.events import CoverageEvent
from chatpulse.irc.twitch import parse_line
from chatpulse.sources.base import RawLine
from chatpulse.sources.twitch_irc.source import IrcTimings, TwitchIrcSource
from chatpulse.wire import dumps

_TWITCH_JOINS_PER_10_S = 20


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


Running = tuple[TwitchIrcSource, "asyncio.Task[None]"]


async def _join_all(url: str, channels: list[str]) -> tuple[float, Running]:
    """Seconds until every channel is confirmed joined; the source is returned still open."""
    settings = TwitchSettings(irc_url=url, joins_per_window=10**6, join_window_s=1)
    source = TwitchIrcSource(settings, channels, timings=IrcTimings(join_timeout_s=60))
    done = asyncio.Event()
    joined = 0

    async def consume() -> None:
        nonlocal joined
        async for item in source.stream():
            if isinstance(item, CoverageEvent) and item.state == "connected":
                joined += 1
                if joined == len(channels):
                    done.set()

    started = time.perf_counter()
    task = asyncio.create_task(consume())
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - started
    return elapsed, (source, task)


async def _close(running: Running) -> None:
    source, consumer = running
    await source.close()
    await asyncio.wait_for(consumer, 10)


async def _measure(url: str, count: int) -> list[Measurement]:
    channels = [f"bench_channel_{n:05d}" for n in range(count)]
    elapsed, running = await _join_all(url, channels)
    connections = running[0].connections
    await _close(running)

    rss_before = _rss_bytes()
    tracemalloc.start()
    _, running = await _join_all(url, channels)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = _rss_bytes()
    await _close(running)
    mib = 1024 * 1024
    note = f"{connections} connections; local test server, no join limit"
    return [
        Measurement("twitch", f"join {count:,} channels", elapsed, "s", note=note),
        Measurement("twitch", "joins per second", count / elapsed, "joins/s", note=note),
        Measurement("twitch", f"Python heap held after joining {count:,}", current / mib, "MiB",
                    note=f"tracemalloc; peak {peak / mib:.1f} MiB"),
        Measurement("twitch", "RSS growth while joining", (rss_after - rss_before) / mib, "MiB",
                    note="second run, process RSS"),
        Measurement("twitch", f"same joins at Twitch's limit ({_TWITCH_JOINS_PER_10_S}/10 s)",
                    count / _TWITCH_JOINS_PER_10_S * 10.5, "s",
                    note="computed: the limit plus the pacer's 5% margin"),
    ]  # fmt: skip


def run(options: BenchOptions) -> list[Measurement]:
    count = int(options.extra.get("channels", 200 if options.quick else 1000))
    server = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "chatpulse.testing.irc_server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None  # noqa: S101 - PIPE was requested
        url = server.stdout.readline().split()[-1]
        joins = asyncio.run(_measure(url, count))
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()
    lines = 50_000 if options.quick else 300_000
    return joins + [asyncio.run(_firehose(count, lines))]


async def _firehose(channels: int, lines: int) -> Measurement:
    """What one ingest process does per event, minus the broker: read a synthetic firehose of
    ``channels`` channels, parse every line, encode the wire JSON."""
    from chatpulse.sources.synthetic.chat import SyntheticSource

    source = SyntheticSource(channels=channels, rate=None)
    seen = 0
    started = time.perf_counter()
    async for item in source.stream():
        if isinstance(item, RawLine):
            dumps(parse_line(item.line, item.received_at, "synthetic"))
        seen += 1
        if seen >= lines:
            break
    elapsed = time.perf_counter() - started
    await source.close()
    return Measurement("twitch", f"ingest path on a {channels:,}-channel synthetic firehose", seen / elapsed,
                       "events/s", note="source -> parse -> wire JSON, one process, no broker")  # fmt: skip
