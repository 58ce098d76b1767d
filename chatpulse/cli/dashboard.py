"""``chatpulse dashboard``: serve the web dashboard for an existing store.

A chDB data folder belongs to one process: while ``chatpulse run`` writes to a folder, this
command cannot open it (``run`` serves the same dashboard itself). With a ClickHouse server any
number of dashboards can read while sinks write.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING

import click
from rich.console import Console

from chatpulse.config import StoreSettings, load_settings

if TYPE_CHECKING:
    from chatpulse.metrics import MetricsEndpoint


@click.command(name="dashboard")
@click.option(
    "--store", "dsn", default=None, help="chdb:///path (default ./data/chatpulse) or clickhouse://..."
)
@click.option("--host", default=None, help="Bind address (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8080; 0 = any free port).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve Prometheus /metrics and /healthz (the store answers) on this port.")  # fmt: skip
@click.option("--metrics-host", default="127.0.0.1", show_default=True, envvar="CHATPULSE_METRICS_HOST",
              help="Bind address of the metrics server.")  # fmt: skip
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None, help="chatpulse.yaml")
def command(
    dsn: str | None,
    host: str | None,
    port: int | None,
    metrics_port: int | None,
    metrics_host: str,
    config_file: str | None,
) -> None:
    """Serve the live dashboard and its JSON API (/api/...) for an existing store.

    A chDB folder that a running `chatpulse run` holds cannot be opened here: `run` serves the
    dashboard itself.

    \b
    Example:
      chatpulse dashboard --store chdb:///./data/chatpulse --port 8080
    """
    settings = load_settings(
        config_file, overrides={"store.dsn": dsn, "dashboard.host": host, "dashboard.port": port}
    )
    metrics = None
    if metrics_port is not None:
        from chatpulse.metrics import MetricsEndpoint

        metrics = MetricsEndpoint(metrics_host, metrics_port)  # a taken port: exit 2 before work
    asyncio.run(
        _serve(settings.store, settings.dashboard.host, settings.dashboard.port, metrics,
               settings.streams.gap_minutes)
    )  # fmt: skip


async def _serve(
    store_settings: StoreSettings,
    host: str,
    port: int,
    metrics: MetricsEndpoint | None,
    gap_minutes: float = 30.0,
) -> None:
    from chatpulse.dashboard.app import create_app
    from chatpulse.dashboard.server import bind, make_server, serve, url_of
    from chatpulse.store.chdb_folder import dashboard_note, folder_of
    from chatpulse.store.existing import open_existing_store

    store = open_existing_store(store_settings)  # before binding: a wrong --store creates nothing
    try:
        sock = bind(host, port)
    except BaseException:
        store.close()
        raise
    try:
        store.migrate()
        if metrics is not None:
            from chatpulse.run.metrics import store_metrics

            metrics.attach(*store_metrics("dashboard", store))
            Console(stderr=True).print(f"[bold]Metrics:[/bold] {metrics.server.url}/metrics")
        server = make_server(create_app(store, host=host, streams_gap_minutes=gap_minutes))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, server.shutdown_soon)
        Console(stderr=True).print(f"[bold]ChatPulse dashboard:[/bold] {url_of(sock)}  (Ctrl-C to stop)")
        # A command refused this chDB folder while we hold it points its user here.
        with dashboard_note(folder_of(store_settings.dsn), url_of(sock)):
            await serve(server, sock)
    finally:
        if metrics is not None:
            metrics.server.stop()
        store.close()
