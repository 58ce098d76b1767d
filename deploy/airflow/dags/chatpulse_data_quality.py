"""ChatPulse data quality, hourly. Fails the run (no retries) and lists every problem when:

- a channel's coverage gaps (source disconnected) exceed ``max_gap_s`` in the hour,
- an expected channel has been silent for more than ``max_silence_s`` (the pipeline stalls),
- unparsable lines exceed ``max_error_ratio`` of the messages,
- records went to the Kafka dead-letter topic, or consumer lag exceeds ``max_consumer_lag``
  (both from Prometheus, when the ``chatpulse_prometheus_url`` Variable is set).

Expected channels: ``twitch.channels``, else those active in the hour before. Thresholds: the
``chatpulse_dq_thresholds`` Variable (JSON), defaults in ``chatpulse_ops.Thresholds``.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

# The helper modules live beside this file; Airflow does not always put the DAG folder on sys.path.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import chatpulse_ops as ops  # noqa: E402
import pendulum  # noqa: E402
from airflow.sdk import dag, task  # noqa: E402
from airflow.sdk.exceptions import AirflowFailException  # noqa: E402
from chatpulse_airflow import DEFAULT_ARGS, TAGS, prometheus_url, thresholds, window_ms  # noqa: E402


@dag(
    dag_id="chatpulse_data_quality",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "data-quality"],
    doc_md=__doc__,
)
def chatpulse_data_quality() -> None:
    @task(retries=0)
    def check(data_interval_start: datetime | None = None, data_interval_end: datetime | None = None) -> str:
        since, until = window_ms(data_interval_start, data_interval_end, 3600)
        limits = thresholds()
        dead_letters = consumer_lag = None
        url = prometheus_url()
        if url is not None:
            window_s = max(1, (until - since) // 1000)
            dead_letters = ops.prometheus_value(url, ops.DEAD_LETTERS_QUERY.format(window=window_s))
            consumer_lag = ops.prometheus_value(url, ops.CONSUMER_LAG_QUERY)
        store = ops.open_configured_store()
        try:
            expected = ops.active_channels(store, since - (until - since), until, ops.configured_channels())
            problems = ops.find_quality_problems(
                store, since, until, expected, limits, dead_letters=dead_letters, consumer_lag=consumer_lag
            )
        finally:
            store.close()
        if problems:
            raise AirflowFailException(
                f"ChatPulse data quality: {len(problems)} problem(s)\n"
                + "\n".join(f"- {p}" for p in problems)
            )
        return f"ok: {len(expected)} channels checked"

    check()


data_quality = chatpulse_data_quality()
