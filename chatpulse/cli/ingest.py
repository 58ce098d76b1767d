"""``chatpulse ingest``: a source (live channels, a replay, synthetic chat) -> the raw Kafka topic."""

from __future__ import annotations

import asyncio
import logging
import threading

import click

from chatpulse.cli._kafka_options import kafka_overrides, kafka_service_options
from chatpulse.cli.options import channel_list, live_chat_options
from chatpulse.config import load_settings
from chatpulse.services.ingest import run_ingest
from chatpulse.services.runtime import stop_on_signals

log = logging.getLogger(__name__)


@click.command(name="ingest")
@click.option(
    "--channel", "channels", multiple=True, metavar="NAME", help="Live Twitch channel (repeatable)."
)
@live_chat_options
@click.option("--shard", default=None, metavar="I/N",
              help="Read only shard I of N of the channel list (deterministic; e.g. 2/8).")  # fmt: skip
@click.option("--replay", type=click.Path(dir_okay=False, allow_dash=True), help="Replay a recording.")
@click.option("--speed", default=None, help="Replay pace: a factor (10) or 'max'. Default 1.")
@click.option("--loop", is_flag=True, help="With --replay: start over at the end.")
@click.option("--synthetic", is_flag=True, help="Synthetic multi-channel chat (no network).")
@click.option("--rate", "synthetic_rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="With --synthetic: messages per second.")  # fmt: skip
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop by itself after this many seconds (flushes first).")  # fmt: skip
@kafka_service_options
def command(
    channels: tuple[str, ...],
    irc_url: str | None,
    channels_file: str | None,
    live_source: str | None,
    shard: str | None,
    replay: str | None,
    speed: str | None,
    loop: bool,
    synthetic: bool,
    synthetic_rate: float | None,
    duration: float | None,
    properties_file: str | None,
    bootstrap_servers: str | None,
    metrics_port: int | None,
    metrics_host: str,
    config_file: str | None,
) -> None:
    """Read chat, parse it and produce every event to the raw topic (key = channel).

    While Kafka is unreachable events go to an on-disk spool (kafka.spool_dir) and are sent in
    order when it returns; when the spool is full the source is read more slowly. Ctrl-C or
    SIGTERM stops the source and flushes.

    \b
    Examples:
      chatpulse ingest --channel xqc --channel nymn --metrics-port 9100
      chatpulse ingest --channels-file channels.txt --shard 2/8
      chatpulse ingest --replay ../shared/data/replay/xqcow-2019-09-15.irc.gz --speed max
      KAFKA_PROPERTIES=client.properties chatpulse ingest --synthetic
    """
    from chatpulse.sources.select import build_source, parse_speed
    from chatpulse.sources.sharding import parse_shard

    overrides = {
        **kafka_overrides(properties_file, bootstrap_servers),
        "twitch.source": live_source, "twitch.irc_url": irc_url,
    }  # fmt: skip
    settings = load_settings(config_file, overrides=overrides)
    if speed is not None and replay is None:
        raise click.UsageError("--speed only applies to --replay")
    source = build_source(
        settings,
        channels=channel_list(channels, channels_file),
        shard=parse_shard(shard) if shard is not None else None,
        replay=replay,
        speed=parse_speed(speed),
        loop=loop,
        synthetic=synthetic,
        synthetic_rate=synthetic_rate,
    )
    stop = threading.Event()
    with stop_on_signals(stop):
        asyncio.run(run_ingest(settings, source, duration, metrics_host, metrics_port, stop=stop))
