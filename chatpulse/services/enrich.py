"""The enrich service: ``kafka.topic_raw`` -> sentiment -> ``kafka.topic_enriched``.

Stateless: run N processes with the same ``kafka.group_prefix`` and Kafka spreads the raw
topic's partitions over them. Each consumed batch is scored in one ``analyze`` call
(:func:`chatpulse.stages.score`, the embedded run's rule) and produced keyed by channel; offsets
are committed after the producer flushed (every enriched record acknowledged or spooled).
Records are read as partial views (:mod:`chatpulse.wire_views`): scoring needs a record's text
and emote spans, and the enriched record is the raw one with the verdict written in.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import Final

import msgspec
import orjson

from chatpulse.config import Settings
from chatpulse.events import ChatEvent, Sentiment
from chatpulse.metrics import StageMetrics
from chatpulse.sentiment import Analyzer, create_analyzer
from chatpulse.services.gc_tuning import with_gc_tuning
from chatpulse.services.runtime import STATUS_INTERVAL_S, ConsumerService, latencies_s, run_consumer_service
from chatpulse.sources.base import now_ms
from chatpulse.stages import latency_reference_ms, score
from chatpulse.transport.kafka import EventProducer, record_for
from chatpulse.wire import dumps_bytes, loads
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
    :func:`chatpulse.wire.dumps` writes every message), the verdict is written in its place,
    byte for byte what ``dumps`` would write. An unscored event keeps its raw bytes.
    """
    sentiment = getattr(event, "sentiment", None)
    return raw if sentiment is None else _spliced(raw, sentiment)


_SCORING: Final = msgspec.json.Decoder(ScoringView)


def decode_scoring(value: bytes) -> ScoringView | ChatEvent:
    """A raw record as the enrich stage reads it (:class:`~chatpulse.wire_views.ScoringView`,
    or a full event); raises WireFormatError for a record that is no event."""
    return decode_view(_SCORING, value)


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

    @property
    def passed_on(self) -> int:
        return self.produced

    def decode(self, value: bytes) -> ScoringView | ChatEvent:
        return decode_scoring(value)

    def process(self, records: Sequence[ScoringView | ChatEvent], values: Sequence[bytes]) -> None:
        # raises for a batch the analyzer cannot take (the consumer then isolates the record)
        verdicts = score(records, self.analyzer)
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


def run_enrich(
    settings: Settings,
    stop: threading.Event,
    *,
    analyzer: Analyzer | None = None,
    batch_size: int = 5000,
    commit_interval_s: float = 1.0,
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
    status_interval_s: float = STATUS_INTERVAL_S,
    on_ready: Callable[[ConsumerService], None] | None = None,
    tune_gc: bool = False,
) -> ConsumerService | None:
    """The enrich service until ``stop`` is set: ``chatpulse enrich``, ``run --kafka`` (which
    passes its ``analyzer``), tests and benchmarks all start it here.

    ``tune_gc``: for a process that only runs this service (see :mod:`chatpulse.services.gc_tuning`).
    """
    scorer = analyzer or create_analyzer(settings.sentiment)  # ModelError (exit 2) before joining

    def make_handler(producer: EventProducer, metrics: StageMetrics) -> EnrichStage:
        return EnrichStage(scorer, producer, settings.kafka.topic_enriched, metrics)

    return run_consumer_service(
        "enrich",
        settings,
        topic_in=settings.kafka.topic_raw,
        make_handler=make_handler,
        stop=stop,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
        on_ready=with_gc_tuning(on_ready) if tune_gc else on_ready,
        batch_size=batch_size,
        commit_interval_s=commit_interval_s,
        status_interval_s=status_interval_s,
    )
