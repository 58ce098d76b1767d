"""``chatpulse sink``: enriched Kafka topic -> ClickHouse (chDB or a server)."""

from __future__ import annotations

import threading

import click

from chatpulse.cli._kafka_options import kafka_overrides, kafka_service_options
from chatpulse.config import load_settings
from chatpulse.services.runtime import stop_on_signals
from chatpulse.services.sink import BATCH_ROWS, run_sink


@click.command(name="sink")
@click.option(
    "--store", "dsn", default=None, help="chdb:///path (default ./data/chatpulse) or clickhouse://..."
)
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_ROWS, show_default=True,
              help="Rows per ClickHouse insert at most.")  # fmt: skip
@click.option("--max-age", "max_age_s", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="Flush a smaller batch when its oldest event is this old.")  # fmt: skip
@kafka_service_options
def command(
    dsn: str | None,
    batch_size: int,
    max_age_s: float,
    properties_file: str | None,
    bootstrap_servers: str | None,
    metrics_port: int | None,
    metrics_host: str,
    config_file: str | None,
) -> None:
    """Store the enriched topic's events in ClickHouse, in columnar batches.

    Offsets are committed only after a flush returned (stored, or in the sink's spool), so a
    crash replays records instead of losing them; the sink drops what is already stored, so
    replays never double-count. Ctrl-C or SIGTERM flushes and commits.

    \b
    Example:
      KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 chatpulse sink --store chdb:///./data/chatpulse
    """
    overrides = kafka_overrides(properties_file, bootstrap_servers) | {"store.dsn": dsn}
    settings = load_settings(config_file, overrides=overrides)
    stop = threading.Event()
    with stop_on_signals(stop):
        run_sink(settings, stop, batch_size=batch_size, max_age_s=max_age_s,
                 metrics_host=metrics_host, metrics_port=metrics_port, tune_gc=True)  # fmt: skip
