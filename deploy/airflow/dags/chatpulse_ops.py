"""ChatPulse operations that the Airflow DAGs schedule: thin calls into ChatPulse's Python API.

No Airflow import here on purpose: the DAG files (``chatpulse_*_dag.py`` beside this module, which
Airflow puts on ``sys.path``) wrap these functions in tasks, and the project's unit tests run them
directly on chDB. Everything ChatPulse already does is called, not copied: settings and the store
come from :func:`chatpulse.config.load_settings` / :func:`chatpulse.store.open_store`, reports from
:func:`chatpulse.store.report.build_report` (the JSON of ``chatpulse report --json``), retention
from ``Store.migrate`` (``chatpulse db migrate``), emote sets from ``chatpulse emotes refresh``.

Who calls what, and what happens on failure:

- ``write_channel_report`` (report DAGs, one mapped task per channel): raises ``StoreError`` when
  the store fails; Airflow retries the task. Re-running a period replaces its row (the table is a
  ReplacingMergeTree keyed by channel, period and window end) and rewrites its file.
- ``housekeeping`` (daily): raises ``StoreError``; nothing is deleted that the TTL would keep.
- ``refresh_emotes``: raises ``EmoteRefreshError`` naming the channels that failed; the cached sets
  stay in use (the CLI keeps them).
- ``find_quality_problems`` returns the problems found; the DAG fails the run loudly when the list
  is not empty (no retry: retrying does not fix data).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from chatpulse.config import CHANNEL_PATTERN, load_settings
from chatpulse.store import Store, open_store
from chatpulse.store.report import build_report
from chatpulse.times import format_time

REPORTS_TABLE: Final = "channel_reports"
# Owned by the Airflow deployment (not a ChatPulse migration): one row per channel, period and
# window end; a re-run of the same DAG interval replaces its row.
REPORTS_DDL: Final = f"""
CREATE TABLE IF NOT EXISTS {REPORTS_TABLE}
(
    channel LowCardinality(String),
    period LowCardinality(String),
    since DateTime64(3, 'UTC'),
    until DateTime64(3, 'UTC'),
    generated_at DateTime64(3, 'UTC'),
    messages UInt64,
    chatters UInt64,
    sentiment_mean Nullable(Float64),
    report String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree(generated_at)
ORDER BY (channel, period, until)
"""
PERIODS: Final = {"hourly": 3600.0, "daily": 86400.0}
# Prometheus queries for the data-quality DAG; metric names from chatpulse/metrics.py.
DEAD_LETTERS_QUERY: Final = "sum(increase(chatpulse_dead_letters_total[{window}s]))"
CONSUMER_LAG_QUERY: Final = "max(chatpulse_consumer_lag)"

# Window bounds are query parameters (int ms), passed the way chatpulse.store.queries passes them.
_ACTIVE_CHANNELS_SQL: Final = (
    "SELECT DISTINCT channel FROM chat_minute "
    "WHERE minute >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') "
    "AND minute < fromUnixTimestamp64Milli({until:Int64}, 'UTC') ORDER BY channel"
)
_NEWEST_SQL: Final = (
    "SELECT channel, toUnixTimestamp64Milli(max(received_at)) AS newest FROM chat_messages "
    "WHERE received_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC') GROUP BY channel"
)
_ERRORS_SQL: Final = (
    "SELECT (SELECT count() FROM chat_events WHERE kind = 'error' "
    "AND received_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') "
    "AND received_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')) AS errors, "
    "(SELECT countMerge(messages) FROM chat_minute "
    "WHERE minute >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') "
    "AND minute < fromUnixTimestamp64Milli({until:Int64}, 'UTC')) AS messages"
)
_COVERAGE_SQL: Final = (
    "SELECT channel, notice_type AS state, toUnixTimestamp64Milli(received_at) AS at FROM chat_events "
    "WHERE kind = 'coverage' AND received_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC') "
    "ORDER BY channel, at"
)


class EmoteRefreshError(RuntimeError):
    """``chatpulse emotes refresh`` failed for some channels (their cached sets stay in use)."""


class DataQualityError(RuntimeError):
    """A data-quality check found problems; the message lists every one."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Limits of the data-quality check for one window."""

    max_gap_s: float = 300.0  # coverage gaps (source disconnected) per channel
    max_silence_s: float = 900.0  # newest received message older than this: the pipeline stalls
    max_error_ratio: float = 0.01  # unparsable lines per stored message
    max_dead_letters: float = 0.0  # records sent to the dead-letter topic in the window
    max_consumer_lag: float = 50_000.0  # Kafka records not yet consumed


def open_configured_store() -> Store:
    """The store ChatPulse's settings point at (``CHATPULSE_STORE`` etc.), schema migrated."""
    store = open_store(load_settings().store)
    store.migrate()
    return store


def configured_channels() -> tuple[str, ...]:
    """``twitch.channels`` (``CHATPULSE_TWITCH__CHANNELS=a,b``); empty = every active channel."""
    return load_settings().twitch.channels


def active_channels(store: Store, since_ms: int, until_ms: int, configured: Sequence[str] = ()) -> list[str]:
    """The configured channels, else those with messages in ``[since, until)``."""
    if configured:
        return sorted({c.lower().lstrip("#") for c in configured})
    rows = store.query(_ACTIVE_CHANNELS_SQL, {"since": since_ms, "until": until_ms})
    return [str(row["channel"]) for row in rows]


def write_channel_report(
    store: Store, channel: str, period: str, until_ms: int, out_dir: Path, *, top: int = 10
) -> Path:
    """Build ``channel``'s report for the ``period`` ending at ``until_ms``; store a row and a file.

    The file is ``out_dir/<channel>/<period>/<window end>.json`` with exactly the JSON of
    ``chatpulse report --channel C --since 1h|1d --until T --json``.
    """
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; expected one of {sorted(PERIODS)}")
    report = build_report(store, channel, PERIODS[period], until_ms, top=top)
    text = json.dumps(report, ensure_ascii=False, default=str)
    totals = report.get("totals") or {}
    store.command(REPORTS_DDL)
    generated_ms = _now_ms()
    store.insert(
        REPORTS_TABLE,
        {
            "channel": [report["channel"]],
            "period": [period],
            "since": [int(report["since_ms"])],
            "until": [int(report["until_ms"])],
            "generated_at": [generated_ms],
            "messages": [int(totals.get("messages") or 0)],
            "chatters": [int(totals.get("chatters") or 0)],
            "sentiment_mean": [_float_or_none(totals.get("sentiment_mean"))],
            "report": [text],
        },
    )
    path = out_dir / channel / period / f"{format_time(until_ms).replace(':', '')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)  # readers never see half a file
    return path


def housekeeping(store: Store, day_ms: int) -> list[str]:
    """Apply the retention setting (``store.ttl_days``, as ``db migrate`` does) and merge the day.

    ``OPTIMIZE ... FINAL`` on the day that ``day_ms`` falls in makes ReplacingMergeTree drop
    duplicate rows and TTL drop expired ones now instead of at some later background merge; it
    touches one partition per table, so it stays cheap. Returns the ``table/partition`` merged.
    """
    store.migrate()
    partition = format_time(day_ms)[:10].replace("-", "")  # tables are PARTITION BY toDate(...)
    rows = store.query(
        "SELECT table, count() AS parts FROM system.parts WHERE database = currentDatabase() "
        "AND active AND partition_id = {partition:String} GROUP BY table ORDER BY table",
        {"partition": partition},
    )
    merged = []
    for row in rows:
        table = str(row["table"])
        if not table.replace("_", "").isalnum():
            continue  # never interpolate anything but a plain table name
        store.command(f"OPTIMIZE TABLE {table} PARTITION ID '{partition}' FINAL")
        merged.append(f"{table}/{partition}")
    return merged


def refresh_emotes(
    channels: Iterable[str], chatpulse_bin: str | None = None, timeout_s: float = 300
) -> list[str]:
    """Run ``chatpulse emotes refresh`` for the global sets and each channel; returns what it refreshed.

    Channels whose Twitch user id is unknown to the cache are refreshed once someone ran
    ``chatpulse emotes refresh --channel NAME --channel-id ID``; until then they are reported.
    """
    binary = chatpulse_bin or os.environ.get("CHATPULSE_BIN") or shutil.which("chatpulse") or "chatpulse"
    done, failed = [], []
    for channel in [None, *sorted(set(channels))]:
        args = [binary, "emotes", "refresh"] + (["--channel", channel] if channel else [])
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)  # noqa: S603
        name = channel or "(global)"
        if result.returncode == 0:
            done.append(name)
        else:
            reason = (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1]
            failed.append(f"{name}: {reason}")
    if failed:
        raise EmoteRefreshError("emote refresh failed for " + "; ".join(failed))
    return done


def find_quality_problems(
    store: Store,
    since_ms: int,
    until_ms: int,
    channels: Sequence[str],
    thresholds: Thresholds = Thresholds(),
    *,
    dead_letters: float | None = None,
    consumer_lag: float | None = None,
) -> list[str]:
    """Every problem in ``[since, until)``: coverage gaps, silent channels, parse errors, dead
    letters and Kafka consumer lag above their thresholds. Empty list = healthy."""
    problems: list[str] = []
    for channel, gap_s in sorted(coverage_gaps(store, since_ms, until_ms).items()):
        if gap_s > thresholds.max_gap_s:
            problems.append(
                f"#{channel}: coverage gap of {gap_s:,.0f} s (limit {thresholds.max_gap_s:,.0f} s)"
            )
    newest = {
        str(row["channel"]): int(row["newest"]) for row in store.query(_NEWEST_SQL, {"until": until_ms})
    }
    for channel in channels:
        silence_s = (until_ms - newest[channel]) / 1000 if channel in newest else math.inf
        if silence_s > thresholds.max_silence_s:
            seen = f"{silence_s:,.0f} s ago" if channel in newest else "never"
            problems.append(
                f"#{channel}: newest message received {seen} (limit {thresholds.max_silence_s:,.0f} s)"
            )
    counts = store.query(_ERRORS_SQL, {"since": since_ms, "until": until_ms})[0]
    errors, messages = int(counts["errors"]), int(counts["messages"])
    if errors and errors > thresholds.max_error_ratio * max(messages, 1):
        problems.append(
            f"{errors:,} unparsable lines for {messages:,} messages (limit {thresholds.max_error_ratio:.1%})"
        )
    if dead_letters is not None and dead_letters > thresholds.max_dead_letters:
        problems.append(
            f"{dead_letters:,.0f} records sent to the dead-letter topic "
            f"(limit {thresholds.max_dead_letters:,.0f})"
        )
    if consumer_lag is not None and consumer_lag > thresholds.max_consumer_lag:
        problems.append(
            f"Kafka consumer lag {consumer_lag:,.0f} records (limit {thresholds.max_consumer_lag:,.0f})"
        )
    return problems


def coverage_gaps(store: Store, since_ms: int, until_ms: int) -> dict[str, float]:
    """Seconds each channel spent disconnected in ``[since, until)``, from ``coverage`` events.

    A channel disconnected before ``since`` (its last coverage event before the window says so)
    counts from ``since``; one still disconnected at ``until`` counts to ``until``.
    """
    rows = store.query(_COVERAGE_SQL, {"until": until_ms})
    gaps: dict[str, float] = {}
    down_since: dict[str, int | None] = {}
    for row in rows:
        channel, state, at = str(row["channel"]), str(row["state"]), int(row["at"])
        if state == "disconnected":
            down_since.setdefault(channel, None)
            if down_since[channel] is None:
                down_since[channel] = at
        elif state == "connected":
            start = down_since.get(channel)
            if start is not None:
                _add_gap(gaps, channel, start, at, since_ms, until_ms)
            down_since[channel] = None
    for channel, start in down_since.items():
        if start is not None:
            _add_gap(gaps, channel, start, until_ms, since_ms, until_ms)
    return gaps


def prometheus_value(base_url: str, query: str, timeout_s: float = 10.0) -> float | None:
    """One number from Prometheus's HTTP API (``/api/v1/query``); None when the result is empty."""
    if not base_url.startswith(("http://", "https://")):
        raise ValueError("the Prometheus URL must be http(s)://host:port")
    url = f"{base_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (scheme checked)
        body: dict[str, Any] = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"Prometheus query failed: {body.get('error', 'unknown error')}")
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def validate_channel(channel: str) -> str:
    """A channel login as stored (lower case, no '#'); ValueError otherwise."""
    login = channel.lower().lstrip("#")
    if not re.match(CHANNEL_PATTERN, login):
        raise ValueError(f"invalid channel name {channel!r}")
    return login


def _add_gap(
    gaps: dict[str, float], channel: str, start: int, end: int, since_ms: int, until_ms: int
) -> None:
    overlap = min(end, until_ms) - max(start, since_ms)
    if overlap > 0:
        gaps[channel] = gaps.get(channel, 0.0) + overlap / 1000


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
