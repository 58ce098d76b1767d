"""The three ChatPulse topics: created when missing, checked when present, at every start-up.

Called by each service before it produces or consumes (:func:`ensure_topics`). Topic names,
partitions and replication come from :class:`~chatpulse.config.KafkaSettings`. A topic that
exists with fewer partitions than configured is used as it is (with a warning): growing a
topic changes which partition a channel's key maps to, which an operator should decide.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from chatpulse.config import KafkaSettings
from chatpulse.errors import ConfigError, TransportError
from chatpulse.events import SCHEMA_VERSION

log = logging.getLogger(__name__)

# Record headers every ChatPulse record carries (DESIGN.md section 4).
HEADER_SCHEMA: Final = "chatpulse.schema"
HEADER_SOURCE: Final = "chatpulse.source"
HEADER_ERROR: Final = "chatpulse.error"
HEADER_ERROR_STAGE: Final = "chatpulse.error.stage"
HEADER_ORIGIN: Final = "chatpulse.origin"  # topic/partition/offset a dead letter came from
SCHEMA_HEADER_VALUE: Final = str(SCHEMA_VERSION).encode()


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic names one deployment uses."""

    raw: str
    enriched: str
    deadletter: str

    @classmethod
    def from_settings(cls, settings: KafkaSettings) -> Topics:
        return cls(settings.topic_raw, settings.topic_enriched, settings.topic_deadletter)

    def all(self) -> tuple[str, str, str]:
        return (self.raw, self.enriched, self.deadletter)


def ensure_topics(
    admin_config: Mapping[str, str], settings: KafkaSettings, timeout_s: float = 15.0
) -> dict[str, int]:
    """Create missing topics and return ``{topic: partitions}`` for all three.

    Raises :class:`ConfigError` when two names are the same, :class:`TransportError` when the
    cluster cannot be reached within ``timeout_s`` or refuses to create a topic (the message
    names the bootstrap servers, never credentials).
    """
    topics = Topics.from_settings(settings)
    if len(set(topics.all())) < 3:
        # enrich would read its own output forever (and librdkafka crashes on a create request
        # that names one topic twice).
        raise ConfigError("kafka.topic_raw, kafka.topic_enriched and kafka.topic_deadletter must differ")
    conf: dict[str, Any] = {**admin_config, "logger": logging.getLogger("librdkafka.admin")}
    admin = AdminClient(conf)
    where = admin_config.get("bootstrap.servers", "?")
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise TransportError(f"kafka at {where} is unreachable: {_reason(exc)}") from None
    partitions = {name: len(meta.partitions) for name, meta in metadata.topics.items() if meta.error is None}
    missing = [name for name in topics.all() if name not in partitions]
    if missing:
        replication = min(settings.replication_factor, max(1, len(metadata.brokers)))
        if replication < settings.replication_factor:
            log.warning("kafka has %d broker(s): creating topics with replication %d instead of %d",
                        len(metadata.brokers), replication, settings.replication_factor)  # fmt: skip
        requests = [NewTopic(name, settings.partitions, replication) for name in missing]
        for name, future in admin.create_topics(requests, request_timeout=timeout_s).items():
            try:
                future.result(timeout=timeout_s)
                log.info("created topic %s (%d partitions)", name, settings.partitions)
            except KafkaException as exc:
                if exc.args and exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    # Another worker created it a moment ago (so our metadata listed it with an
                    # error such as LEADER_NOT_AVAILABLE, or not at all).
                    listed = metadata.topics.get(name)
                    partitions[name] = (
                        len(listed.partitions) if listed and listed.partitions else settings.partitions
                    )
                    continue
                reason = _reason(exc)
                raise TransportError(f"kafka at {where} refused to create topic {name}: {reason}") from None
            except TimeoutError:
                raise TransportError(f"kafka at {where}: creating topic {name} timed out") from None
            partitions[name] = settings.partitions
    for name in topics.all():
        if partitions[name] < settings.partitions:
            log.warning("topic %s has %d partitions, fewer than kafka.partitions=%d; using it as it is",
                        name, partitions[name], settings.partitions)  # fmt: skip
    return {name: partitions[name] for name in topics.all()}


def _reason(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    if isinstance(error, KafkaError):
        return f"{error.name()}: {error.str()}"
    return str(exc)
