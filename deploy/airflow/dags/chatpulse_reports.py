"""Per-channel ChatPulse reports, hourly and daily: the JSON of ``chatpulse report --json`` for
every channel, stored in the ``channel_reports`` table and written to a file per channel and window.

Channels: ``twitch.channels`` (``CHATPULSE_TWITCH__CHANNELS``), else every channel with messages in
the window. One mapped task per channel, so one failing channel is retried alone.
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
from airflow.sdk import DAG, dag, task  # noqa: E402
from chatpulse_airflow import DEFAULT_ARGS, TAGS, reports_dir, window_ms  # noqa: E402


def make_report_dag(period: str, schedule: str) -> DAG:
    seconds = ops.PERIODS[period]

    @dag(
        dag_id=f"chatpulse_{period}_reports",
        schedule=schedule,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=[*TAGS, "reports"],
        doc_md=__doc__,
    )
    def reports() -> None:
        @task
        def channels(
            data_interval_start: datetime | None = None, data_interval_end: datetime | None = None
        ) -> list[str]:
            since, until = window_ms(data_interval_start, data_interval_end, seconds)
            store = ops.open_configured_store()
            try:
                return ops.active_channels(store, since, until, ops.configured_channels())
            finally:
                store.close()

        @task
        def report(
            channel: str,
            data_interval_start: datetime | None = None,
            data_interval_end: datetime | None = None,
        ) -> str:
            _, until = window_ms(data_interval_start, data_interval_end, seconds)
            store = ops.open_configured_store()
            try:
                path = ops.write_channel_report(
                    store, ops.validate_channel(channel), period, until, reports_dir()
                )
            finally:
                store.close()
            return str(path)

        report.expand(channel=channels())

    return reports()


hourly_reports = make_report_dag("hourly", "@hourly")
daily_reports = make_report_dag("daily", "@daily")
