"""Kafka transport: the pieces the ``ingest`` / ``enrich`` / ``sink`` services are built from.

- :func:`client_config` (:mod:`.properties`): librdkafka settings from a ``client.properties``
  file and ``KAFKA_BOOTSTRAP_SERVERS``; secrets redacted in every repr.
- :func:`ensure_topics` (:mod:`.topics`): create/check the raw, enriched and dead-letter topics.
- :class:`EventProducer` (:mod:`.producer`): idempotent producer; on-disk spool while the broker
  is unreachable; back-pressure when the spool is full.
- :class:`EventConsumer` (:mod:`.consumer`): consumer group, commits after the next stage is
  durable, commit on revoke, dead letters for records that cannot be decoded or processed.
- :func:`open_producer`: an :class:`EventProducer` with this process's own spool folder.
"""

from __future__ import annotations

from chatpulse.config import KafkaSettings
from chatpulse.transport.consumer import ConsumerStats, EventConsumer, StageHandler
from chatpulse.transport.producer import EventProducer, ProducerStats, event_record, record_for
from chatpulse.transport.properties import ClientConfig, client_config, parse_properties
from chatpulse.transport.spool import RecordSpool, SpoolLock, lock_spool_folder
from chatpulse.transport.topics import Topics, ensure_topics

__all__ = [
    "ClientConfig",
    "ConsumerStats",
    "EventConsumer",
    "EventProducer",
    "ProducerStats",
    "RecordSpool",
    "SpoolLock",
    "StageHandler",
    "Topics",
    "client_config",
    "ensure_topics",
    "event_record",
    "record_for",
    "open_producer",
    "parse_properties",
]


def open_producer(
    settings: KafkaSettings, config: ClientConfig, stage: str, *, ensure: bool = True
) -> tuple[EventProducer, SpoolLock]:
    """A producer spooling to ``<kafka.spool_dir>/<stage>-<n>`` (a folder locked for this process).

    With ``ensure``, the topics are (re)checked each time the broker comes back before the spool
    is sent. The caller releases the lock after :meth:`EventProducer.close`.
    """
    lock = lock_spool_folder(settings.spool_dir, stage)
    spool = RecordSpool(lock.folder, max_bytes=settings.spool_max_mb * 2**20)

    def recheck_topics() -> None:
        ensure_topics(config, settings, timeout_s=5.0)

    return EventProducer(config, spool, on_broker_back=recheck_topics if ensure else None), lock
