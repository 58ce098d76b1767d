"""ChatPulse housekeeping, daily: apply the retention setting (``CHATPULSE_STORE__TTL_DAYS``, as
``chatpulse db migrate`` does) and ``OPTIMIZE ... FINAL`` the day that just ended, so duplicates
and expired rows go now rather than at some later background merge."""

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
from chatpulse_airflow import DEFAULT_ARGS, TAGS, window_ms  # noqa: E402


@dag(
    dag_id="chatpulse_housekeeping",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "housekeeping"],
    doc_md=__doc__,
)
def chatpulse_housekeeping() -> None:
    @task
    def retention_and_optimize(
        data_interval_start: datetime | None = None, data_interval_end: datetime | None = None
    ) -> list[str]:
        since, _ = window_ms(data_interval_start, data_interval_end, 86400)
        store = ops.open_configured_store()
        try:
            return ops.housekeeping(store, since)
        finally:
            store.close()

    retention_and_optimize()


housekeeping = chatpulse_housekeeping()
