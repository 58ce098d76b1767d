"""The run's alert hook: a sink wrapper that passes every stored batch to an alert thread.

Both run shapes (embedded and ``--kafka``) hand their rows to one sink, so wrapping it is the
one place that sees all chat in either. The wrapper only appends the batch to a bounded queue
(no copy: Arrow tables are immutable); a thread of its own groups the batch, runs the pure
detector and hands alerts to the webhook senders. If the thread ever falls behind, the oldest
batch is dropped (counted, logged) rather than the store thread waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chatpulse.alerts.detect import Alert, AlertDetector, VodRef, with_vod
from chatpulse.alerts.format import Format, render, summary
from chatpulse.alerts.rows import feed_batch
from chatpulse.alerts.webhook import WebhookSender
from chatpulse.events import ChatEvent
from chatpulse.store import Sink
from chatpulse.store.rows import StoreBatch
from chatpulse.store.sink import SinkStats

log = logging.getLogger(__name__)

VodLookup = Callable[[str, int], VodRef | None]  # (channel, ms) -> where that is in a VOD


@dataclass(frozen=True, slots=True)
class Target:
    """One webhook: its sender, body format and the alert kinds it wants (empty = all)."""

    sender: WebhookSender
    format: Format
    kinds: frozenset[str] = frozenset()


class AlertMonitor:
    """Runs the detector on its own thread and sends what it decides to every target."""

    def __init__(
        self,
        detector: AlertDetector,
        targets: Sequence[Target],
        *,
        dashboard_url: str | None = None,
        tick_wall_clock: bool = True,
        queue_batches: int = 256,
        drain_s: float = 5.0,
        vod_lookup: VodLookup | None = None,
        on_alert: Callable[[Alert], None] | None = None,
    ) -> None:
        """``tick_wall_clock``: live chat (silences are judged against the clock too); off for
        replays, whose time is the recording's. ``on_alert`` sees each alert (the status line)."""
        self.detector = detector
        self.targets = list(targets)
        self.dashboard_url = dashboard_url
        self.tick_wall_clock = tick_wall_clock
        self.drain_s = drain_s
        self.vod_lookup = vod_lookup
        self.on_alert = on_alert
        self.alerts = 0
        self.batches = 0
        self.dropped_batches = 0
        self._queue: deque[StoreBatch] = deque()
        self._queue_batches = queue_batches
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="chatpulse-alerts", daemon=True)
        self._thread.start()

    def offer(self, batch: StoreBatch) -> None:
        """Take ``batch`` for the detector; never waits (the store thread calls it)."""
        if not batch.messages.num_rows and not batch.events.num_rows:
            return
        with self._cond:
            if len(self._queue) >= self._queue_batches:
                self._queue.popleft()
                self.dropped_batches += 1
                log.warning("alerts: detector behind, dropped a batch (%d so far)", self.dropped_batches)
            self._queue.append(batch)
            self._cond.notify()

    def close(self) -> None:
        """Judge what is queued, then give the senders up to ``drain_s`` to deliver."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        deadline = time.monotonic() + self.drain_s
        for target in self.targets:
            target.sender.close(max(0.0, deadline - time.monotonic()))

    def report(self) -> str:
        """One line per run: alerts decided by kind, and each webhook's deliveries."""
        stats = self.detector.stats
        kinds = ", ".join(f"{kind} {n}" for kind, n in stats.fired.items()) or "none"
        held = f"; {stats.cooled} held back by the cooldown" if stats.cooled else ""
        lines = [f"alerts: {self.alerts} ({kinds}){held}"]
        if self.dropped_batches:
            lines.append(f"alerts: the detector skipped {self.dropped_batches} batches")
        for target in self.targets:
            s = target.sender.stats
            lines.append(f"  {target.format} webhook {target.sender.name}: {s.sent} sent, "
                         f"{s.retries} retries, {s.dropped} dropped, {s.failed} failed")  # fmt: skip
        return "\n".join(lines)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue and not self._closed:
                    self._cond.wait(1.0)
                batch = self._queue.popleft() if self._queue else None
                closed = self._closed
            try:
                if batch is not None:
                    self.batches += 1
                    self._publish(feed_batch(self.detector, batch))
                elif closed:
                    return
                if self.tick_wall_clock and not closed:
                    self._publish(self.detector.tick(time.time_ns() // 1_000_000))
            except Exception:  # a bug here must not end alerts for the rest of the run
                log.exception("alerts: could not judge a batch")

    def _publish(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            if self.vod_lookup is not None:
                alert = with_vod(alert, self.vod_lookup(alert.channel, alert.at_ms))
            self.alerts += 1
            log.info("alert: %s", summary(alert))
            if self.on_alert is not None:
                self.on_alert(alert)
            for target in self.targets:
                if not target.kinds or alert.kind in target.kinds:
                    target.sender.send(render(alert, target.format, self.dashboard_url))


class AlertingSink:
    """A :class:`~chatpulse.store.Sink` that also shows every batch it stores to an
    :class:`AlertMonitor`; everything else is the wrapped sink's."""

    def __init__(self, inner: Sink, monitor: AlertMonitor) -> None:
        self.inner = inner
        self.monitor = monitor
        self.stats: SinkStats = inner.stats  # the same object, updated in place by the sink

    @property
    def spool_dir(self) -> Path:
        return self.inner.spool_dir

    def add(self, events: Sequence[ChatEvent]) -> None:
        self.inner.add(events)  # tools and tests; the run paths use add_batch

    def add_batch(self, batch: StoreBatch) -> None:
        self.inner.add_batch(batch)  # first: a batch the sink refuses (raises) is no alert
        self.monitor.offer(batch)

    def flush(self, *, wait: bool = True) -> None:
        self.inner.flush(wait=wait)

    def poll(self) -> None:
        self.inner.poll()

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.monitor.close()
