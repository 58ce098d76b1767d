"""The sink service: ``kafka.topic_enriched`` -> ClickHouse through :class:`ClickHouseSink`.

Events are buffered by the sink (``batch_size`` / ``max_age_s``); offsets are committed only
after :meth:`ClickHouseSink.flush` returned (everything stored, or in the sink's own on-disk
spool). Replays after a crash are harmless: the sink drops events the store already holds.
End-to-end latency is observed when the flush that made a message queryable returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from chatpulse.events import ChatEvent
from chatpulse.metrics import StageMetrics
from chatpulse.services.runtime import latencies_s, latency_reference_ms
from chatpulse.sources.base import now_ms

if TYPE_CHECKING:
    from chatpulse.store.sink import ClickHouseSink

# Latency is a distribution: a few hundred evenly spread samples per batch give the quantiles at
# a fraction of the cost of one locked histogram update per event; the cap bounds memory.
LATENCY_SAMPLES_PER_BATCH: Final = 256
LATENCY_SAMPLES: Final = 20_000  # per commit interval


class SinkStage:
    """:class:`~chatpulse.transport.consumer.StageHandler` that stores events."""

    def __init__(self, sink: ClickHouseSink, metrics: StageMetrics) -> None:
        self.sink = sink
        self.metrics = metrics
        self.stored = 0  # events made durable (stored or spooled, duplicates included)
        self._taken = 0
        self._references: list[int] = []

    def process(self, events: Sequence[ChatEvent], values: Sequence[bytes]) -> None:
        self.sink.add(events)
        self._taken += len(events)
        if len(self._references) < LATENCY_SAMPLES:
            step = max(1, len(events) // LATENCY_SAMPLES_PER_BATCH)
            self._references.extend(latency_reference_ms(e) for e in events[::step])

    def make_durable(self) -> bool:
        self.sink.flush()  # raises StoreError when even the spool cannot be written
        self.stored += self._taken
        self._taken = 0
        self.metrics.observe_latency(latencies_s(self._references, now_ms()))
        self._references.clear()
        return True

    def idle(self) -> None:
        self.sink.poll()
