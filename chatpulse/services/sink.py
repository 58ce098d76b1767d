"""The sink service: ``kafka.topic_enriched`` -> ClickHouse through :class:`ClickHouseSink`.

Events are buffered by the sink (``batch_size`` / ``max_age_s``); offsets are committed only
after :meth:`ClickHouseSink.flush` returned (everything stored, or in the sink's own on-disk
spool). Replays after a crash are harmless: the sink drops events the store already holds.
End-to-end latency is observed when the flush that made a message queryable returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import msgspec
import pyarrow as pa

from chatpulse.errors import WireFormatError
from chatpulse.events import ChatEvent, loads
from chatpulse.metrics import StageMetrics
from chatpulse.services.runtime import latencies_s, latency_reference_ms
from chatpulse.sources.base import now_ms
from chatpulse.store.rows import store_batch
from chatpulse.wire_views import MessageView, decode_view

if TYPE_CHECKING:
    from chatpulse.store.sink import ClickHouseSink

# Each insert batch costs chDB about 0.1 s of CPU besides its rows (statements, new parts and
# their merges, materialized views, moderation lookups). Measured with a chDB sink fed 200k
# xqcow events: 24 us of CPU per event in 10k-row batches, 16 us in 30k-row ones. So under load
# the sink writes all that arrived within ``max_age_s`` in one batch, up to BATCH_ROWS; polls
# decode at most POLL_RECORDS records at a time.
BATCH_ROWS: Final = 100_000
POLL_RECORDS: Final = 10_000


# Latency is a distribution: a few hundred evenly spread samples per batch give the quantiles at
# a fraction of the cost of one locked histogram update per event; the cap bounds memory.
LATENCY_SAMPLES_PER_BATCH: Final = 256
LATENCY_SAMPLES: Final = 20_000  # per commit interval


_MESSAGES: Final = msgspec.json.Decoder(MessageView)


class SinkStage:
    """:class:`~chatpulse.transport.consumer.StageHandler` that stores events.

    Chat messages are read as :class:`~chatpulse.wire_views.MessageView` (what the store keeps
    of them) and laid out as rows without becoming events; other records are decoded in full."""

    def __init__(self, sink: ClickHouseSink, metrics: StageMetrics) -> None:
        self.sink = sink
        self.metrics = metrics
        self.stored = 0  # events made durable (stored or spooled, duplicates included)
        self._taken = 0
        self._references: list[int] = []

    def decode(self, value: bytes) -> MessageView | ChatEvent:
        record = decode_view(_MESSAGES, value)
        if isinstance(record, MessageView) and not (
            record.kind == "message" and record.id and record.channel
        ):
            return loads(value)  # not a chat message the store keeps as it is: the event decides
        return record

    def process(self, records: Sequence[MessageView | ChatEvent], values: Sequence[bytes]) -> None:
        try:
            batch = store_batch(records)
            references: list[int] = []
            if len(self._references) < LATENCY_SAMPLES:
                step = max(1, len(records) // LATENCY_SAMPLES_PER_BATCH)
                references = [latency_reference_ms(r) for r in records[::step]]
        except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
            # A record's fault, not the store's: the consumer isolates and dead-letters it.
            raise WireFormatError(f"a record the store cannot hold: {exc}") from exc
        self.sink.add_batch(batch)  # last: a batch is buffered whole or not at all
        self._taken += len(records)
        self._references.extend(references)

    def make_durable(self) -> bool:
        self.sink.flush()  # raises StoreError when even the spool cannot be written
        self.stored += self._taken
        self._taken = 0
        self.metrics.observe_latency(latencies_s(self._references, now_ms()))
        self._references.clear()
        return True

    def idle(self) -> None:
        self.sink.poll()
