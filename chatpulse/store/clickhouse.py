"""The two store backends: embedded chDB (default) and a ClickHouse server via clickhouse-connect.

Both run the same SQL (``{name:Type}`` query parameters, the schema files) and take columnar
batches as ``{column: sequence}`` with plain Python values: ``str``, ``int``, ``float``, ``bool``,
``None`` for Nullable columns, ``dict`` for Map columns, and **integer milliseconds since the
epoch for DateTime64(3) columns** (the events' in-memory time unit).

Every failure surfaces as :class:`~chatpulse.errors.StoreError`; the server password never
appears in one (messages are scrubbed of it).

- chDB: the batch becomes a pyarrow table (types taken from the table's columns) streamed in as
  ``ArrowStream``; of the ways chDB 4.4 takes columns (``Python()`` table function on a dict or
  an Arrow table, pandas, text formats) this was the fastest that carries Map and Nullable
  columns (``chatpulse bench store`` measures it). A chDB data folder belongs to one process, and
  one chDB connection runs one statement at a time, so every call holds a lock.
- server: ``client.insert(column_oriented=True)`` with the same columns.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

from chatpulse.errors import StoreDataError, StoreError
from chatpulse.store.chdb_folder import (
    held_error,
    holder,
    native_reason,
    native_stderr_captured,
    prepare_folder,
)
from chatpulse.store.dsn import ChdbTarget, ServerTarget
from chatpulse.store.migrations import migrate

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Inserts skip ClickHouse's merge of each inserted block by the table engine (setting
# ``optimize_on_insert``, default 1, ClickHouse settings reference): it would only collapse rows
# of one block that share a sorting key, and the sink never writes such rows (it drops
# duplicates before inserting and writes moderation markers in an INSERT of their own). The
# aggregate tables' materialized views group their block themselves. Skipping it cut the
# sink's insert time per event from 5.0-5.9 to 3.5-3.7 us (a chDB sink fed 200k xqcow
# events in a script).
INSERT_SETTINGS: Final = "SETTINGS optimize_on_insert = 0"
_SCALAR_ARROW: Final[dict[str, pa.DataType]] = {
    "String": pa.string(),
    "Bool": pa.bool_(),
    "UInt8": pa.uint8(),
    "UInt16": pa.uint16(),
    "UInt32": pa.uint32(),
    "UInt64": pa.uint64(),
    "Int8": pa.int8(),
    "Int16": pa.int16(),
    "Int32": pa.int32(),
    "Int64": pa.int64(),
    "Float32": pa.float32(),
    "Float64": pa.float64(),
}
_DATETIME64 = re.compile(r"^DateTime64\((\d)(?:,\s*'([^']+)')?\)$")
_WRAPPERS = ("LowCardinality(", "Nullable(")


def arrow_type(clickhouse_type: str) -> pa.DataType | None:
    """The Arrow type that carries a ClickHouse column's Python values; None = let Arrow infer.

    DateTime64(3) maps to ``timestamp[ms]``, which Arrow builds straight from integer ms.
    """
    text = clickhouse_type.strip()
    changed = True
    while changed:
        changed = False
        for wrapper in _WRAPPERS:
            if text.startswith(wrapper) and text.endswith(")"):
                text, changed = text[len(wrapper) : -1], True
    if text in _SCALAR_ARROW:
        return _SCALAR_ARROW[text]
    match = _DATETIME64.match(text)
    if match:
        unit = {"0": "s", "3": "ms", "6": "us", "9": "ns"}.get(match[1])
        return pa.timestamp(unit, tz=match[2] or "UTC") if unit else None
    if text.startswith("Map(") and text.endswith(")"):
        key_text, _, value_text = text[4:-1].partition(",")
        key, value = arrow_type(key_text), arrow_type(value_text)
        if key is not None and value is not None:
            return pa.map_(key, value)
    return None


def format_chdb_param(value: Any) -> Any:
    """A Python value as chDB wants a query parameter: text in ClickHouse's escaped format.

    chDB 4.4 passes ints, floats and bools through but parses strings as escaped text and
    cannot take lists, so those are formatted here (the server backend lets clickhouse-connect
    do the same).
    """
    if isinstance(value, bool | int | float):
        return value
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ",".join(_literal(item) for item in value) + "]"
    raise StoreError(f"unsupported query parameter type {type(value).__name__}")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, datetime):
        return "'" + value.strftime("%Y-%m-%d %H:%M:%S.%f") + "'"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_literal(item) for item in value) + "]"
    raise StoreError(f"unsupported query parameter type {type(value).__name__}")


# ClickHouse names the error after its code, e.g. "... (CANNOT_PARSE_DATETIME)" (the names of
# src/Common/ErrorCodes.cpp). These say the rows themselves are wrong: retrying cannot help.
_DATA_ERRORS: Final = re.compile(
    r"\((CANNOT_PARSE_\w+|TYPE_MISMATCH|CANNOT_CONVERT_TYPE|INCORRECT_DATA|"
    r"VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE|CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN|TOO_LARGE_STRING_SIZE)\)"
)


def insert_failure(table: str, reason: str) -> StoreError:
    """The error for a failed INSERT: :class:`StoreDataError` when ClickHouse refused the rows
    themselves, else :class:`StoreError` (a store fault, worth retrying)."""
    kind = StoreDataError if _DATA_ERRORS.search(reason) else StoreError
    return kind(f"insert into {table} failed: {reason}")


def _check_table(table: str) -> None:
    if not _TABLE_NAME.match(table):
        raise StoreError(f"invalid table name {table!r}")


class ChdbStore:
    """Embedded ClickHouse in a local folder (or ``:memory:``). Thread-safe; one per process."""

    def __init__(self, target: ChdbTarget, ttl_days: int | None = None) -> None:
        from chdb import session  # heavy import, only when the embedded store is used

        self.target = target
        self._ttl_days = ttl_days
        self._lock = threading.Lock()
        self._arrow_schemas: dict[str, dict[str, pa.DataType | None]] = {}
        folder = None if target.path == ":memory:" else Path(target.path).expanduser()
        if folder is not None:
            prepare_folder(folder, target.path)  # a file, or not creatable: one line, exit 2
            pid = holder(folder)
            if pid is not None:
                raise held_error(folder, target.path, pid)
        printed: list[str] = []
        try:
            open_session: Any = session.Session
            # Native code prints some failures onto stderr itself: captured, the message says it.
            with native_stderr_captured() as printed:
                self._session: Any = open_session(None if folder is None else str(folder))
        except Exception as exc:  # chDB raises RuntimeError subclasses with ClickHouse's message
            # The exception may say only "Error initializing EmbeddedServer: ." while the cause
            # (e.g. "Cannot lock file .../status") went to the captured stderr.
            said = f"{exc} {' '.join(printed)}"
            if "already initialized with path" in said:
                raise StoreError(
                    f"cannot open chDB data folder {target.path}: this process already has another "
                    "chDB folder open (chDB allows one per process; close the other store first)"
                ) from None
            if "cannot lock file" in said.lower():
                raise StoreError(
                    f"chDB data folder {target.path} is in use by another process "
                    "(a chDB folder belongs to one process; stop the other one or use another folder)"
                ) from None
            reason = native_reason(str(exc), " ".join(printed))
            raise StoreError(f"cannot open chDB data folder {target.path}: {reason}") from None

    def migrate(self) -> int:
        return migrate(self, self._ttl_days)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.query_arrow(sql, params).to_pylist()
        return rows

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._run(sql, params, "Null")

    def query_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """A SELECT's result as a pyarrow table (ClickHouse's types, in the SELECT's order)."""
        table: pa.Table = self._run(sql, params, "ArrowTable")
        return table

    def insert(self, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        _check_table(table)
        if not columns:
            return
        batch = self.to_arrow(table, columns)
        if batch.num_rows == 0:
            return
        self.insert_arrow(table, batch)

    def to_arrow(self, table: str, columns: Mapping[str, Sequence[Any]]) -> pa.Table:
        """The batch as a pyarrow table typed like ``table``'s columns."""
        schema = self._arrow_schema(table)
        unknown = [name for name in columns if name not in schema]
        if unknown:
            raise StoreError(f"table {table} has no column {unknown[0]!r}")
        try:
            arrays = [pa.array(values, type=schema[name]) for name, values in columns.items()]
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            raise StoreDataError(f"bad values for {table}: {exc}") from exc
        return pa.Table.from_arrays(arrays, names=list(columns))

    def insert_arrow(self, table: str, batch: pa.Table) -> None:
        """Stream a pyarrow table into ``table`` (columns by name) as one INSERT."""
        _check_table(table)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_table(batch)
        payload = sink.getvalue().to_pybytes()
        names = ", ".join(f"`{name}`" for name in batch.column_names)
        with self._lock:
            session = self._open_session()
            try:
                statement = f"INSERT INTO {table} ({names}) {INSERT_SETTINGS}"
                inserter = session.send_insert(statement, "ArrowStream")
                try:
                    inserter.append(payload)
                    inserter.finish()
                except BaseException:
                    inserter.cancel()
                    raise
            except Exception as exc:
                raise insert_failure(table, str(exc)) from None

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def _open_session(self) -> Any:
        if self._session is None:
            raise StoreError("the store is closed")
        return self._session

    def _run(self, sql: str, params: Mapping[str, Any] | None, fmt: str) -> Any:
        formatted = {name: format_chdb_param(value) for name, value in (params or {}).items()}
        with self._lock:
            session = self._open_session()
            try:
                return session.query(sql, fmt, params=formatted)
            except Exception as exc:
                raise StoreError(str(exc).strip()) from None

    def _arrow_schema(self, table: str) -> dict[str, pa.DataType | None]:
        schema = self._arrow_schemas.get(table)
        if schema is None:
            rows = self.query(
                "SELECT name, type FROM system.columns "
                "WHERE database = currentDatabase() AND table = {t:String}",
                {"t": table},
            )
            if not rows:
                raise StoreError(f"no table {table}; run `chatpulse db migrate` first")
            schema = self._arrow_schemas[table] = {r["name"]: arrow_type(r["type"]) for r in rows}
        return schema


# "... Max retries exceeded with url: /?query_id=... (Caused by NewConnectionError(...: [Errno 111]
# Connection refused'))": the operating system's reason is the part a user can act on.
_OS_REASON: Final = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def _network_reason(text: str) -> str:
    """A connection failure's reason in a few words (``Connection refused``), else the text."""
    match = _OS_REASON.search(text)
    return match.group(1).strip() if match else text


def _quiet_client_loggers() -> None:
    """urllib3 logs each retried connection and clickhouse-connect each failed request as a
    WARNING before our StoreError says the same in one line; only their errors get through."""
    for name in ("urllib3.connectionpool", "clickhouse_connect.driver"):
        logging.getLogger(name).setLevel(logging.ERROR)


class ServerStore:
    """A ClickHouse server or ClickHouse Cloud over HTTP(S), through clickhouse-connect."""

    def __init__(self, target: ServerTarget, password: str | None, ttl_days: int | None = None) -> None:
        import clickhouse_connect  # only when a server is configured

        _quiet_client_loggers()
        self.target = target
        self._ttl_days = ttl_days
        self._secret = password or ""
        try:
            self._client: Any = clickhouse_connect.get_client(
                host=target.host,
                port=target.port,
                username=target.user,
                password=self._secret,
                database=target.database,
                secure=target.secure,
                connect_timeout=target.connect_timeout,
                send_receive_timeout=target.send_receive_timeout,
            )
        except Exception as exc:
            raise StoreError(
                f"cannot connect to {target.describe()}: {_network_reason(self._scrub(exc))}"
            ) from None

    def migrate(self) -> int:
        return migrate(self, self._ttl_days)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        try:
            result = self._client.query(sql, parameters=dict(params or {}))
            return list(result.named_results())
        except Exception as exc:
            raise StoreError(self._scrub(exc)) from None

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        try:
            self._client.command(sql, parameters=dict(params or {}))
        except Exception as exc:
            raise StoreError(self._scrub(exc)) from None

    def insert(self, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        _check_table(table)
        if not columns or not len(next(iter(columns.values()))):
            return
        try:
            self._client.insert(
                table,
                data=[list(values) for values in columns.values()],
                column_names=list(columns),
                column_oriented=True,
                settings={"optimize_on_insert": 0},  # see INSERT_SETTINGS
            )
        except Exception as exc:
            raise insert_failure(table, self._scrub(exc)) from None

    def close(self) -> None:
        self._client.close()

    def _scrub(self, exc: BaseException) -> str:
        text = str(exc).strip()
        return text.replace(self._secret, "***") if self._secret else text
