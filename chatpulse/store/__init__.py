"""ClickHouse storage: one schema on embedded chDB (default) or a ClickHouse server / Cloud.

Who calls what:

- ``open_store(settings.store)`` -> a :class:`Store` (``chdb:///path`` or ``clickhouse://...``).
- ``store.migrate()`` once at start-up (``chatpulse db migrate``, ``run``, ``sink``): applies
  pending ``schema/NNN_*.sql`` files, returns the schema version; idempotent.
- a :class:`Sink` (:class:`ClickHouseSink`) takes the runners' rows and writes them with
  ``store.insert``; the dashboard, ``query`` and ``report`` call ``store.query`` (SQL in
  :mod:`chatpulse.store.queries`).

Every method raises :class:`~chatpulse.errors.StoreError` on failure; the store stays usable
for the next call unless it was closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from chatpulse.config import StoreSettings
from chatpulse.store.dsn import ServerTarget, parse_dsn

if TYPE_CHECKING:
    from chatpulse.events import ChatEvent
    from chatpulse.store.rows import StoreBatch
    from chatpulse.store.sink import ClickHouseSink, SinkStats


class Store(Protocol):
    """A ClickHouse database holding the ChatPulse schema."""

    def migrate(self) -> int:
        """Apply pending migrations and the retention setting; return the schema version."""
        ...

    def insert(self, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        """Insert one columnar batch (equal-length sequences; DateTime64 values as int ms)."""
        ...

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a SELECT with ``{name:Type}`` parameters; rows as dicts."""
        ...

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing (DDL, INSERT ... SELECT, ALTER)."""
        ...

    def close(self) -> None:
        """Release the connection (chDB: the data folder's lock)."""
        ...


class Sink(Protocol):
    """Where both run shapes hand the store's rows: :class:`ClickHouseSink`.

    Who calls what: the embedded run's store thread calls :meth:`add_batch` with the rows its
    workers laid out (:func:`chatpulse.stages.store_rows`) and ``flush(wait=False)`` when a
    flush is due; the Kafka sink service calls :meth:`add_batch` per consumed batch and
    :meth:`flush` before every offset commit; tools and tests call :meth:`add` with events.
    Everyone calls :meth:`poll` when idle (age-based flushes, spool retries) and :meth:`close`
    at shutdown (a final flush). Calls are thread-safe.

    On failure: rows are never dropped. A store fault (:class:`~chatpulse.errors.StoreError`) is
    retried with capped backoff, then the batch goes to the on-disk spool and is written first
    when the store answers; rows the store refuses for their data
    (:class:`~chatpulse.errors.StoreDataError`) are set aside, not retried. ``add``/``add_batch``
    /``flush`` raise StoreError only when even the spool cannot be written: the caller must then
    stop without committing what it took (its input is replayed). A batch whose values the
    schema cannot hold raises ValueError from :func:`chatpulse.stages.store_rows` before it is
    ever added (the Kafka sink dead-letters its records).
    """

    stats: SinkStats

    def add(self, events: Sequence[ChatEvent]) -> None: ...

    def add_batch(self, batch: StoreBatch) -> None: ...

    def flush(self, *, wait: bool = True) -> None: ...

    def poll(self) -> None: ...

    def close(self) -> None: ...

    @property
    def spool_dir(self) -> Path: ...


def open_store(settings: StoreSettings) -> Store:
    """Open the store ``settings.dsn`` points at; raises ConfigError (bad DSN) or StoreError."""
    target = parse_dsn(settings.dsn)
    if isinstance(target, ServerTarget):
        from chatpulse.store.clickhouse import ServerStore

        password = settings.password.get_secret_value() if settings.password is not None else None
        return ServerStore(target, password, ttl_days=settings.ttl_days)
    from chatpulse.store.clickhouse import ChdbStore

    return ChdbStore(target, ttl_days=settings.ttl_days)


def __getattr__(name: str) -> Any:
    # ClickHouseSink imports pyarrow; keep `import chatpulse.store` light for the CLI.
    if name == "ClickHouseSink":
        from chatpulse.store.sink import ClickHouseSink

        return ClickHouseSink
    raise AttributeError(name)


__all__ = ["ClickHouseSink", "Sink", "Store", "open_store"]
