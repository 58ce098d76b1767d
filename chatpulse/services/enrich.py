"""The enrich service: ``kafka.topic_raw`` -> sentiment -> ``kafka.topic_enriched``.

Stateless: run N processes with the same ``kafka.group_prefix`` and Kafka spreads the raw
topic's partitions over them. Each consumed batch is scored in one ``analyze`` call
(:func:`chatpulse.sentiment.enrich_events`) and produced keyed by channel; offsets are committed
after the producer flushed (every enriched record acknowledged or spooled).
"""

from __future__ import annotations

from collections.abc import Sequence

from chatpulse.events import ChatEvent
from chatpulse.metrics import StageMetrics
from chatpulse.sentiment import Analyzer, enrich_events
from chatpulse.services.runtime import latencies_s, latency_reference_ms
from chatpulse.sources.base import now_ms
from chatpulse.transport.kafka import EventProducer, event_record


class EnrichStage:
    """:class:`~chatpulse.transport.consumer.StageHandler` that scores and re-publishes events."""

    def __init__(
        self, analyzer: Analyzer, producer: EventProducer, topic_out: str, metrics: StageMetrics
    ) -> None:
        self.analyzer = analyzer
        self.producer = producer
        self.topic_out = topic_out
        self.metrics = metrics
        self.produced = 0

    def process(self, events: Sequence[ChatEvent]) -> None:
        enriched = enrich_events(events, self.analyzer)  # raises for a batch the analyzer cannot take
        records = [event_record(self.topic_out, event) for event in enriched]
        for record in records:
            if not self.producer.send(record):
                self.producer.send_blocking(record)
        self.produced += len(records)
        now = now_ms()
        self.metrics.observe_latency(latencies_s((latency_reference_ms(e) for e in enriched), now))

    def make_durable(self) -> bool:
        return self.producer.flush()

    def idle(self) -> None:
        self.producer.poll(0)
