"""``chatpulse sink``: enriched Kafka topic -> ClickHouse (chDB or a server)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import click

from chatpulse.cli._kafka_options import kafka_overrides, kafka_service_options
from chatpulse.config import Settings, load_settings
from chatpulse.metrics import StageMetrics
from chatpulse.services.gc_tuning import with_gc_tuning
from chatpulse.services.runtime import ConsumerService, run_consumer_service, stop_on_signals
from chatpulse.services.sink import BATCH_ROWS, POLL_RECORDS
from chatpulse.transport.kafka import EventProducer


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


def run_sink(
    settings: Settings,
    stop: threading.Event,
    *,
    batch_size: int = BATCH_ROWS,
    max_age_s: float = 1.0,
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
    on_ready: Callable[[ConsumerService], None] | None = None,
    tune_gc: bool = False,
) -> ConsumerService | None:
    """The sink service until ``stop`` is set (tests and benchmarks call this directly).

    ``tune_gc``: for a process that only runs this service (see :mod:`chatpulse.services.gc_tuning`).
    """
    from chatpulse.services.sink import SinkStage
    from chatpulse.store import ClickHouseSink, open_store
    from chatpulse.transport.spool import lock_spool_folder

    store = open_store(settings.store)
    # The store spool (failed inserts) lives beside the Kafka spool, one locked folder per worker.
    store_spool = lock_spool_folder(Path(settings.kafka.spool_dir), "sink-store")
    stages: list[SinkStage] = []
    try:
        store.migrate()

        def make_handler(producer: EventProducer, metrics: StageMetrics) -> SinkStage:
            sink = ClickHouseSink(
                store, batch_size=batch_size, max_age_s=max_age_s, spool_dir=store_spool.folder
            )
            stages.append(SinkStage(sink, metrics))
            return stages[0]

        return run_consumer_service(
            "sink",
            settings,
            topic_in=settings.kafka.topic_enriched,
            make_handler=make_handler,
            events_out=lambda: stages[0].stored if stages else 0,
            stop=stop,
            metrics_host=metrics_host,
            metrics_port=metrics_port,
            on_ready=with_gc_tuning(on_ready) if tune_gc else on_ready,
            batch_size=min(batch_size, POLL_RECORDS),
            commit_interval_s=max_age_s,
        )
    finally:
        for stage in stages:
            stage.sink.close()
        store_spool.release()
        store.close()
