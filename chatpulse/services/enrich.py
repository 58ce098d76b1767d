"""The enrich service: ``kafka.topic_raw`` -> sentiment -> ``kafka.topic_enriched``.

Stateless: run N processes with the same ``kafka.group_prefix`` and Kafka spreads the raw
topic's partitions over them. Each consumed batch is scored in one ``analyze`` call
(:func:`chatpulse.sentiment.enrich_events`) and produced keyed by channel; offsets are committed
after the producer flushed (every enriched record acknowledged or spooled).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from chatpulse.events import ChatEvent
from chatpulse.metrics import StageMetrics
from chatpulse.sentiment import Analyzer, enrich_events
from chatpulse.services.runtime import latencies_s, latency_reference_ms
from chatpulse.sources.base import now_ms
from chatpulse.transport.kafka import EventProducer, event_record

_NO_SENTIMENT: Final = b',"sentiment":null}'


def with_sentiment(raw: bytes, event: ChatEvent) -> bytes | None:
    """The enriched record's value made from the raw one, or None to encode ``event`` afresh.

    Re-encoding a whole event costs more than scoring it, and the enriched record is the raw
    record plus one field: where the raw value ends with ``"sentiment":null`` (as
    :func:`chatpulse.events.dumps` writes every message), the verdict is written in its place,
    byte for byte what ``dumps`` would write. An unscored event keeps its raw bytes.
    """
    sentiment = getattr(event, "sentiment", None)
    if sentiment is None:
        return raw if raw.endswith(_NO_SENTIMENT) or b'"sentiment"' not in raw else None
    if not raw.endswith(_NO_SENTIMENT):
        return None
    verdict = {"label": sentiment.label, "score": sentiment.score, "confidence": sentiment.confidence,
               "model": sentiment.model}  # fmt: skip
    encoded = json.dumps(verdict, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"".join((raw[: -len(b"null}")], encoded, b"}"))


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

    def process(self, events: Sequence[ChatEvent], values: Sequence[bytes]) -> None:
        enriched = enrich_events(events, self.analyzer)  # raises for a batch the analyzer cannot take
        records = [
            event_record(self.topic_out, event, with_sentiment(value, event))
            for event, value in zip(enriched, values, strict=True)
        ]
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
