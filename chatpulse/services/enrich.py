"""The enrich service: ``kafka.topic_raw`` -> sentiment -> ``kafka.topic_enriched``.

Stateless: run N processes with the same ``kafka.group_prefix`` and Kafka spreads the raw
topic's partitions over them. Each consumed batch is scored in one ``analyze`` call (the events
:func:`chatpulse.sentiment.enrich_events` would score) and produced keyed by channel; offsets
are committed after the producer flushed (every enriched record acknowledged or spooled).
Records are read as partial views (:mod:`chatpulse.wire_views`): scoring needs a record's text
and emote spans, and the enriched record is the raw one with the verdict written in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final, cast

import msgspec
import orjson

from chatpulse.events import ChatEvent, Sentiment, dumps_bytes, loads
from chatpulse.metrics import StageMetrics
from chatpulse.sentiment import Analyzer, MessageLike

# The one rule of which events get a verdict, shared with enrich_events (the embedded pipeline).
from chatpulse.sentiment import is_scorable as scorable
from chatpulse.services.runtime import latencies_s, latency_reference_ms
from chatpulse.sources.base import now_ms
from chatpulse.transport.kafka import EventProducer, record_for
from chatpulse.wire_views import ScoringView, decode_view

_NO_SENTIMENT: Final = b',"sentiment":null}'
# Latency is a distribution: a few hundred samples per batch give the same quantiles as every
# event, at a fraction of the cost (one locked histogram update each).
LATENCY_SAMPLES_PER_BATCH: Final = 256


def _spliced(raw: bytes, sentiment: Sentiment) -> bytes | None:
    """See :func:`with_sentiment` (which takes the event, this its verdict)."""
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
    sentiment = getattr(event, "sentiment", None)
    return raw if sentiment is None else _spliced(raw, sentiment)


_SCORING: Final = msgspec.json.Decoder(ScoringView)


class EnrichStage:
    """:class:`~chatpulse.transport.consumer.StageHandler` that scores and re-publishes events.

    Records are read as :class:`~chatpulse.wire_views.ScoringView` (routing, times, text and
    emote spans); the enriched value is the raw one with the verdict spliced in."""

    def __init__(
        self, analyzer: Analyzer, producer: EventProducer, topic_out: str, metrics: StageMetrics
    ) -> None:
        self.analyzer = analyzer
        self.producer = producer
        self.topic_out = topic_out
        self.metrics = metrics
        self.produced = 0

    def decode(self, value: bytes) -> ScoringView | ChatEvent:
        return decode_view(_SCORING, value)

    def process(self, records: Sequence[ScoringView | ChatEvent], values: Sequence[bytes]) -> None:
        targets = [i for i, record in enumerate(records) if scorable(record)]
        verdicts: dict[int, Sentiment] = {}
        if targets:
            # raises for a batch the analyzer cannot take (the consumer then isolates the record)
            messages = cast("list[MessageLike]", [records[i] for i in targets])  # what scorable admits
            verdicts = dict(zip(targets, self.analyzer.analyze(messages), strict=True))
        # Records are built before any is sent: a failure above sends nothing of this batch.
        out = []
        for i, (record, raw) in enumerate(zip(records, values, strict=True)):
            verdict = verdicts.get(i)
            value = raw if verdict is None else _spliced(raw, verdict)
            if value is None:  # a record in another layout (not written by dumps): encode afresh
                value = dumps_bytes(dataclasses.replace(loads(raw), sentiment=verdict))  # type: ignore[call-arg]
            out.append(record_for(self.topic_out, record.channel, record.source, value))
        send = self.producer.send
        for item in out:
            if not send(item):
                self.producer.send_blocking(item)
        self.produced += len(out)
        step = max(1, len(records) // LATENCY_SAMPLES_PER_BATCH)
        references = (latency_reference_ms(record) for record in records[::step])
        self.metrics.observe_latency(latencies_s(references, now_ms()))

    def make_durable(self) -> bool:
        return self.producer.flush()

    def idle(self) -> None:
        self.producer.poll(0)
