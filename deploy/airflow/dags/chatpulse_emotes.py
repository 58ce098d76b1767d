"""Refresh the third-party emote sets (7TV, BTTV, FFZ), every 6 hours (``emotes.refresh_interval_s``
defaults to 6 h): ``chatpulse emotes refresh`` for the global sets and for each channel.

Channels: ``twitch.channels`` (``CHATPULSE_TWITCH__CHANNELS``), else those active in the last day.
A channel's sets need its Twitch user id in the cache once (``chatpulse emotes refresh --channel
NAME --channel-id ID``). The command runs with the worker's ``chatpulse`` (``CHATPULSE_BIN``).
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
from chatpulse_airflow import DEFAULT_ARGS, TAGS, window_ms  # noqa: E402


@dag(
    dag_id="chatpulse_emote_refresh",
    schedule="0 */6 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "emotes"],
    doc_md=__doc__,
)
def chatpulse_emote_refresh() -> None:
    @task
    def channels(data_interval_end: datetime | None = None) -> list[str]:
        since, until = window_ms(None, data_interval_end, 86400)
        store = ops.open_configured_store()
        try:
            return ops.active_channels(store, since, until, ops.configured_channels())
        finally:
            store.close()

    @task
    def refresh(channels: list[str]) -> list[str]:
        return ops.refresh_emotes(channels)

    refresh(channels())


emote_refresh = chatpulse_emote_refresh()
