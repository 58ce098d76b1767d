"""``chatpulse recap``: one stream's recap as a self-contained offline HTML file, or JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from chatpulse.cli.db import cli_settings, store_options
from chatpulse.cli.streams import channel_option
from chatpulse.errors import ChatPulseError, ConfigError
from chatpulse.recap.build import build_recap
from chatpulse.recap.moments import MoodRule
from chatpulse.store.existing import open_existing_store
from chatpulse.streams.listing import channel_streams, find_stream


@click.command(name="recap")
@click.option("--channel", required=True, metavar="NAME", help="Channel login, e.g. xqcow.")
@click.option(
    "--stream", "stream_id", default="latest", show_default=True, metavar="ID|latest",
    help="Which stream (an id from `chatpulse streams`).",
)  # fmt: skip
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE.html",
    help="Write the HTML recap here.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the recap as one JSON object instead.")
@store_options
def command(
    channel: str,
    stream_id: str,
    output: Path | None,
    as_json: bool,
    config_file: str | None,
    store_dsn: str | None,
) -> None:
    """Recap one stream: duration, messages, peak and mean rate, unique and new chatters, mood
    over time, hype moments with their top messages and emotes, when chat turned negative, subs,
    gift bombs, raids, bits and bans on a timeline, top emotes and chatters, and a comparison
    with the channel's previous streams. Every moment has its offset from the start (and a VOD
    link when Twitch's archive id is known). The HTML file opens offline in any browser.

    \b
    Examples:
      chatpulse recap --channel xqcow --output recap.html
      chatpulse recap --channel xqcow --stream chat-xqcow-20190915T0000 --json
    """
    channel = channel_option(channel)
    if output is None and not as_json:
        raise click.UsageError("give --output FILE.html or --json")
    if output is not None and as_json:
        raise click.UsageError("--output and --json exclude each other")
    if output is not None and output.parent != Path() and not output.parent.is_dir():
        raise ConfigError(f"--output {output}: no such folder {output.parent}")
    settings = cli_settings(config_file, store_dsn)
    alerts = settings.alerts
    rule = MoodRule(alerts.mood_min_messages, alerts.mood_k, alerts.mood_min_drop)
    store = open_existing_store(settings.store)
    try:
        now = time.time_ns() // 1_000_000
        streams = channel_streams(store, channel, settings.streams.gap_minutes, now)
        stream = find_stream(streams, stream_id)
        if stream is None:
            if not streams:
                raise ChatPulseError(f"no streams for #{channel}: no chat stored for it")
            raise ConfigError(
                f"no stream {stream_id!r} for #{channel} (see `chatpulse streams --channel {channel}`)"
            )
        started = time.perf_counter()
        recap = build_recap(store, stream, streams, now, mood_rule=rule)
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps(recap, ensure_ascii=False) + "\n")
        return
    from chatpulse.recap.html import render_html

    assert output is not None  # noqa: S101 - checked above
    try:
        output.write_text(render_html(recap), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--output {output}: cannot write it ({exc.strerror or exc})") from None
    took = time.perf_counter() - started
    messages = recap["summary"]["messages"]
    click.echo(
        f"wrote {output} (#{channel} {stream.stream_id}, {messages:,} messages, {took:.1f} s)", err=True
    )
