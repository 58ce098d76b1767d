"""``chatpulse import``: past chat from a justlog/rustlog log archive, through the live chat's stages."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import click

from chatpulse.cli.db import cli_settings, store_options
from chatpulse.errors import ArchiveError, ConfigError


def _date(value: str | None, flag: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag} must be a date YYYY-MM-DD, got {value[:40]!r}") from None


@click.command(name="import")
@click.option("--archive", required=True, metavar="URL", help="Base URL of a justlog/rustlog archive.")
@click.option("--channel", default=None, metavar="NAME", help="Channel login (/channel/NAME/...).")
@click.option("--channel-id", default=None, metavar="ID", help="Channel by Twitch id (/channelid/ID/...).")
@click.option(
    "--from", "start", default=None, metavar="DATE", help="First day, YYYY-MM-DD (default: the first listed)."
)
@click.option(
    "--to", "end", default=None, metavar="DATE", help="Last day, YYYY-MM-DD (default: the last listed)."
)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              help="Seconds to wait for the archive on each request.")  # fmt: skip
@click.option("--retries", type=click.IntRange(min=0, max=20), default=4, show_default=True,
              help="Attempts after the first for a day that fails (timeout, 5xx, cut body).")  # fmt: skip
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Parse/sentiment worker processes (default: cores + 1; 0 = a thread).")  # fmt: skip
@store_options
def command(
    archive: str,
    channel: str | None,
    channel_id: str | None,
    start: str | None,
    end: str | None,
    timeout: float,
    retries: int,
    workers: int | None,
    store_dsn: str | None,
    config_file: str | None,
) -> None:
    """Import past chat from a justlog/rustlog log archive into the store.

    Each listed day in the range is fetched (GET /channel/NAME/YEAR/MONTH/DAY?raw) and goes
    through the same stages as live chat: parse, emotes, sentiment, store. Days already
    imported are skipped, and every message is stored once, even where days overlap chat
    stored live. A day that fails is retried with backoff, then reported; the days that
    worked are kept and a rerun fetches only what is missing. Progress on stderr, a JSON
    summary on stdout; exit 1 when a day failed.

    \b
    Examples:
      chatpulse import --archive https://logs.example.org --channel nymn --from 2024-01-01 --to 2024-01-07
      python -m chatpulse.testing.archive_server --capture ../shared/data/replay/xqcow-2019-09-15.irc.gz &
      chatpulse import --archive http://127.0.0.1:8025 --channel xqcow --store chdb:///./data/imported
    """
    from chatpulse.archive.client import ChannelRef
    from chatpulse.archive.http import check_base_url
    from chatpulse.archive.importer import ImportRequest, run_import
    from chatpulse.archive.source import RetryPolicy
    from chatpulse.run.embedded import PipelineConfig

    first, last = _date(start, "--from"), _date(end, "--to")
    if first is not None and last is not None and first > last:
        raise ConfigError(f"--from {first} is after --to {last}")
    if (channel is None) == (channel_id is None):
        raise ConfigError("give one of --channel NAME or --channel-id ID")
    try:
        ref = ChannelRef.of(channel, channel_id)
    except ArchiveError as exc:
        raise ConfigError(f"{'--channel' if channel is not None else '--channel-id'}: {exc}") from None
    try:
        check_base_url(archive)
    except ArchiveError as exc:
        raise ConfigError(f"--archive: {exc}") from None
    settings = cli_settings(config_file, store_dsn)
    request = ImportRequest(archive, ref, first, last, timeout, RetryPolicy(retries=retries))
    config = PipelineConfig() if workers is None else PipelineConfig(workers=workers)
    summary = asyncio.run(run_import(settings, request, config))
    click.echo(json.dumps(summary.as_json()))
    failed = len(summary.days_failed)
    click.echo(
        f"imported {len(summary.days_imported)} day(s) of {summary.channel}: {summary.lines:,} lines, "
        f"{summary.messages:,} messages in {summary.seconds:.1f} s ({summary.lines_per_s:,.0f} lines/s); "
        f"{summary.days_already_stored} already stored, {len(summary.days_without_log)} without a log, "
        f"{failed} failed",
        err=True,
    )
    for failure in summary.days_failed:
        click.echo(f"  failed {failure['day']}: {failure['error']}", err=True)
    for refused in summary.lines_refused:
        click.echo(f"  {refused}", err=True)
    if failed:
        raise SystemExit(1)
