"""``chatpulse bench e2e``: the embedded ``run`` pipeline end to end (DESIGN.md section 8).

1. Throughput: synthetic chat at full speed -> parse -> lexicon -> chDB, through the same
   :class:`~chatpulse.run.embedded.Pipeline` as ``chatpulse run`` (worker pool sized to the cores,
   bounded queues), into a fresh chDB folder. Sustained msgs/s = lines stored after the first
   flush / wall time from that flush to the end (pool start-up excluded, reported apart), with
   the peak resident memory of the parent and of the biggest worker. The synthetic generator
   runs in the parent, inside the pipeline's event loop, like any source; it costs about as
   much CPU per line as parsing and scoring do.
2. The same with the lines generated beforehand and fed from memory (new channels), i.e. the
   pipeline behind a source that costs next to nothing per line (as reading a socket does).
3. Latency: the same pipeline with its default (elastic) pool fed at 1,000 lines/s (paced
   synthetic chat); the time from each message's ``sent_at`` to the end of the flush that made
   it queryable, p50/p95.
4. Memory beside a stream: ``chatpulse run --demo --demo-history 0`` (four channels at 200
   lines/s, dashboard on, default pool) as a subprocess; peak RSS of all its processes.

Options (``--opt key=value``): ``lines`` (throughput run size), ``latency_s`` (latency run
length), ``workers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from chatpulse.bench import BenchOptions, Measurement
from chatpulse.config import SentimentSettings, StoreSettings
from chatpulse.run.embedded import Pipeline, PipelineConfig, default_workers
from chatpulse.sources.base import RawLine, Source, SourceItem, now_ms
from chatpulse.sources.synthetic.chat import SyntheticSource, generate_lines
from chatpulse.store import ClickHouseSink, Store, open_store

TARGET_MSGS_PER_S = 50_000
TARGET_P95_MS = 2000.0
LATENCY_RATE = 1000.0
TARGET_LIVE_RSS_MIB = 500.0


def _tree_rss_mib(root: int) -> tuple[float, int]:
    """Resident memory of ``root`` and every process below it (MiB), and how many there are."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= below
        grew = bool(below)
    total = 0
    for pid in tree:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) if "VmRSS:" in status else 0
    return total / 1024, len(tree)


def _live_run_memory(folder: Path, seconds: float) -> tuple[float, int]:
    """Peak RSS of all processes of ``chatpulse run --demo --demo-history 0`` with its dashboard:
    four channels at 200 lines/s, the load of a few live channels (no back-fill burst)."""
    command = [sys.executable, "-m", "chatpulse", "run", "--demo", "--demo-history", "0", "--port", "0",
               "--duration", str(seconds), "--store", f"chdb://{folder / 'live'}"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    peak, processes = 0.0, 0
    try:
        while proc.poll() is None:
            rss, count = _tree_rss_mib(proc.pid)
            peak, processes = max(peak, rss), max(processes, count)
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return peak, processes


class _Preloaded:
    """Lines made beforehand, fed from memory as fast as the pipeline takes them."""

    name = "synthetic"
    in_history = False  # see Source.in_history

    def history_stored(self) -> None:
        """No history: nothing waits for it."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._closed = False

    async def stream(self) -> AsyncIterator[SourceItem]:
        for i, line in enumerate(self.lines):
            if i % 256 == 0:
                await asyncio.sleep(0)
                if self._closed:
                    return
            yield RawLine(line, now_ms())

    async def close(self) -> None:
        self._closed = True


async def _throughput(
    store: Store, spool: Path, lines: int, workers: int, source: Source | None = None
) -> tuple[float, float, float]:
    """(overall msgs/s, sustained msgs/s after the first flush, seconds to the first flush)."""
    sink = ClickHouseSink(store, batch_size=100_000, max_age_s=5.0, spool_dir=spool)
    pipeline = Pipeline(
        source or SyntheticSource(channels=8, rate=None, seed=7, limit=lines),
        sink,
        SentimentSettings(),
        PipelineConfig(workers=workers),
    )
    started = time.perf_counter()
    first: tuple[float, int] | None = None

    async def watch() -> None:
        nonlocal first
        while first is None:
            if pipeline.counters.stored:
                first = (time.perf_counter(), pipeline.counters.stored)
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    counters = await pipeline.run()
    ended = time.perf_counter()
    watcher.cancel()
    steady_from, first_batch = first or (started, 0)
    steady = (counters.stored - first_batch) / max(ended - steady_from, 1e-9)
    return counters.stored / (ended - started), steady, steady_from - started


async def _latency(store: Store, spool: Path, seconds: float) -> tuple[float, float, int]:
    sink = ClickHouseSink(store, batch_size=100_000, max_age_s=5.0, spool_dir=spool)
    # Channels of their own: the throughput run above filed its chat minutes into the future.
    channels = [f"latency{i}" for i in range(8)]
    source = SyntheticSource(channels=channels, rate=LATENCY_RATE, seed=11, duration=seconds)
    # The default pool, as users run it: at 1k lines/s one thread does the work.
    pipeline = Pipeline(source, sink, SentimentSettings(), PipelineConfig())
    await pipeline.run()
    # Drop the first seconds: they include the worker pool's start-up, not the steady state.
    samples = sorted(list(pipeline.latencies)[len(pipeline.latencies) // 10 :])
    if not samples:
        return float("nan"), float("nan"), 0
    p50 = float(samples[len(samples) // 2])
    p95 = float(samples[min(len(samples) - 1, int(len(samples) * 0.95))])
    return p50, p95, pipeline.counters.messages


def run(options: BenchOptions) -> list[Measurement]:
    lines = int(options.extra.get("lines", 150_000 if options.quick else 400_000))
    seconds = float(options.extra.get("latency_s", 8 if options.quick else 20))
    workers = int(options.extra.get("workers", default_workers()))
    with tempfile.TemporaryDirectory(prefix="chatpulse-bench-e2e-") as folder:
        store = open_store(StoreSettings(dsn=f"chdb://{Path(folder) / 'db'}"))
        try:
            store.migrate()
            overall, steady, startup = asyncio.run(
                _throughput(store, Path(folder) / "spool1", lines, workers)
            )
            parent_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            worker_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            channels = [f"preloaded{i}" for i in range(8)]  # new channels: live data to the sink
            made = list(generate_lines(lines, channels, 7, 1000.0, now_ms()))
            _, preloaded, _ = asyncio.run(
                _throughput(store, Path(folder) / "spool3", lines, workers, _Preloaded(made))
            )
            del made
            p50, p95, measured = asyncio.run(_latency(store, Path(folder) / "spool2", seconds))
        finally:
            store.close()
        live_mib, live_processes = _live_run_memory(Path(folder), 15.0 if options.quick else 30.0)
    note = f"{lines:,} synthetic lines, 8 channels, {workers} worker process(es)"
    return [
        Measurement("e2e", "run pipeline, sustained: synthetic -> parse -> lexicon -> chDB", steady, "msgs/s",
                    f">= {TARGET_MSGS_PER_S:,}", steady >= TARGET_MSGS_PER_S, note),
        Measurement("e2e", "run pipeline, overall incl. worker start-up", overall, "msgs/s",
                    note=f"start-up {startup:.1f} s"),
        Measurement("e2e", "run pipeline, sustained, lines generated beforehand", preloaded, "msgs/s",
                    note="the synthetic generator's CPU left out (a socket source costs far less)"),
        Measurement("e2e", "peak RSS, parent process", parent_mib, "MiB"),
        Measurement("e2e", "peak RSS, largest worker process", worker_mib, "MiB"),
        Measurement("e2e", "latency sent_at -> queryable, p50 at 1k msgs/s", p50, "ms"),
        Measurement("e2e", "latency sent_at -> queryable, p95 at 1k msgs/s", p95, "ms",
                    f"<= {TARGET_P95_MS:,.0f}", p95 <= TARGET_P95_MS, f"{measured:,} msgs, {seconds:.0f} s"),
        Measurement("e2e", "live-like run --demo (4 channels, 200 lines/s): RSS of all processes", live_mib,
                    "MiB", f"<= {TARGET_LIVE_RSS_MIB:.0f}", live_mib <= TARGET_LIVE_RSS_MIB,
                    f"peak; {live_processes} process(es), dashboard on, default worker pool"),
    ]  # fmt: skip
