"""``chatpulse enrich``: raw Kafka topic -> sentiment -> enriched topic (one consumer group)."""

from __future__ import annotations

import threading

import click

from chatpulse.cli._kafka_options import kafka_overrides, kafka_service_options
from chatpulse.config import load_settings
from chatpulse.services.enrich import run_enrich
from chatpulse.services.runtime import stop_on_signals


@click.command(name="enrich")
@click.option("--analyzer", type=click.Choice(["lexicon", "transformer"]), default=None,
              help="Sentiment analyzer (default: sentiment.analyzer, lexicon).")  # fmt: skip
@click.option("--batch-size", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Records per poll (one analyze call each).")  # fmt: skip
@kafka_service_options
def command(
    analyzer: str | None,
    batch_size: int,
    properties_file: str | None,
    bootstrap_servers: str | None,
    metrics_port: int | None,
    metrics_host: str,
    config_file: str | None,
) -> None:
    """Score the raw topic's messages and produce them to the enriched topic.

    Run several processes: they join one consumer group (<kafka.group_prefix>-enrich) and share
    the partitions. Offsets are committed after the enriched records are acknowledged (or
    spooled); records that cannot be decoded or scored go to the dead-letter topic with the
    error in a header. Ctrl-C or SIGTERM drains, flushes and commits.

    \b
    Example:
      KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 chatpulse enrich --metrics-port 9101
    """
    overrides = kafka_overrides(properties_file, bootstrap_servers) | {"sentiment.analyzer": analyzer}
    settings = load_settings(config_file, overrides=overrides)
    stop = threading.Event()
    with stop_on_signals(stop):
        run_enrich(settings, stop, batch_size=batch_size, metrics_host=metrics_host,
                   metrics_port=metrics_port, tune_gc=True)  # fmt: skip
