"""ClickHouse storage: one schema on embedded chDB (default) or a ClickHouse server / Cloud.

Who calls what:

- ``open_store(settings.store)`` -> a :class:`Store` (``chdb:///path`` or ``clickhouse://...``).
- ``store.migrate()`` once at start-up (``chatpulse db migrate``, ``run``, ``sink``): applies
  pending ``schema/NNN_*.sql`` files, returns the schema version; idempotent.
- :class:`ClickHouseSink` (pipeline worker thread) turns events into columnar batches and calls
  ``store.insert``; the dashboard, ``query`` and ``report`` call ``store.query`` (SQL in
  :mod:`chatpulse.store.queries`).

Every method raises :class:`~chatpulse.errors.StoreError` on failure; the store stays usable
for the next call unless it was closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from chatpulse.config import StoreSettings
from chatpulse.store.dsn import ServerTarget, parse_dsn

if TYPE_CHECKING:
    from chatpulse.store.sink import ClickHouseSink


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


__all__ = ["ClickHouseSink", "Store", "open_store"]
