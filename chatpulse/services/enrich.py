"""The enrich service: ``kafka.topic_raw`` -> sentiment -> ``kafka.topic_enriched``.

Stateless: run N processes with the same ``kafka.group_prefix`` and Kafka spreads the raw
topic's partitions over them. Each consumed batch is scored in one ``analyze`` call (the events
:func:`chatpulse.sentiment.enrich_events` would score) and produced keyed by channel; offsets
are committed after the producer flushed (every enriched record acknowledged or spooled).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final, cast

import orjson

from chatpulse.events import ChatEvent, Sentiment, dumps_bytes
from chatpulse.metrics import StageMetrics
from chatpulse.sentiment import Analyzer, MessageLike

# The one rule of which events get a verdict, shared with enrich_events (the embedded pipeline).
from chatpulse.sentiment import is_scorable as scorable
from chatpulse.services.runtime import latencies_s, latency_reference_ms
from chatpulse.sources.base import now_ms
from chatpulse.transport.kafka import EventProducer, event_record

_NO_SENTIMENT: Final = b',"sentiment":null}'
# Latency is a distribution: a few hundred samples per batch give the same quantiles as every
# event, at a fraction of the cost (one locked histogram update each).
LATENCY_SAMPLES_PER_BATCH: Final = 256


def _spliced(raw: bytes, sentiment: Sentiment | None) -> bytes | None:
    """See :func:`with_sentiment` (which takes the event, this its sentiment)."""
    if sentiment is None:
        return raw if raw.endswith(_NO_SENTIMENT) or b'"sentiment"' not in raw else None
    if not raw.endswith(_NO_SENTIMENT):
        return None
    # orjson writes a Sentiment exactly as dumps_bytes writes the event's sentiment field.
    return b"".join((raw[: -len(b"null}")], orjson.dumps(sentiment), b"}"))


def with_sentiment(raw: bytes, event: ChatEvent) -> bytes | None:
    """The enriched record's value made from the raw one, or None to encode ``event`` afresh.

    Re-encoding a whole event costs more than scoring it, and the enriched record is the raw
    record plus one field: where the raw value ends with ``"sentiment":null`` (as
    :func:`chatpulse.events.dumps` writes every message), the verdict is written in its place,
    byte for byte what ``dumps`` would write. An unscored event keeps its raw bytes.
    """
    return _spliced(raw, getattr(event, "sentiment", None))


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
        sentiments: list[Sentiment | None] = [getattr(event, "sentiment", None) for event in events]
        targets = [i for i, event in enumerate(events) if scorable(event)]
        if targets:
            # raises for a batch the analyzer cannot take (the consumer then isolates the record)
            messages = cast("list[MessageLike]", [events[i] for i in targets])  # what scorable admits
            verdicts = self.analyzer.analyze(messages)
            for i, verdict in zip(targets, verdicts, strict=True):
                sentiments[i] = verdict
        # Records are built before any is sent: a failure above sends nothing of this batch.
        records = []
        for event, raw, sentiment in zip(events, values, sentiments, strict=True):
            value = _spliced(raw, sentiment)
            if value is None:  # a record in another layout (not written by dumps): encode afresh
                if sentiment is not None:
                    event = dataclasses.replace(event, sentiment=sentiment)  # type: ignore[call-arg]
                value = dumps_bytes(event)
            records.append(event_record(self.topic_out, event, value))
        send = self.producer.send
        for record in records:
            if not send(record):
                self.producer.send_blocking(record)
        self.produced += len(records)
        step = max(1, len(events) // LATENCY_SAMPLES_PER_BATCH)
        references = (latency_reference_ms(event) for event in events[::step])
        self.metrics.observe_latency(latencies_s(references, now_ms()))

    def make_durable(self) -> bool:
        return self.producer.flush()

    def idle(self) -> None:
        self.producer.poll(0)
