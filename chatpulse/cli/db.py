"""``chatpulse db``: store administration (``db migrate``), plus the ``--store``/``--config``
options and store opening that every store-touching command shares (query, report, run, sink,
dashboard import :func:`store_options` and :func:`open_cli_store` from here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from chatpulse.config import Settings, load_settings
from chatpulse.store import Store, open_store
from chatpulse.store.dsn import parse_dsn

F = TypeVar("F", bound=Callable[..., Any])


def store_options(func: F) -> F:
    """Add ``--store DSN`` (overrides ``store.dsn``) and ``--config FILE`` to a command."""
    func = click.option(
        "--store",
        "store_dsn",
        metavar="DSN",
        default=None,
        help="Store: chdb:///path (embedded, default chdb:///./data/chatpulse) or "
        "clickhouse://user@host:port/db?secure=true (password from CLICKHOUSE_PASSWORD).",
    )(func)
    return click.option(
        "--config", "config_file", type=click.Path(dir_okay=False), default=None, help="Settings file."
    )(func)


def cli_settings(config_file: str | None, store_dsn: str | None) -> Settings:
    """Settings with ``--store`` applied (ConfigError -> exit 2 in the CLI)."""
    return load_settings(config_file, overrides={"store.dsn": store_dsn})


def open_cli_store(config_file: str | None, store_dsn: str | None) -> Store:
    """Open the configured store for reading: it must exist (a mistyped ``--store`` creates
    nothing; ConfigError -> exit 2, StoreError -> exit 1)."""
    from chatpulse.store.existing import open_existing_store

    return open_existing_store(cli_settings(config_file, store_dsn).store)


@click.group(name="db")
def command() -> None:
    """Store administration.

    \b
    Example:
      chatpulse db migrate --store chdb:///./data/chatpulse
    """


@command.command(name="migrate")
@store_options
def migrate(config_file: str | None, store_dsn: str | None) -> None:
    """Create or upgrade the schema; running it again changes nothing. Prints the version.

    \b
    Example:
      chatpulse db migrate
      CLICKHOUSE_PASSWORD=... chatpulse db migrate --store 'clickhouse://default@host:8443/default?secure=true'
    """
    settings = cli_settings(config_file, store_dsn)
    store = open_store(settings.store)
    try:
        version = store.migrate()
    finally:
        store.close()
    click.echo(f"schema version {version} ({parse_dsn(settings.store.dsn).describe()})", err=True)
    click.echo(version)
