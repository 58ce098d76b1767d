"""Versioned schema migrations: ``schema/NNN_name.sql`` files, applied in order, each once.

The files are plain ClickHouse SQL, run unchanged on chDB and on a server: one statement per
``;``-terminated block, ``--`` comment lines, and every statement ``... IF NOT EXISTS`` so a
migration cut off half-way can simply be run again. After a file's statements succeed its
version is recorded in ``chatpulse_schema``; :func:`migrate` skips recorded versions, so running
it twice changes nothing.

Retention (``store.ttl_days``) is configuration, not a migration: :func:`apply_retention` sets or
removes a TTL on each table, and only touches a table whose TTL differs, so it is idempotent too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Final

from chatpulse.errors import StoreError

if TYPE_CHECKING:
    from chatpulse.store import Store

SCHEMA_TABLE: Final = "chatpulse_schema"
_FILE_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
# Tables that get a TTL, with the time column it is measured on.
RETENTION_COLUMNS: Final = {
    "chat_messages": "sent_at",
    "chat_events": "sent_at",
    "chat_emotes": "sent_at",
    "chat_minute": "minute",
    "chat_emote_minute": "minute",
}
_TTL_DAYS = re.compile(r"\bTTL\b.*?toIntervalDay\((\d+)\)")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema file: its version, name and statements."""

    version: int
    name: str
    statements: tuple[str, ...]


def split_statements(sql: str) -> tuple[str, ...]:
    """``;``-terminated statements of a schema file, comment lines removed."""
    kept = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return tuple(part.strip() for part in "\n".join(kept).split(";") if part.strip())


def load_migrations() -> tuple[Migration, ...]:
    """Every schema file shipped in ``chatpulse/store/schema``, by version."""
    folder = resources.files("chatpulse.store") / "schema"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        text = entry.read_text(encoding="utf-8")
        found.append(Migration(int(match[1]), match[2], split_statements(text)))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"two schema files share a version: {versions}")
    return tuple(found)


def current_version(store: Store) -> int:
    """The highest applied migration, 0 on an empty store."""
    exists = store.query(
        "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        {"t": SCHEMA_TABLE},
    )
    if not exists or int(exists[0]["n"]) == 0:
        return 0
    rows = store.query("SELECT max(version) AS v FROM chatpulse_schema")
    return int(rows[0]["v"]) if rows and rows[0]["v"] is not None else 0


def migrate(store: Store, ttl_days: int | None = None) -> int:
    """Apply pending migrations in order, then the retention setting; returns the schema version.

    Raises :class:`StoreError` when a statement fails; versions applied before it stay recorded.
    """
    version = current_version(store)
    for migration in load_migrations():
        if migration.version <= version:
            continue
        for statement in migration.statements:
            store.command(statement)
        store.command(
            "INSERT INTO chatpulse_schema (version, name, applied_at) "
            "VALUES ({v:UInt32}, {n:String}, now64(3, 'UTC'))",
            {"v": migration.version, "n": migration.name},
        )
        version = migration.version
    apply_retention(store, ttl_days)
    return version


def apply_retention(store: Store, ttl_days: int | None) -> list[str]:
    """Make each table's TTL match ``ttl_days`` (None = keep everything); returns changed tables."""
    rows = store.query(
        "SELECT name, engine_full FROM system.tables "
        "WHERE database = currentDatabase() AND name IN {names:Array(String)}",
        {"names": list(RETENTION_COLUMNS)},
    )
    changed: list[str] = []
    for row in rows:
        table = str(row["name"])
        match = _TTL_DAYS.search(str(row["engine_full"]))
        current = int(match[1]) if match else None
        if current == ttl_days:
            continue
        if ttl_days is None:
            store.command(f"ALTER TABLE {table} REMOVE TTL")
        else:
            column = RETENTION_COLUMNS[table]
            store.command(
                f"ALTER TABLE {table} MODIFY TTL toDateTime({column}) + INTERVAL {int(ttl_days)} DAY"
            )
        changed.append(table)
    return changed
