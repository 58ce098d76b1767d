"""Store DSNs: where the events live, as one string (``store.dsn``). Pure: no I/O.

Two forms:

- ``chdb:///./data/chatpulse`` (default), ``chdb:///abs/path``, ``chdb:///~/chatpulse``,
  ``chdb:///:memory:`` -- embedded ClickHouse (chDB), data in a local folder. After
  ``chdb://`` comes the path; a leading ``/`` before ``.``, ``..``, ``~`` or ``:memory:`` is the
  URL's empty-host separator, not part of the path.
- ``clickhouse://user@host:port/database?secure=true`` -- a ClickHouse server or ClickHouse Cloud
  over HTTP(S) through clickhouse-connect. ``clickhouses://`` is the same with ``secure=true``.
  Defaults: user ``default``, port 8443 when secure else 8123, database ``default``. Options:
  ``secure``, ``connect_timeout``, ``send_receive_timeout`` (seconds).

The password is never part of a DSN: it comes from ``store.password`` (``CLICKHOUSE_PASSWORD``).
A DSN that carries one is refused without echoing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, unquote, urlsplit

from chatpulse.errors import ConfigError

DEFAULT_DSN: Final = "chdb:///./data/chatpulse"
MEMORY: Final = ":memory:"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})
_SERVER_OPTIONS: Final = frozenset({"secure", "connect_timeout", "send_receive_timeout"})


@dataclass(frozen=True, slots=True)
class ChdbTarget:
    """An embedded chDB data folder (``path`` may be ``:memory:``)."""

    path: str

    def describe(self) -> str:
        return f"chdb:{self.path}"


@dataclass(frozen=True, slots=True)
class ServerTarget:
    """A ClickHouse server reached over HTTP(S)."""

    host: str
    port: int
    user: str
    database: str
    secure: bool
    connect_timeout: float = 10.0
    send_receive_timeout: float = 300.0

    def describe(self) -> str:
        """Where it points, for logs: no password (it never is in a target)."""
        scheme = "https" if self.secure else "http"
        return f"clickhouse {scheme}://{self.user}@{self.host}:{self.port}/{self.database}"


StoreTarget = ChdbTarget | ServerTarget


def parse_dsn(dsn: str) -> StoreTarget:
    """Parse ``store.dsn``; raises :class:`ConfigError` naming ``store.dsn`` (never the secret)."""
    text = dsn.strip()
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ConfigError(
            "invalid setting store.dsn: expected chdb:///path or clickhouse://user@host:port/db"
        )
    if scheme == "chdb":
        return _parse_chdb(rest)
    if scheme in {"clickhouse", "clickhouses"}:
        return _parse_server(text, default_secure=scheme == "clickhouses")
    raise ConfigError(f"invalid setting store.dsn: unknown scheme {scheme!r} (use chdb:// or clickhouse://)")


def _parse_chdb(rest: str) -> ChdbTarget:
    path = unquote(rest.partition("?")[0])
    if path.startswith("/") and path[1:].startswith((".", "~", MEMORY)):
        path = path[1:]
    if not path:
        raise ConfigError("invalid setting store.dsn: chdb:// needs a folder, e.g. chdb:///./data/chatpulse")
    return ChdbTarget(path=path)


def _parse_server(text: str, *, default_secure: bool) -> ServerTarget:
    parts = urlsplit(text)
    if parts.password is not None:
        raise ConfigError(
            "invalid setting store.dsn: do not put the password in the DSN; "
            "set CLICKHOUSE_PASSWORD (store.password) instead"
        )
    host = parts.hostname
    if not host:
        raise ConfigError("invalid setting store.dsn: clickhouse:// needs a host")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - _SERVER_OPTIONS)
    if unknown:
        raise ConfigError(
            f"invalid setting store.dsn: unknown option {unknown[0]!r} "
            f"(known: {', '.join(sorted(_SERVER_OPTIONS))})"
        )
    secure = _flag(options.get("secure"), default_secure)
    try:
        port = parts.port or (8443 if secure else 8123)
    except ValueError:
        raise ConfigError("invalid setting store.dsn: port must be a number 1-65535") from None
    database = unquote(parts.path.strip("/")) or "default"
    if not _IDENTIFIER.match(database):
        raise ConfigError(f"invalid setting store.dsn: database name {database!r} is not an identifier")
    return ServerTarget(
        host=host,
        port=port,
        user=unquote(parts.username) if parts.username else "default",
        database=database,
        secure=secure,
        connect_timeout=_seconds(options, "connect_timeout", 10.0),
        send_receive_timeout=_seconds(options, "send_receive_timeout", 300.0),
    )


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default if value is None else True
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"invalid setting store.dsn: secure={value!r} is not true/false")


def _seconds(options: dict[str, str], name: str, default: float) -> float:
    if name not in options:
        return default
    try:
        value = float(options[name])
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(f"invalid setting store.dsn: {name} must be a positive number of seconds")
    return value
