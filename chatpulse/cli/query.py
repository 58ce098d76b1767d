"""``chatpulse query``: run SQL on the configured ClickHouse and print the rows."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from chatpulse.cli.db import open_cli_store, store_options


@click.command(name="query")
@click.argument("sql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "jsonl"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Query parameter for a {NAME:Type} placeholder (repeatable).",
)
@store_options
def command(
    sql: str, fmt: str, params: tuple[str, ...], config_file: str | None, store_dsn: str | None
) -> None:
    """Run SQL on the store and print the result on stdout.

    Count messages with FINAL: a deleted or moderated message keeps extra row versions until
    ClickHouse merges them (or read the chat_minute aggregates, which count each message once).

    \b
    Examples:
      chatpulse query "SELECT channel, count() FROM chat_messages FINAL GROUP BY channel"
      chatpulse query "SELECT * FROM chat_messages WHERE channel = {c:String} LIMIT 5" \\
          --param c=xqcow --format jsonl
    """
    values: dict[str, Any] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.UsageError(f"--param {item!r} must be NAME=VALUE")
        values[name] = value
    store = open_cli_store(config_file, store_dsn)
    try:
        rows = store.query(sql, values)
    finally:
        store.close()
    if fmt == "jsonl":
        for row in rows:
            sys.stdout.write(json.dumps(row, default=_json_value, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if rows:
            writer.writerow(rows[0].keys())
        for row in rows:
            writer.writerow(_text(v) for v in row.values())
    else:
        _print_table(rows)
    click.echo(f"{len(rows)} rows", err=True)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, default=_json_value, ensure_ascii=False)
    return str(value)


def _print_table(rows: list[dict[str, Any]]) -> None:
    table = Table(show_lines=False)
    for name in rows[0] if rows else ["(no rows)"]:
        table.add_column(str(name), overflow="fold")
    for row in rows:
        table.add_row(*(_text(v) for v in row.values()))
    Console(highlight=False, markup=False, emoji=False).print(table)
