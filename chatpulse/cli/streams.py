"""``chatpulse streams``: a channel's streams (Twitch's own, or chat sessions), newest first."""

from __future__ import annotations

import json
import re
import sys
import time

import click
from rich.console import Console
from rich.table import Table

from chatpulse.cli.db import cli_settings, store_options
from chatpulse.config import CHANNEL_PATTERN
from chatpulse.errors import ConfigError
from chatpulse.recap.moments import format_offset
from chatpulse.store.existing import open_existing_store
from chatpulse.streams.listing import channel_streams, stream_json


def channel_option(value: str) -> str:
    """A ``--channel`` value as Twitch spells logins, else ConfigError (exit 2) naming it."""
    channel = value.lower().lstrip("#")
    if not re.fullmatch(CHANNEL_PATTERN, channel):
        raise ConfigError(f"invalid channel name {value!r}: expected {CHANNEL_PATTERN}")
    return channel


@click.command(name="streams")
@click.option("--channel", required=True, metavar="NAME", help="Channel login, e.g. xqcow.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.option(
    "--recompute", is_flag=True, help="Also store the channel's chat sessions in the streams table."
)
@click.option(
    "--gap-minutes", type=click.FloatRange(min=0, min_open=True), default=None,
    help="Silence that ends a chat session (default: streams.gap_minutes, 30).",
)  # fmt: skip
@store_options
def command(
    channel: str,
    as_json: bool,
    recompute: bool,
    gap_minutes: float | None,
    config_file: str | None,
    store_dsn: str | None,
) -> None:
    """List a channel's streams, newest first: id, start, end (empty while live), duration,
    messages, unique chatters, mean sentiment, subs, gifted subs, bits and source (twitch:
    Twitch said it was live; chat: a chat session cut at silences of --gap-minutes).

    \b
    Examples:
      chatpulse streams --channel xqcow
      chatpulse streams --channel xqcow --json | jq '.[0].id'
    """
    channel = channel_option(channel)
    settings = cli_settings(config_file, store_dsn)
    gap = gap_minutes if gap_minutes is not None else settings.streams.gap_minutes
    store = open_existing_store(settings.store)
    try:
        now = time.time_ns() // 1_000_000
        rows = [stream_json(r, now) for r in channel_streams(store, channel, gap, now, write=recompute)]
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    if not rows:
        click.echo(f"no streams for #{channel}: no chat stored for it", err=True)
        return
    table = Table(title=f"#{channel} streams (newest first)", title_justify="left")
    for name in ("id", "started", "ended", "duration", "messages", "chatters", "mood", "subs", "gifts",
                 "bits", "source"):  # fmt: skip
        table.add_column(
            name, justify="right" if name in ("messages", "chatters", "subs", "gifts", "bits") else "left"
        )
    for r in rows:
        mood = r["sentiment_mean"]
        table.add_row(
            r["id"], r["started_at"][:19].replace("T", " "),
            r["ended_at"][:19].replace("T", " ") if r["ended_at"] else "live",
            format_offset(r["duration_s"]), f"{r['messages']:,}", f"{r['chatters']:,}",
            "-" if mood is None else f"{mood:+.2f}", f"{r['subs']:,}", f"{r['gifts']:,}", f"{r['bits']:,}",
            r["source"],
        )  # fmt: skip
    # Piped output is not cut to 80 columns: the ids must stay whole to be passed to recap.
    width = None if sys.stdout.isatty() else 160
    Console(highlight=False, markup=False, emoji=False, width=width).print(table)
