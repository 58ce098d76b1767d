"""Options every Kafka service command shares (``ingest``, ``enrich``, ``sink``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def kafka_service_options(func: F) -> F:
    """``--properties``, ``--bootstrap-servers``, ``--metrics-port``, ``--metrics-host``, ``--config``."""
    options = [
        click.option("--properties", "properties_file", type=click.Path(dir_okay=False, exists=True),
                     default=None, help="librdkafka client.properties (default: KAFKA_PROPERTIES)."),
        click.option("--bootstrap-servers", default=None,
                     help="Kafka brokers, host:port,... (default: KAFKA_BOOTSTRAP_SERVERS)."),
        click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
                     help="Serve Prometheus /metrics and /healthz on this port (0 = any free port)."),
        click.option("--metrics-host", default="127.0.0.1", show_default=True,
                     envvar="CHATPULSE_METRICS_HOST",
                     help="Bind address of the metrics server (0.0.0.0 in containers)."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                     help="chatpulse.yaml"),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def kafka_overrides(properties_file: str | None, bootstrap_servers: str | None) -> dict[str, Any]:
    """CLI flags as :func:`~chatpulse.config.load_settings` overrides."""
    return {"kafka.properties_file": properties_file, "kafka.bootstrap_servers": bootstrap_servers}
