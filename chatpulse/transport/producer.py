"""The reliable producer: idempotent Kafka producer with an on-disk spool for broker outages.

Who calls what (one thread; confluent-kafka serves delivery callbacks inside ``poll``/``flush``,
so the spool is only ever touched from the caller's thread):

- :meth:`EventProducer.send` for each record; it returns False when the record could not be
  taken now (librdkafka's queue is full, or the broker is away and the spool is full): the
  caller waits and retries (:meth:`EventProducer.send_async` does that) so the source slows
  down instead of memory growing or records being dropped.
- :meth:`EventProducer.poll` often (serves delivery reports; probes the broker while it is away
  and sends the spool back when it returns).
- :meth:`EventProducer.flush` before a consumer commits offsets: on True every record sent so
  far was acknowledged by the broker (``acks=all``) or written to the spool and fsynced.
- :meth:`EventProducer.close` at shutdown.

Broker outages: librdkafka reports ``_ALL_BROKERS_DOWN`` through ``error_cb``, or a record
fails delivery. From then on new records are appended to the spool (in order); records that
were still inside librdkafka are either delivered when the broker returns or, after
``message.timeout.ms``, fail and are appended to the spool too. Every ``probe_interval_s`` the
producer asks the cluster for metadata; once it answers, the spool is sent oldest segment
first, each segment deleted only after all its records were acknowledged or re-spooled.
Ordering: kept in normal operation; records in flight when the broker went away may land after
later ones, and a segment interrupted by a second outage is sent again (at-least-once; the
store removes duplicates by event id).

Records Kafka rejects for good (too large, not authorized) are logged as errors and counted in
``stats.rejected``; a fatal producer error (idempotence state lost) makes every later call raise
:class:`TransportError` after spooling what it held, so a restart resends it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from confluent_kafka import KafkaError, KafkaException, Producer

from chatpulse.errors import ConfigError, TransportError
from chatpulse.events import ChatEvent
from chatpulse.transport.properties import ClientConfig
from chatpulse.transport.spool import Header, RecordSpool, SpooledRecord, read_segment
from chatpulse.transport.topics import HEADER_SCHEMA, HEADER_SOURCE, SCHEMA_HEADER_VALUE
from chatpulse.wire import dumps_bytes

log = logging.getLogger(__name__)

# Defaults a properties file may override. Batching: wait up to 10 ms to fill batches of up to
# 1 MiB, compressed with lz4 (cheap on CPU; chat JSON compresses ~4x). acks=all + idempotence:
# no duplicates or reordering from librdkafka's own retries.
PRODUCER_DEFAULTS: Final[Mapping[str, str]] = {
    "enable.idempotence": "true",
    "acks": "all",
    "compression.type": "lz4",
    "linger.ms": "10",
    "batch.size": "1048576",
    "batch.num.messages": "20000",
    "queue.buffering.max.messages": "200000",
    "queue.buffering.max.kbytes": "131072",
    "message.timeout.ms": "60000",
    "socket.keepalive.enable": "true",
}
_PERMANENT: Final = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.INVALID_RECORD,
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError._INVALID_ARG,
    }
)
_BROKERS_DOWN: Final = frozenset({KafkaError._ALL_BROKERS_DOWN})


@dataclass(slots=True)
class ProducerStats:
    """Counters for the status line and metrics."""

    sent: int = 0  # records handed to librdkafka (including spooled ones sent back)
    delivered: int = 0  # acknowledged by the broker (see EventProducer.delivered)
    delivery_errors: int = 0  # delivery reports with an error (then spooled or rejected)
    spooled: int = 0  # records written to the spool
    respooled: int = 0  # of those: records that failed inside librdkafka
    spool_sent: int = 0  # spooled records handed back to librdkafka
    rejected: int = 0  # records Kafka refused for good (logged)
    backpressure_waits: int = 0  # send() calls that returned False
    outages: int = 0  # times the producer switched to the spool


def event_record(topic: str, event: ChatEvent, value: bytes | None = None) -> SpooledRecord:
    """The Kafka record of one event: key = channel, headers = schema version and source.

    ``value`` is the event's wire JSON when the caller already has it (else it is encoded here).
    """
    return record_for(topic, event.channel, event.source, dumps_bytes(event) if value is None else value)


def record_for(topic: str, channel: str | None, source: str, value: bytes) -> SpooledRecord:
    """The Kafka record of an event's wire JSON ``value``, given the event's channel and source."""
    headers = _EVENT_HEADERS.get(source)
    if headers is None:
        headers = ((HEADER_SCHEMA, SCHEMA_HEADER_VALUE), (HEADER_SOURCE, source.encode()))
        if len(_EVENT_HEADERS) < _CACHED_HEADERS:
            _EVENT_HEADERS[source] = headers
    return SpooledRecord(topic, value, channel.encode() if channel else None, headers)


# Records of one source share one headers tuple, and the list confluent-kafka wants is made
# once per tuple: building both per record cost about a microsecond of each produce.
_CACHED_HEADERS: Final = 64
_EVENT_HEADERS: dict[str, tuple[Header, ...]] = {}
_KafkaHeaders = list[tuple[str, str | bytes | None]]  # what Producer.produce takes
_header_lists: dict[tuple[Header, ...], _KafkaHeaders] = {}


def _header_list(headers: tuple[Header, ...]) -> _KafkaHeaders:
    """``list(headers)``, shared for the headers of event records (confluent-kafka copies it)."""
    cached = _header_lists.get(headers)
    if cached is None:
        cached = [(name, value) for name, value in headers]
        if len(_header_lists) < _CACHED_HEADERS:  # dead letters' headers are all different
            _header_lists[headers] = cached
    return cached


class EventProducer:
    """Sends records to Kafka; spools them on disk while the broker is away."""

    def __init__(
        self,
        config: ClientConfig,
        spool: RecordSpool,
        *,
        probe_interval_s: float = 1.0,
        on_broker_back: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        conf: dict[str, Any] = dict(PRODUCER_DEFAULTS)
        conf.update(config.to_dict())
        conf["error_cb"] = self._on_error
        # Reports only for failures: a Python callback per acknowledged record would cost a third
        # of the producer's throughput; successes are counted as sent - failed - in flight.
        conf["on_delivery"] = self._on_delivery
        conf["delivery.report.only.error"] = True
        conf["logger"] = logging.getLogger("librdkafka.producer")
        try:
            self._producer = Producer(conf)
        except KafkaException as exc:
            raise ConfigError(f"kafka producer configuration refused: {exc.args[0].str()}") from None
        self.spool = spool
        self.stats = ProducerStats()
        self._probe_interval_s = probe_interval_s
        self._on_broker_back = on_broker_back
        self._clock = clock
        self._retry: deque[SpooledRecord] = deque()  # failed deliveries waiting for spool room
        self._degraded = not spool.is_empty()  # leftovers of an earlier run go before new records
        self._next_probe = 0.0
        self._spool_full_since: float | None = None
        self._fatal: str | None = None
        self._unpolled = 0
        if self._degraded:
            log.warning("kafka spool %s holds %.1f MiB from an earlier run; sending it first",
                        spool.folder, spool.size_bytes / 2**20)  # fmt: skip

    # --- sending ---------------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        """True while records go to the spool (the broker is, or was just, unreachable)."""
        return self._degraded

    def in_flight(self) -> int:
        """Records inside librdkafka not yet acknowledged."""
        return len(self._producer)

    def delivered(self) -> int:
        """Records the broker acknowledged so far (also written to ``stats.delivered``)."""
        self.stats.delivered = max(0, self.stats.sent - self.stats.delivery_errors - len(self._producer))
        return self.stats.delivered

    def send(self, record: SpooledRecord) -> bool:
        """Take ``record`` (to Kafka or the spool); False when the caller must wait and retry."""
        self._raise_if_fatal()
        if self._degraded or self._retry:
            self._move_retries_to_spool()
            if self._retry or not self.spool.append(record):
                self._spool_full()
                return False
            self.stats.spooled += 1
            self._spool_has_room()
            return True
        try:
            self._produce(record)
        except BufferError:
            self.stats.backpressure_waits += 1
            self._producer.poll(0)
            return False
        self._unpolled += 1
        if self._unpolled >= 1000:
            self._unpolled = 0
            self._producer.poll(0)
        return True

    def send_event(self, topic: str, event: ChatEvent) -> bool:
        """:meth:`send` of :func:`event_record`."""
        return self.send(event_record(topic, event))

    async def send_async(self, record: SpooledRecord, wait_s: float = 0.01) -> None:
        """:meth:`send`, awaiting (and polling) while the producer applies back-pressure."""
        while not self.send(record):
            await asyncio.sleep(wait_s)
            self.poll(0)

    def send_blocking(self, record: SpooledRecord, wait_s: float = 0.01) -> None:
        """:meth:`send`, blocking (and polling) while the producer applies back-pressure."""
        while not self.send(record):
            self.poll(wait_s)

    def _produce(self, record: SpooledRecord) -> None:
        self._producer.produce(record.topic, record.value, record.key, headers=_header_list(record.headers))
        self.stats.sent += 1

    # --- callbacks (run inside poll/flush, on the caller's thread) ---------------------------

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = f"{error.name()}: {error.str()}"
            log.error("kafka producer fatal error: %s", self._fatal)
        elif error.code() in _BROKERS_DOWN:
            self._enter_degraded(f"{error.name()}: {error.str()}")
        else:
            log.debug("kafka producer: %s", error.str())

    def _on_delivery(self, error: KafkaError | None, message: Any) -> None:
        if error is None:
            return
        self.stats.delivery_errors += 1
        record = SpooledRecord(
            topic=message.topic(),
            value=message.value() or b"",
            key=message.key(),
            headers=tuple(message.headers() or ()),
        )
        if error.code() in _PERMANENT:
            self.stats.rejected += 1
            log.error("kafka rejected a record for %s for good (%s); it is not retried",
                      record.topic, error.name())  # fmt: skip
            return
        self._retry.append(record)
        self.stats.respooled += 1
        self._enter_degraded(f"delivery failed: {error.name()}")

    def mark_unreachable(self, reason: str) -> None:
        """Spool from now on (e.g. the broker did not answer at start-up); probing starts now."""
        self._enter_degraded(reason)

    def _enter_degraded(self, reason: str) -> None:
        if not self._degraded:
            self.stats.outages += 1
            log.warning("kafka unreachable (%s): spooling records to %s until it returns",
                        reason, self.spool.folder)  # fmt: skip
        self._degraded = True
        self._next_probe = self._clock() + self._probe_interval_s

    # --- spool -----------------------------------------------------------------------------

    def _move_retries_to_spool(self) -> None:
        while self._retry:
            if not self.spool.append(self._retry[0]):
                return
            self._retry.popleft()
            self.stats.spooled += 1

    def _spool_full(self) -> None:
        self.stats.backpressure_waits += 1
        if self._spool_full_since is None:
            self._spool_full_since = self._clock()
            log.warning("kafka spool full (%.1f MiB in %s): slowing the source until the broker is back",
                        self.spool.size_bytes / 2**20, self.spool.folder)  # fmt: skip

    def _spool_has_room(self) -> None:
        if self._spool_full_since is not None:
            log.warning("kafka spool has room again after %.1f s of back-pressure",
                        self._clock() - self._spool_full_since)  # fmt: skip
            self._spool_full_since = None

    def poll(self, timeout: float = 0.0) -> None:
        """Serve delivery reports; while degraded, probe the broker and send the spool back."""
        self._producer.poll(timeout)
        if self._degraded and self._clock() >= self._next_probe:
            self._next_probe = self._clock() + self._probe_interval_s
            if self._broker_reachable():
                self._send_spool_back()

    def _broker_reachable(self) -> bool:
        try:
            self._producer.list_topics(timeout=min(1.0, self._probe_interval_s))
        except KafkaException:
            return False
        return True

    def _send_spool_back(self) -> None:
        if self._on_broker_back is not None:
            try:
                self._on_broker_back()
            except TransportError as exc:
                log.warning("kafka answered but is not ready (%s); keeping the spool", exc)
                return
        self._move_retries_to_spool()
        self.spool.seal()
        sent = 0
        for segment in self.spool.segments():
            for record in read_segment(segment):
                while True:
                    try:
                        self._produce(record)
                        break
                    except BufferError:
                        self._producer.poll(0.05)
                sent += 1
                self.stats.spool_sent += 1
            self._producer.flush(30.0)
            if len(self._producer) > 0:
                log.warning("kafka went away again while sending the spool; %s is kept", segment.name)
                return
            self.spool.remove(segment)  # every record delivered, or failed and queued for re-spooling
        self._move_retries_to_spool()
        if self._retry or not self.spool.is_empty():
            return  # some records failed again: stay degraded, try at the next probe
        self._degraded = False
        log.warning("kafka is back: sent %d spooled records; producing directly again", sent)

    # --- durability ------------------------------------------------------------------------

    def flush(self, timeout_s: float = 30.0) -> bool:
        """True when every record sent so far is acknowledged, or spooled and fsynced.

        While the broker is away, records still queued inside librdkafka are purged into the
        spool instead of waiting for ``message.timeout.ms``.
        """
        self._raise_if_fatal()
        deadline = self._clock() + timeout_s
        while len(self._producer) > 0 and self._clock() < deadline:
            if self._degraded:
                self._producer.purge(in_queue=True, in_flight=True)
            self._producer.poll(0.05)
        self._move_retries_to_spool()
        self.spool.sync()
        return len(self._producer) == 0 and not self._retry

    def drain(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the spool to be sent (the broker to return); True if empty.

        For a producer about to stop (the end of a replay): records left in the spool are not
        lost, the next start sends them first, but they reach the store only then.
        """
        deadline = self._clock() + timeout_s
        while self._degraded and self._clock() < deadline:
            self.poll(0.1)
        return not self._degraded

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush; records that still cannot go anywhere are purged into the spool."""
        durable = self.flush(timeout_s)
        if not durable:
            self._producer.purge(in_queue=True, in_flight=True)
            self._producer.poll(0.5)
            self._move_retries_to_spool()
            if self._retry:
                log.error("kafka producer closing with %d records neither delivered nor spooled "
                          "(spool full); they are lost", len(self._retry))  # fmt: skip
        self.spool.close()

    def _raise_if_fatal(self) -> None:
        if self._fatal is not None:
            self._move_retries_to_spool()
            self.spool.sync()
            raise TransportError(f"kafka producer failed: {self._fatal}")


def send_all(producer: EventProducer, records: Sequence[SpooledRecord]) -> None:
    """Send ``records`` in order, blocking on back-pressure (for worker threads)."""
    for record in records:
        producer.send_blocking(record)
