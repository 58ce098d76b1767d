"""The live status line of long-running commands (``run``, ``ingest``, ``enrich``, ``sink``), on stderr.

The pipeline owns the counters; this module only renders them. Call :meth:`StatusLine.run` as an
asyncio task (or :meth:`StatusLine.tick` from a service's thread): every ``interval_s`` it takes a
:class:`StatusSnapshot` from the ``snapshot``
callable, turns counter differences into per-stage rates, and redraws one line with rich (a
terminal) or prints a plain line every ``plain_every_s`` (a pipe or a log file, so logs stay
readable). :meth:`StatusLine.final` prints the closing summary. Rendering never raises into the
pipeline: a failing ``snapshot`` call shows as ``status unavailable``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.text import Text

from chatpulse.metrics import StageSnapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """What the pipeline reports at one moment."""

    totals: Mapping[str, int]  # stage name -> items through it so far, in pipeline order
    queues: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # name -> (depth, size)
    errors: Mapping[str, int] = field(default_factory=dict)  # kind -> count
    latency_ms: tuple[float, float] | None = None  # (p50, p95) of recent end-to-end latencies
    extra: str = ""  # e.g. the dashboard address


def stage_status(stage: str, snap: StageSnapshot) -> StatusSnapshot:
    """A Kafka service's counters as a status snapshot: records in and out, lag, dead letters,
    errors and spool size (pure)."""
    extra = [f"lag {snap.consumer_lag:,}"] if snap.consumer_lag is not None else []
    extra += [f"dead letters {snap.dead_letters:,}", f"spool {snap.spool_bytes / 2**20:.1f} MiB"]
    return StatusSnapshot(
        totals={f"{stage} in": snap.events_in, "out": snap.events_out},
        errors=dict(snap.errors),
        extra=" │ ".join(extra),
    )


class RecentRate:
    """Items per second over the last few seconds, from a growing total (``/api/status``)."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._marks: deque[tuple[float, int]] = deque([(time.monotonic(), 0)])

    def __call__(self, total: int) -> float:
        now = time.monotonic()
        marks = self._marks
        marks.append((now, total))
        while len(marks) > 2 and now - marks[0][0] > self.window_s:
            marks.popleft()
        (then, before), (_, latest) = marks[0], marks[-1]
        return (latest - before) / (now - then) if now - then > 0.5 else 0.0


def _compact(number: float) -> str:
    if number >= 1_000_000:
        return f"{number / 1_000_000:.1f}M"
    if number >= 10_000:
        return f"{number / 1000:.0f}k"
    if number >= 1000:
        return f"{number / 1000:.1f}k"
    return f"{number:.0f}"


def render(snap: StatusSnapshot, rates: Mapping[str, float], elapsed_s: float, final: bool = False) -> Text:
    """One status line as rich Text (pure; tested without a terminal)."""
    line = Text()
    line.append("■ done " if final else "● ", style="bold green" if not final else "bold")
    line.append(f"{elapsed_s:,.0f}s", style="bold")
    for stage, total in snap.totals.items():
        line.append(" │ ", style="dim")
        line.append(f"{stage} ")
        line.append(f"{total:,}", style="bold")
        if not final:
            line.append(f" {_compact(rates.get(stage, 0.0))}/s", style="cyan")
        else:
            line.append(f" ({_compact(total / max(elapsed_s, 1e-9))}/s avg)", style="cyan")
    if snap.queues and not final:
        line.append(" │ queues ", style="dim")
        line.append(
            " ".join(f"{name} {depth}/{size}" for name, (depth, size) in snap.queues.items()),
            style="yellow",
        )
    if snap.latency_ms is not None:
        p50, p95 = snap.latency_ms
        line.append(" │ latency ", style="dim")
        line.append(f"p50 {p50 / 1000:.2f}s p95 {p95 / 1000:.2f}s", style="magenta")
    errors = sum(snap.errors.values())
    line.append(" │ ", style="dim")
    if errors:
        detail = ", ".join(f"{kind} {count:,}" for kind, count in snap.errors.items() if count)
        line.append(f"errors {detail}", style="bold red")
    else:
        line.append("errors 0", style="green")
    if snap.extra:
        line.append(" │ ", style="dim")
        line.append(snap.extra)
    return line


class StatusLine:
    """Redraws the pipeline's status on stderr until cancelled."""

    def __init__(
        self,
        snapshot: Callable[[], StatusSnapshot],
        interval_s: float = 0.5,
        plain_every_s: float = 10.0,
        console: Console | None = None,
    ) -> None:
        self._snapshot = snapshot
        self._interval_s = interval_s
        self._plain_every_s = plain_every_s
        self._console = console or Console(stderr=True)
        self._started = time.monotonic()
        self._last: tuple[float, Mapping[str, int]] | None = None
        self._rates: dict[str, float] = {}
        self._printed = self._started

    def _take(self) -> Text:
        try:
            snap = self._snapshot()
        except Exception:  # a status line must never take the pipeline down
            log.debug("status snapshot failed", exc_info=True)
            return Text("status unavailable", style="red")
        now = time.monotonic()
        # The first line's rates are taken since the start (not 0/s while lines flow).
        since, before = self._last if self._last is not None else (self._started, {})
        seconds = max(now - since, 1e-6)
        self._rates = {
            stage: (total - before.get(stage, 0)) / seconds for stage, total in snap.totals.items()
        }
        self._last = (now, dict(snap.totals))
        return render(snap, self._rates, now - self._started)

    async def run(self) -> None:
        """Redraw until cancelled (the caller cancels it at shutdown)."""
        if self._console.is_terminal:
            with Live(self._take(), console=self._console, auto_refresh=False, transient=True) as live:
                while True:
                    await asyncio.sleep(self._interval_s)
                    live.update(self._take(), refresh=True)
        else:
            while True:
                await asyncio.sleep(self._plain_every_s)
                self._console.print(self._take(), soft_wrap=True)

    def tick(self) -> None:
        """Print a plain line when ``plain_every_s`` has passed since the last one: for a
        service that drives the line from its own thread instead of :meth:`run`."""
        now = time.monotonic()
        if now - self._printed >= self._plain_every_s:
            self._printed = now
            self._console.print(self._take(), soft_wrap=True)

    def final(self) -> None:
        """Print the closing summary line (totals and average rates)."""
        try:
            snap = self._snapshot()
        except Exception:
            log.debug("status snapshot failed", exc_info=True)
            return
        self._console.print(render(snap, {}, time.monotonic() - self._started, final=True), soft_wrap=True)
