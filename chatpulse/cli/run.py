"""``chatpulse run``: the whole pipeline in one process, with the live dashboard.

Options only: they become a source, settings and a :class:`~chatpulse.run.embedded.PipelineConfig`,
and :func:`chatpulse.run.supervisor.run_pipeline` runs them (embedded, or with ``--kafka`` the
ingest / enrich / sink services through Kafka) beside the dashboard.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import click

from chatpulse.cli.options import channel_list, live_chat_options
from chatpulse.config import Settings, load_settings
from chatpulse.errors import ConfigError
from chatpulse.metrics import MetricsEndpoint
from chatpulse.run.embedded import PipelineConfig
from chatpulse.run.supervisor import run_pipeline
from chatpulse.sources.base import Source


def _choose_source(
    settings: Settings,
    demo: bool,
    channels: Sequence[str],
    replay: str | None,
    speed: str | None,
    demo_history: float,
) -> Source:
    from chatpulse.sources.select import build_source, parse_speed

    chosen = [
        flag for flag, on in (("--demo", demo), ("--channel", bool(channels)), ("--replay", replay)) if on
    ]
    if len(chosen) > 1:
        raise ConfigError(f"choose one source: {' and '.join(chosen)} cannot be combined")
    if speed is not None and replay is None:
        raise ConfigError("--speed only applies to --replay")
    if demo:
        from chatpulse.sources.synthetic.demo import DemoSource

        return DemoSource(history_s=demo_history)
    if not chosen and not settings.twitch.channels:
        raise ConfigError("no source: give --demo, --channel NAME (repeatable) or --replay FILE")
    return build_source(settings, channels=channels, replay=replay, speed=parse_speed(speed))


def _webhook_urls(urls: Sequence[str]) -> tuple[str, ...] | None:
    """``--alert-webhook`` values, checked here to name the flag (never the URL's secret path)."""
    from chatpulse.alerts.urls import check_url, redact

    for url in urls:
        problem = check_url(url)
        if problem is not None:
            raise ConfigError(f"--alert-webhook {redact(url)}: {problem}")
    return tuple(urls) or None


@click.command(name="run")
@click.option("--demo", is_flag=True, help="Synthetic multi-channel chat: no account, no network.")
@click.option(
    "--channel", "channels", multiple=True, metavar="NAME", help="Live Twitch channel (repeatable)."
)
@live_chat_options
@click.option("--replay", type=click.Path(dir_okay=False, allow_dash=True), help="Replay a recording.")
@click.option("--speed", default=None, help="Replay pace: a factor (10) or 'max'. Default 1.")
@click.option(
    "--store", "dsn", default=None, help="chdb:///path (default ./data/chatpulse) or clickhouse://..."
)
@click.option("--kafka", "kafka_properties", type=click.Path(dir_okay=False), default=None,
              help="Run the stages through Kafka: a librdkafka client.properties "
                   "(KAFKA_BOOTSTRAP_SERVERS overrides its servers).")  # fmt: skip
@click.option("--no-dashboard", is_flag=True, help="Do not serve the web dashboard.")
@click.option("--host", default=None, help="Dashboard bind address (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Dashboard port (default 8080; 0 = any free port).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop by itself after this many seconds (drains and flushes first).")  # fmt: skip
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Parse/sentiment worker processes (default: cores + 1; 0 = a thread).")  # fmt: skip
@click.option("--demo-history", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="With --demo: minutes of recent chat to generate first.")  # fmt: skip
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve Prometheus /metrics and /healthz on this port (0 = any free port; "
                   "default: not served).")  # fmt: skip
@click.option("--metrics-host", default="127.0.0.1", show_default=True, envvar="CHATPULSE_METRICS_HOST",
              help="Bind address of the metrics server.")  # fmt: skip
@click.option("--alert-webhook", "alert_webhooks", multiple=True, metavar="URL",
              help="POST alerts (hype, mood drop, raid, gift bomb, chat stopped) to this webhook "
                   "(repeatable; Discord, Slack or plain JSON; replaces alerts.webhooks).")  # fmt: skip
@click.option("--alerts-on-replay", is_flag=True, default=None,
              help="Fire alerts for replays and back-filled history too.")  # fmt: skip
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None, help="chatpulse.yaml")
def command(
    demo: bool,
    channels: tuple[str, ...],
    irc_url: str | None,
    channels_file: str | None,
    live_source: str | None,
    replay: str | None,
    speed: str | None,
    dsn: str | None,
    kafka_properties: str | None,
    no_dashboard: bool,
    host: str | None,
    port: int | None,
    duration: float | None,
    workers: int | None,
    demo_history: float,
    metrics_port: int | None,
    metrics_host: str,
    alert_webhooks: tuple[str, ...],
    alerts_on_replay: bool | None,
    config_file: str | None,
) -> None:
    """Read chat, score it, store it and serve the live dashboard, all in one process.

    The status line on stderr shows rates per stage, queue depths, totals, errors and the
    end-to-end latency. Ctrl-C (or SIGTERM) drains and flushes: everything received is stored.
    A second Ctrl-C exits at once.

    \b
    Examples:
      chatpulse run --demo                       # then open http://127.0.0.1:8080
      chatpulse run --channel xqc --channel nymn
      chatpulse run --replay ../shared/data/replay/xqcow-2019-09-15.irc.gz --speed max --no-dashboard
      chatpulse run --demo --kafka client.properties --metrics-port 9100
      chatpulse run --channel xqc --alert-webhook https://discord.com/api/webhooks/ID/TOKEN
    """
    if kafka_properties is not None and not Path(kafka_properties).is_file():
        raise ConfigError(f"--kafka {kafka_properties}: no such file")
    settings = load_settings(
        config_file,
        overrides={
            "store.dsn": dsn, "twitch.irc_url": irc_url, "dashboard.host": host, "dashboard.port": port,
            "kafka.properties_file": kafka_properties, "twitch.source": live_source,
            "alerts.webhooks": _webhook_urls(alert_webhooks), "alerts.on_replay": alerts_on_replay,
        },
    )  # fmt: skip
    if kafka_properties is not None:
        from chatpulse.transport.properties import client_config

        try:
            client_config(settings.kafka)  # a file that cannot be read or names no servers: exit 2 now
        except ConfigError as exc:
            reason = str(exc)
            raise ConfigError(
                reason if kafka_properties in reason else f"--kafka {kafka_properties}: {reason}"
            ) from None
    channels = channel_list(channels, channels_file)
    source = _choose_source(settings, demo, channels, replay, speed, demo_history * 60)
    config = PipelineConfig() if workers is None else PipelineConfig(workers=workers)
    metrics = MetricsEndpoint(metrics_host, metrics_port) if metrics_port is not None else None
    asyncio.run(
        run_pipeline(
            settings, source, config, not no_dashboard, duration, kafka_properties is not None, metrics
        )
    )
