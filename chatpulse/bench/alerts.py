"""``chatpulse bench alerts``: what alerts cost a run.

Measures, in one run:

- the alert thread's work per line (the store's rows of a batch -> per-minute groups -> the
  detector) beside the work a pool worker does for the same lines (parse, score, lay out rows):
  alerts run on their own thread of the main process, so their share is what they take from it;
- ``chatpulse run --replay FILE --speed max`` of synthetic chat (50 channels, raids, gift bombs
  and hype spikes, so alerts fire) without alerts, and with ``--alerts-on-replay`` posting to a
  webhook on 127.0.0.1 that never answers; paired runs in alternating order, the median of
  each. The target is on CPU time (the run's processes, workers included): on a shared machine
  the wall clock of one run moves by a third with the neighbours' load, its CPU time much less.
  ``alerts.drain_s`` is 0 here: the bounded wait for the last alerts at exit (5 s by default)
  is not part of the pipeline's work.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chatpulse.alerts.detect import AlertDetector
from chatpulse.alerts.rows import feed_batch
from chatpulse.bench import BenchOptions, Measurement
from chatpulse.config import SentimentSettings
from chatpulse.sentiment import create_analyzer
from chatpulse.sources.synthetic.chat import generate_lines
from chatpulse.stages import parse_lines, score, store_rows
from chatpulse.store.rows import StoreBatch
from chatpulse.testing.webhook_receiver import WebhookReceiver

BATCH = 5000  # lines per batch, as the run's reader cuts them
SHARE_TARGET = 0.05  # the alert thread's work per line, as a share of a worker's
CPU_TARGET = 1.05  # CPU per line of a run with a hanging webhook vs without alerts


def run(options: BenchOptions) -> list[Measurement]:
    count = 40_000 if options.quick else 200_000
    lines = list(generate_lines(count, channels=50, seed=5, rate=1000.0))
    worker_rate, batches = _worker_step(lines)
    alert_rate = max(_alert_thread(batches) for _ in range(3))
    share = worker_rate / alert_rate
    (plain, plain_cpu), (hanging, hanging_cpu) = _runs(lines, rounds=1 if options.quick else 3)
    ratio = hanging_cpu / plain_cpu
    return [
        Measurement("alerts", "pool worker: parse + score + rows", worker_rate, "lines/s"),
        Measurement("alerts", "alert thread: rows -> minute groups -> detector", alert_rate, "lines/s"),
        Measurement("alerts", "alert thread / worker, per line", share, "ratio", f"<= {SHARE_TARGET}",
                    share <= SHARE_TARGET),
        Measurement("alerts", f"run --replay ({count:,} lines, 50 channels), no alerts", plain, "lines/s",
                    note="wall clock, start-up included"),
        Measurement("alerts", "the same, alerts on, the webhook never answers", hanging, "lines/s",
                    note="wall clock, start-up included"),
        Measurement("alerts", "CPU per 100k lines, no alerts", plain_cpu, "s"),
        Measurement("alerts", "CPU per 100k lines, alerts on, hanging webhook", hanging_cpu, "s"),
        Measurement("alerts", "CPU: hanging webhook / no alerts", ratio, "ratio", f"<= {CPU_TARGET}",
                    ratio <= CPU_TARGET),
    ]  # fmt: skip


def _worker_step(lines: list[str]) -> tuple[float, list[StoreBatch]]:
    analyzer = create_analyzer(SentimentSettings())
    batches = []
    started = time.perf_counter()
    for start in range(0, len(lines), BATCH):
        chunk = lines[start : start + BATCH]
        events = parse_lines(chunk, [0] * len(chunk), "replay")
        batches.append(store_rows(events, score(events, analyzer)))
    return len(lines) / (time.perf_counter() - started), batches


def _alert_thread(batches: list[StoreBatch]) -> float:
    detector = AlertDetector()
    lines = sum(b.rows + b.skipped for b in batches)
    started = time.perf_counter()
    for batch in batches:
        feed_batch(detector, batch)
    return lines / (time.perf_counter() - started)


def _runs(lines: list[str], rounds: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """((lines/s, CPU s per 100k lines) without alerts, the same with a hanging webhook)."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    with (
        tempfile.TemporaryDirectory(prefix="chatpulse-bench-alerts-") as folder,
        WebhookReceiver(hang=True) as hook,
    ):
        recording = Path(folder) / "synthetic.irc"
        recording.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("CHATPULSE_") and "PROXY" not in k.upper()
        }
        env.update(CHATPULSE_ALERTS__DRAIN_S="0", CHATPULSE_ALERTS__TIMEOUT_S="600")
        for i in range(rounds):
            for alerts in (False, True) if i % 2 == 0 else (True, False):
                flags = ["--alerts-on-replay", "--alert-webhook", hook.url()] if alerts else []
                store = f"chdb://{Path(folder) / f'db-{i}-{alerts}'}"
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                subprocess.run(  # noqa: S603 - our own CLI, arguments built here
                    [sys.executable, "-m", "chatpulse", "run", "--replay", str(recording), "--speed", "max",
                     "--no-dashboard", "--store", store, *flags],
                    env=env, cwd=folder, check=True, capture_output=True, timeout=1800,
                )  # fmt: skip
                rates[alerts].append(len(lines) / (time.perf_counter() - started))
                # The run's CPU, its worker processes included (it waits for them before exiting).
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                cpu[alerts].append(used * 100_000 / len(lines))
    return (
        (statistics.median(rates[False]), statistics.median(cpu[False])),
        (statistics.median(rates[True]), statistics.median(cpu[True])),
    )
