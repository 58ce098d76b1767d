"""What ``chatpulse run`` drives a runner with: store, dashboard, signals, status line, duration.

:func:`run_pipeline` opens the store, builds the runner (embedded :class:`Pipeline` or
:class:`KafkaRun`) and :func:`supervise` runs it beside the dashboard: the first Ctrl-C or
SIGTERM stops the source and drains every stage into the store; a second Ctrl-C exits at once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from chatpulse.alerts.format import summary
from chatpulse.alerts.setup import with_alerts
from chatpulse.config import Settings
from chatpulse.metrics import MetricsEndpoint
from chatpulse.run import Runner
from chatpulse.run.embedded import Pipeline, PipelineConfig
from chatpulse.run.status import StatusLine
from chatpulse.sources.base import Source
from chatpulse.streams.keeper import StreamKeeper, with_streams
from chatpulse.streams.watcher import twitch_watcher

if TYPE_CHECKING:
    from chatpulse.alerts.monitor import AlertMonitor
    from chatpulse.dashboard.control import ChannelControl


def _spool_dir(dsn: str) -> Path | None:
    from chatpulse.store.dsn import ChdbTarget, parse_dsn

    target = parse_dsn(dsn)
    if isinstance(target, ChdbTarget) and target.path != ":memory:":
        folder = Path(target.path).expanduser()
        return folder.parent / f"{folder.name}.spool"
    return None  # the sink's default folder


async def run_pipeline(
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
        # Alerts watch the rows the sink stores (both run shapes have one); None without webhooks.
        alerts = _alert_monitor(settings, source, sock)
        runner: Runner
        if kafka:
            from chatpulse.run.kafka import KafkaRun

            runner = kafka_run = KafkaRun(settings, source, store, store_spool=_spool_dir(settings.store.dsn))
            kafka_run.sink = with_streams(
                with_alerts(kafka_run.sink, alerts), _stream_keeper(settings, store)
            )
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
                source, with_streams(with_alerts(sink, alerts), _stream_keeper(settings, store)),
                settings.sentiment, config,
                emote_cache=settings.emotes.cache_folder(), privacy=settings.privacy,
            )  # fmt: skip
            if metrics is not None:
                from chatpulse.run.metrics import embedded_run_health, embedded_run_metrics

                metrics.attach(embedded_run_metrics(pipeline), embedded_run_health(pipeline))
        from chatpulse.dashboard.control import control_for

        # Join/part from the dashboard's API go to this source (live IRC only; see control_for).
        control = control_for(source, stopping=lambda: runner.stopping)
        from chatpulse.dashboard.server import url_of
        from chatpulse.store.chdb_folder import dashboard_note, folder_of

        # A command refused this folder while we hold it points its user to our dashboard.
        started = time.monotonic()
        # With Twitch credentials, Helix says when the channels were live (streams table).
        watcher = twitch_watcher(settings, store, source, control.channels)
        watching = asyncio.create_task(watcher.run(), name="streams") if watcher is not None else None
        try:
            with dashboard_note(folder_of(settings.store.dsn), url_of(sock) if sock is not None else None):
                await supervise(runner, store, settings, sock, duration, control, metrics)
        finally:
            if watching is not None:
                watching.cancel()
        if alerts is not None:
            Console(stderr=True).print(escape(alerts.report()), highlight=False)
        from chatpulse.run.silence import silence_error

        # The source's count comes first in the status totals of either runner.
        read = next(iter(runner.snapshot().totals.values()), 0)
        silent = silence_error(source, read, duration, time.monotonic() - started)
        if silent is not None:
            raise silent
    finally:
        if metrics is not None:
            metrics.server.stop()
        store.close()


def _stream_keeper(settings: Settings, store: Any) -> StreamKeeper:
    """Keeps the streams table current from the stored chat (chat sessions, Twitch's figures)."""
    return StreamKeeper(store, settings.streams.gap_minutes, settings.streams.update_interval_s)


def _alert_monitor(settings: Settings, source: Source, sock: Any) -> AlertMonitor | None:
    from chatpulse.alerts.setup import build_monitor

    dashboard_url = None
    if sock is not None:
        from chatpulse.dashboard.server import url_of

        dashboard_url = url_of(sock)
    monitor = build_monitor(settings.alerts, source.name, dashboard_url)
    if monitor is not None:
        console = Console(stderr=True)
        monitor.on_alert = lambda alert: console.print(
            f"[magenta]alert[/magenta] {escape(summary(alert))}", highlight=False
        )
    return monitor


def _exit_at_once(signum: int, frame: object) -> None:
    os._exit(130)


async def supervise(
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
            streams_gap_minutes=settings.streams.gap_minutes,
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
