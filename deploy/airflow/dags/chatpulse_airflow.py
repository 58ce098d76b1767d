"""Shared bits of the ChatPulse DAGs: default arguments, the run's time window, Airflow Variables.

Configuration, read when a task runs (never while a DAG file is parsed):

- ChatPulse's own settings from the worker's environment, exactly as the CLI reads them
  (``CHATPULSE_STORE``, ``CLICKHOUSE_PASSWORD``, ``CHATPULSE_TWITCH__CHANNELS``, ...).
- Airflow Variables (or ``AIRFLOW_VAR_<NAME>`` environment variables):
  ``chatpulse_reports_dir`` (report files; default ``$AIRFLOW_HOME/chatpulse-reports``),
  ``chatpulse_prometheus_url`` (data-quality: dead letters and consumer lag; unset = skipped),
  ``chatpulse_dq_thresholds`` (JSON object overriding fields of ``chatpulse_ops.Thresholds``).
"""

from __future__ import annotations

import json
import os
from dataclasses import fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Variable
from chatpulse_ops import Thresholds

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "chatpulse",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
}
TAGS = ["chatpulse"]


def window_ms(start: datetime | None, end: datetime | None, seconds: float) -> tuple[int, int]:
    """The run's data interval in epoch ms; a manual run without one covers the last ``seconds``."""
    end_dt = end or datetime.now().astimezone()
    until = int(end_dt.timestamp() * 1000)
    since = (
        int(start.timestamp() * 1000) if start is not None and start < end_dt else until - int(seconds * 1000)
    )
    return since, until


def reports_dir() -> Path:
    default = Path(os.environ.get("AIRFLOW_HOME", ".")) / "chatpulse-reports"
    return Path(Variable.get("chatpulse_reports_dir", default=str(default)))


def prometheus_url() -> str | None:
    value = Variable.get("chatpulse_prometheus_url", default="")
    return str(value) or None


def thresholds() -> Thresholds:
    """``Thresholds`` with the overrides of the ``chatpulse_dq_thresholds`` Variable (JSON)."""
    raw = Variable.get("chatpulse_dq_thresholds", default="{}")
    overrides = json.loads(raw) if isinstance(raw, str) else dict(raw)
    known = {f.name for f in fields(Thresholds)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"chatpulse_dq_thresholds: unknown fields {unknown}; known: {sorted(known)}")
    return replace(Thresholds(), **{k: float(v) for k, v in overrides.items()})
