"""``chatpulse run``: the whole pipeline in one process, with the live dashboard.

Wiring only: pick the source, open the store, start the pipeline (embedded:
:mod:`chatpulse.pipeline`; with ``--kafka``: :mod:`chatpulse.run_kafka`, the ingest / enrich /
sink services through Kafka), the dashboard (:mod:`chatpulse.dashboard`), the status line
(:mod:`chatpulse.status`) and, with ``--metrics-port``, Prometheus ``/metrics`` and ``/healthz``
(:mod:`chatpulse.run_metrics`); and own the signals: the first Ctrl-C or SIGTERM stops the
source and drains every stage into the store; a second Ctrl-C exits at once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import click
from rich.console import Console

from chatpulse.cli.options import channel_list, live_chat_options
from chatpulse.config import Settings, load_settings
from chatpulse.errors import ConfigError
from chatpulse.metrics import MetricsEndpoint
from chatpulse.pipeline import Pipeline, PipelineConfig
from chatpulse.sources.base import RawLine, Source, SourceItem, now_ms
from chatpulse.status import StatusLine, StatusSnapshot

if TYPE_CHECKING:
    from chatpulse.dashboard.control import ChannelControl
    from chatpulse.sources.synthetic import SyntheticSource
    from chatpulse.store import ClickHouseSink

DEMO_RATE = 200.0  # lines/s over all demo channels: busy, like a big streamer's chat
DEMO_CHANNELS = 4


class DemoSource:
    """Synthetic chat for ``--demo``: first ``history_s`` of recent past (so the dashboard has a
    baseline and hype moments from its first second), then live chat at ``rate``."""

    name = "synthetic"

    def __init__(self, channels: int, rate: float, history_s: float, seed: int = 0) -> None:
        self.channels, self.rate, self.history_s, self.seed = channels, rate, history_s, seed
        self.in_history = history_s > 0  # read by the pipeline: no latency figures for history
        self.live: SyntheticSource | None = None
        self._closed = False

    async def stream(self) -> AsyncIterator[SourceItem]:
        from chatpulse.sources.synthetic import SyntheticChat, SyntheticSource

        # History fills [now - history_s, now] in simulated time (hype spikes make it denser), so
        # it ends where live chat begins: no hole in the charts however long the back-fill takes.
        # A different seed from the live part, so message ids never repeat.
        chat = SyntheticChat(self.channels, self.rate, self.seed + 1, now_ms() - int(self.history_s * 1000))
        for i, line in enumerate(chat.lines()):
            if self._closed or chat.elapsed_s >= self.history_s:
                break
            if i % 512 == 0:
                await asyncio.sleep(0)
            yield RawLine(line, now_ms())
        self.in_history = False
        if self._closed:
            return
        # Created only now: live chat's tmi-sent-ts starts at the moment it is paced from.
        self.live = SyntheticSource(channels=self.channels, rate=self.rate, seed=self.seed)
        async for item in self.live.stream():
            yield item

    async def close(self) -> None:
        self._closed = True
        if self.live is not None:
            await self.live.close()


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
        return DemoSource(DEMO_CHANNELS, DEMO_RATE, demo_history)
    if not chosen and not settings.twitch.channels:
        raise ConfigError("no source: give --demo, --channel NAME (repeatable) or --replay FILE")
    return build_source(settings, channels=channels, replay=replay, speed=parse_speed(speed))


def _spool_dir(dsn: str) -> Path | None:
    from chatpulse.store.dsn import ChdbTarget, parse_dsn

    target = parse_dsn(dsn)
    if isinstance(target, ChdbTarget) and target.path != ":memory:":
        folder = Path(target.path).expanduser()
        return folder.parent / f"{folder.name}.spool"
    return None  # the sink's default folder


class Runner(Protocol):
    """What :func:`_supervise` drives: the embedded :class:`Pipeline` or a ``KafkaRun``."""

    sink: ClickHouseSink

    def stop(self) -> None: ...

    @property
    def stopping(self) -> bool: ...

    async def run(self) -> Any: ...

    def snapshot(self, extra: str = "") -> StatusSnapshot: ...

    def status_json(self) -> dict[str, Any]: ...


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
    """
    if kafka_properties is not None and not Path(kafka_properties).is_file():
        raise ConfigError(f"--kafka {kafka_properties}: no such file")
    settings = load_settings(
        config_file,
        overrides={
            "store.dsn": dsn, "twitch.irc_url": irc_url, "dashboard.host": host, "dashboard.port": port,
            "kafka.properties_file": kafka_properties, "twitch.source": live_source,
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
        _run(settings, source, config, not no_dashboard, duration, kafka_properties is not None, metrics)
    )


async def _run(
    settings: Settings,
    source: Source,
    config: PipelineConfig,
    dashboard: bool,
    duration: float | None,
    kafka: bool,
    metrics: MetricsEndpoint | None,
) -> None:
    from chatpulse.store import ClickHouseSink, open_store

    sock = None
    if dashboard:
        from chatpulse.dashboard.server import bind

        sock = bind(settings.dashboard.host, settings.dashboard.port)  # fail early on a taken port
    store = open_store(settings.store)
    try:
        store.migrate()
        runner: Runner
        if kafka:
            from chatpulse.run_kafka import KafkaRun

            runner = kafka_run = KafkaRun(settings, source, store, store_spool=_spool_dir(settings.store.dsn))
            if metrics is not None:
                metrics.attach(kafka_run.metrics, kafka_run.health)
        else:
            # The pipeline decides when to flush (bigger inserts while batches queue up); the
            # sink's own age limit only backs it up, so it must not cut those flushes short.
            sink = ClickHouseSink(
                store, batch_size=config.flush_rows * 2,
                max_age_s=max(2.0, config.busy_flush_age_s * 2), spool_dir=_spool_dir(settings.store.dsn),
            )  # fmt: skip
            runner = pipeline = Pipeline(
                source, sink, settings.sentiment, config, emote_cache=settings.emotes.cache_folder()
            )
            if metrics is not None:
                from chatpulse.run_metrics import embedded_run_health, embedded_run_metrics

                metrics.attach(embedded_run_metrics(pipeline), embedded_run_health(pipeline))
        from chatpulse.dashboard.control import control_for

        # Join/part from the dashboard's API go to this source (live IRC only; see control_for).
        control = control_for(source, stopping=lambda: runner.stopping)
        await _supervise(runner, store, settings, sock, duration, control, metrics)
    finally:
        if metrics is not None:
            metrics.server.stop()
        store.close()


def _exit_at_once(signum: int, frame: object) -> None:
    os._exit(130)


async def _supervise(
    pipeline: Runner,
    store: Any,
    settings: Settings,
    sock: Any,
    duration: float | None,
    control: ChannelControl,
    metrics: MetricsEndpoint | None = None,
) -> None:
    console = Console(stderr=True)
    loop = asyncio.get_running_loop()
    interrupts = 0

    def on_signal(signum: int) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            console.print("[red]second interrupt: exiting now; unflushed chat may be lost[/red]")
            for child in multiprocessing.active_children():  # the worker pool must not outlive us
                child.kill()
            os._exit(130)
        console.print(
            f"[yellow]{signal.Signals(signum).name}: stopping; draining and flushing "
            "everything received (Ctrl-C again to exit at once)[/yellow]"
        )
        pipeline.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)

    background: list[asyncio.Task[Any]] = []
    server = None
    extra = ""
    if sock is not None:
        from chatpulse.dashboard.app import create_app
        from chatpulse.dashboard.server import make_server, serve, url_of

        app = create_app(
            store, status=pipeline.status_json, host=settings.dashboard.host,
            channel_control=control, control_token=settings.dashboard.control_token,
        )  # fmt: skip
        server = make_server(app)
        background.append(asyncio.create_task(serve(server, sock), name="dashboard"))
        extra = f"dashboard {url_of(sock)}"
        console.print(f"[bold]ChatPulse dashboard:[/bold] {url_of(sock)}  (Ctrl-C to stop)")
    if metrics is not None:
        console.print(
            f"[bold]Metrics:[/bold] {metrics.server.url}/metrics  health: {metrics.server.url}/healthz"
        )
    status = StatusLine(lambda: pipeline.snapshot(extra))
    background.append(asyncio.create_task(status.run(), name="status"))
    if duration is not None:
        background.append(asyncio.create_task(_stop_after(pipeline, duration), name="duration"))
    try:
        await pipeline.run()
    finally:
        for task in background:
            if task.get_name() != "dashboard":
                task.cancel()
        if server is not None:
            server.shutdown_soon()
        await asyncio.gather(*background, return_exceptions=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
            # Everything is drained by now: a late Ctrl-C means "exit at once", not a traceback.
            signal.signal(signum, _exit_at_once)
        status.final()
        stats = pipeline.sink.stats
        if stats.spool_pending:
            console.print(
                f"[yellow]{stats.spool_pending} batches wait in the spool {pipeline.sink.spool_dir}; "
                "they are written on the next run[/yellow]"
            )


async def _stop_after(pipeline: Runner, seconds: float) -> None:
    await asyncio.sleep(seconds)
    pipeline.stop()
