"""The at-least-once consumer loop: Kafka records -> events -> the next stage -> commit.

Who calls what: a service (``chatpulse enrich``, ``chatpulse sink``) builds an
:class:`EventConsumer` with a :class:`StageHandler` and calls :meth:`EventConsumer.run` on its
main thread; SIGINT/SIGTERM set the ``stop`` event and ``run`` returns after a final commit.

Per poll: each record is decoded by :meth:`StageHandler.decode` (into what that stage reads);
a record that cannot be decoded (:class:`~chatpulse.errors.WireFormatError`) goes to the
dead-letter topic with the error in a header. The decoded batch goes to
:meth:`StageHandler.process`; if that raises, the batch is retried record by record and the
records that still fail are dead-lettered. Consumption goes on.
:class:`~chatpulse.errors.StoreError` and :class:`~chatpulse.errors.TransportError` are not a
record's fault: they stop the loop without committing, so the records are consumed again later.

Offsets are committed only after :meth:`StageHandler.make_durable` (the next stage has durably
taken everything handed to it) and the dead-letter producer's flush both succeeded: every
``commit_interval_s``, when a poll comes back empty (caught up; at most
:data:`IDLE_COMMITS_PER_INTERVAL` times per interval), when partitions are revoked in a
rebalance (``on_revoke``), and at the end of :meth:`EventConsumer.run`. A crash between two
commits replays the records since the last commit; downstream removes the duplicates by event
id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from chatpulse.errors import ConfigError, StoreError, TransportError, WireFormatError
from chatpulse.transport.producer import EventProducer
from chatpulse.transport.properties import ClientConfig
from chatpulse.transport.spool import Header, SpooledRecord
from chatpulse.transport.topics import HEADER_ERROR, HEADER_ERROR_STAGE, HEADER_ORIGIN

log = logging.getLogger(__name__)

CONSUMER_DEFAULTS: Final[Mapping[str, str]] = {
    "enable.auto.commit": "false",  # commits follow durability (see module docstring)
    "enable.auto.offset.store": "false",
    "auto.offset.reset": "earliest",  # a new group starts at the oldest record: nothing skipped
    # The broker answers a fetch when 256 KiB are ready or after 100 ms, whichever first: under
    # load the default (answer at 1 byte) made it serve a stream of tiny fetches, which cost it
    # about half its CPU in the kafka e2e bench (/proc times: 23 -> 11 us per event); when chat
    # is slow a record waits at most the 100 ms.
    "fetch.wait.max.ms": "100",
    "fetch.min.bytes": "262144",
    "queued.max.messages.kbytes": "65536",  # bounds the prefetch buffer per consumer
}
IDLE_COMMITS_PER_INTERVAL: Final = 4
_FATAL_ERRORS: Final = (StoreError, TransportError)
MAX_ERROR_HEADER: Final = 1000


_Record = TypeVar("_Record")


class StageHandler(Protocol[_Record]):
    """The stage a consumer hands its records to (enrich, sink).

    ``decode`` is called with each record's value and returns what ``process`` takes (an event,
    or a view of the fields the stage reads: :mod:`chatpulse.wire_views`); it raises
    WireFormatError for a value that is no event. ``process`` is called with each decoded batch,
    in partition order, and the records' raw values (same length; a stage may pass them on
    instead of encoding again); it may buffer. It raises
    for events it cannot process (the consumer then isolates and dead-letters them), or
    StoreError/TransportError when the stage itself is failing (the consumer stops without
    committing). ``make_durable`` is called before every commit: True means everything passed
    to ``process`` so far is durable downstream (written, acknowledged or spooled); False means
    not yet (the commit waits). ``idle`` is called when a poll returned nothing.
    ``passed_on`` is read by the status line and metrics: events the stage passed on so far
    (produced downstream, or made durable in the store).
    """

    @property
    def passed_on(self) -> int: ...

    def decode(self, value: bytes) -> _Record: ...

    def process(self, records: Sequence[_Record], values: Sequence[bytes]) -> None: ...

    def make_durable(self) -> bool: ...

    def idle(self) -> None: ...


@dataclass(slots=True)
class ConsumerStats:
    """Counters for the status line and metrics."""

    consumed: int = 0  # records received (decodable or not)
    processed: int = 0  # records handed to the stage
    dead_letters: int = 0  # records sent to the dead-letter topic
    errors: dict[str, int] = field(default_factory=dict)  # kind -> count
    commits: int = 0
    lag: int | None = None  # records behind the high watermark, over the assignment
    assigned: tuple[int, ...] = ()  # partitions held now
    rebalances: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class EventConsumer:
    """Consumes one topic in a consumer group and feeds a :class:`StageHandler`."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        group_id: str,
        topic: str,
        handler: StageHandler[Any],
        dead_letters: EventProducer,
        deadletter_topic: str,
        stage: str,
        batch_size: int = 5000,
        poll_timeout_s: float = 0.2,
        commit_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        conf: dict[str, Any] = dict(CONSUMER_DEFAULTS)
        conf.update(config.to_dict())
        conf["group.id"] = group_id
        conf["error_cb"] = self._on_error
        conf["logger"] = logging.getLogger("librdkafka.consumer")
        try:
            self._consumer = Consumer(conf)
        except KafkaException as exc:
            raise ConfigError(f"kafka consumer configuration refused: {exc.args[0].str()}") from None
        self.topic = topic
        self.group_id = group_id
        self.stage = stage
        self.stats = ConsumerStats()
        self._handler = handler
        self._dead_letters = dead_letters
        self._deadletter_topic = deadletter_topic
        self._batch_size = batch_size
        self._poll_timeout_s = poll_timeout_s
        self._commit_interval_s = commit_interval_s
        self._clock = clock
        self._pending: dict[tuple[str, int], int] = {}  # (topic, partition) -> next offset to commit
        self._closed = False

    # --- the loop --------------------------------------------------------------------------

    def run(self, stop: threading.Event, max_records: int | None = None) -> None:
        """Consume until ``stop`` is set (or ``max_records`` were consumed); commit; close."""
        self._consumer.subscribe(
            [self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        last_commit = last_lag = self._clock()
        try:
            while not stop.is_set():
                messages = self._consumer.consume(self._batch_size, self._poll_timeout_s)
                if messages:
                    self._handle(messages)
                else:
                    self._handler.idle()
                    self._dead_letters.poll(0)
                now = self._clock()
                since_commit = now - last_commit
                # An empty poll means the stage has caught up: nothing more is coming to batch
                # with, so what it holds is made durable (and visible downstream) then instead of
                # at the next interval; at most IDLE_COMMITS_PER_INTERVAL times per interval, so
                # a trickle of chat cannot turn the sink's inserts into a stream of tiny ones.
                caught_up = not messages and self._pending
                if since_commit >= self._commit_interval_s or (
                    caught_up and since_commit >= self._commit_interval_s / IDLE_COMMITS_PER_INTERVAL
                ):
                    self.commit()
                    last_commit = now
                if now - last_lag >= 1.0:
                    self.stats.lag = self._lag()
                    last_lag = now
                if max_records is not None and self.stats.consumed >= max_records:
                    break
            self.commit()
        finally:
            self.close()

    def _handle(self, messages: Sequence[Any]) -> None:
        # One pass per record, as few calls as possible: this loop runs for every record.
        kept: list[Any] = []
        records: list[Any] = []
        values: list[bytes] = []
        decode = self._handler.decode
        offsets: dict[tuple[str, int], int] = {}  # what to commit once the batch is processed
        received = 0
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    self.stats.error("consume")
                    log.warning("kafka consume error: %s", error.str())
                continue
            received += 1
            offsets[(message.topic(), message.partition())] = message.offset() + 1
            value = message.value()
            try:
                if value is None:
                    raise WireFormatError("empty record (no value)")
                records.append(decode(value))
            except WireFormatError as exc:
                self.stats.error("decode")
                self._dead_letter(message, f"WireFormatError: {exc}")
                continue
            kept.append(message)
            values.append(value)
        self.stats.consumed += received
        if records:
            self._process(kept, records, values)
        self._pending.update(offsets)

    def _process(self, messages: list[Any], records: list[Any], values: list[bytes]) -> None:
        try:
            self._handler.process(records, values)
            self.stats.processed += len(records)
            return
        except _FATAL_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - any record's failure must not stop the stream
            log.warning("%s: a batch of %d failed (%s); retrying record by record",
                        self.stage, len(records), type(exc).__name__)  # fmt: skip
        for message, record, value in zip(messages, records, values, strict=True):
            try:
                self._handler.process([record], [value])
                self.stats.processed += 1
            except _FATAL_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - isolate the bad record, keep going
                self.stats.error("process")
                self._dead_letter(message, f"{type(exc).__name__}: {exc}")

    def _dead_letter(self, message: Any, error: str) -> None:
        """Send the original record, unchanged, to the dead-letter topic with the error."""
        origin = f"{message.topic()}/{message.partition()}/{message.offset()}"
        headers: list[Header] = list(message.headers() or ())
        headers += [
            (HEADER_ERROR, error[:MAX_ERROR_HEADER].encode("utf-8", "replace")),
            (HEADER_ERROR_STAGE, self.stage.encode()),
            (HEADER_ORIGIN, origin.encode()),
        ]
        record = SpooledRecord(
            topic=self._deadletter_topic,
            value=message.value() or b"",
            key=message.key(),
            headers=tuple(headers),
        )
        self._dead_letters.send_blocking(record)
        self.stats.dead_letters += 1
        log.warning("%s: record %s dead-lettered: %s", self.stage, origin, error[:200])

    # --- commits and rebalances --------------------------------------------------------------

    def commit(self) -> bool:
        """Commit everything processed, once the stage and the dead letters are durable."""
        if not self._pending:
            return True
        if not self._handler.make_durable():
            log.info("%s: downstream not durable yet; commit postponed", self.stage)
            return False
        if not self._dead_letters.flush():
            log.info("%s: dead letters not durable yet; commit postponed", self.stage)
            return False
        offsets = [TopicPartition(t, p, offset) for (t, p), offset in self._pending.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # The records will be consumed again (by us or by the partition's new owner).
            self.stats.error("commit")
            log.warning("%s: commit failed (%s); records since the last commit will be replayed",
                        self.stage, exc.args[0].str() if exc.args else exc)  # fmt: skip
            return False
        self._pending.clear()
        self.stats.commits += 1
        return True

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        self.stats.rebalances += 1
        self.stats.assigned = tuple(sorted(p.partition for p in partitions))
        log.info("%s: assigned %s partitions %s", self.stage, self.topic, list(self.stats.assigned))

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        # Commit what this worker processed before the partitions move to another worker, so the
        # new owner starts where we stopped instead of replaying.
        self.commit()
        revoked = {(p.topic, p.partition) for p in partitions}
        for key in revoked:
            self._pending.pop(key, None)
        self.stats.assigned = ()
        log.info("%s: revoked partitions %s", self.stage, sorted(p for _, p in revoked))

    def _on_lost(self, consumer: Any, partitions: list[Any]) -> None:
        # The group already gave them away: committing now would fail or overwrite the new
        # owner's progress; the records are replayed by the new owner instead.
        for p in partitions:
            self._pending.pop((p.topic, p.partition), None)
        self.stats.assigned = ()
        lost = [p.partition for p in partitions]
        log.warning("%s: lost partitions %s (session timed out?)", self.stage, lost)

    def _on_error(self, error: KafkaError) -> None:
        if error.code() in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT):
            self.stats.error("broker")
        log.warning("%s: kafka consumer: %s", self.stage, error.str())

    def _lag(self) -> int | None:
        try:
            assignment = self._consumer.assignment()
            if not assignment:
                return 0
            total = 0
            for position in self._consumer.position(assignment):
                _, high = self._consumer.get_watermark_offsets(position, cached=True)
                if high >= 0 and position.offset >= 0:
                    total += max(0, high - position.offset)
            return total
        except KafkaException:
            return None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._consumer.close()
