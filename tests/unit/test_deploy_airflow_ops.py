"""deploy/airflow/dags/chatpulse_ops.py (the logic the Airflow DAGs schedule) on a real chDB store.

No Airflow needed: the module is Airflow-free so these checks run in the project's environment;
tests/integration/test_airflow_dags.py runs the same functions inside real Airflow DAG runs.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from chatpulse.config import StoreSettings
from chatpulse.events import CoverageEvent, ErrorEvent, MessageEvent
from chatpulse.store import ClickHouseSink, Store, open_store
from chatpulse.times import parse_time

ROOT = Path(__file__).resolve().parents[2]
T0 = parse_time("2026-06-01T00:00:00Z")
MINUTE = 60_000


def load_ops() -> ModuleType:
    path = ROOT / "deploy" / "airflow" / "dags" / "chatpulse_ops.py"
    spec = importlib.util.spec_from_file_location("chatpulse_ops", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chatpulse_ops"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


ops = load_ops()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'db'}"))
    opened.migrate()
    yield opened
    opened.close()


def put(store: Store, tmp_path: Path, events: list[object]) -> None:
    sink = ClickHouseSink(store, spool_dir=tmp_path / "spool")
    sink.add(events)  # type: ignore[arg-type]
    sink.flush()


def coverage(channel: str, state: str, minute: float) -> CoverageEvent:
    return CoverageEvent(channel=channel, state=state, received_at=T0 + int(minute * MINUTE), source="irc")  # type: ignore[arg-type]


def message(channel: str, n: int, minute: float) -> MessageEvent:
    at = T0 + int(minute * MINUTE)
    return MessageEvent(channel=channel, id=f"{channel}-{n}", user_login=f"u{n}", text="hi", sent_at=at,
                        received_at=at, source="irc")  # fmt: skip


def test_coverage_gaps_are_clipped_to_the_window_and_open_gaps_run_to_its_end(
    store: Store, tmp_path: Path
) -> None:
    put(store, tmp_path, [
        coverage("a", "disconnected", -10), coverage("a", "connected", 5),      # 5 min inside the window
        coverage("a", "disconnected", 20), coverage("a", "disconnected", 21),   # repeated: counts once
        coverage("a", "connected", 22),                                         # 2 min
        coverage("b", "disconnected", 50),                                      # still down: 10 min
        coverage("c", "disconnected", 70), coverage("c", "connected", 80),      # after the window
    ])  # fmt: skip
    gaps = ops.coverage_gaps(store, T0, T0 + 60 * MINUTE)
    assert gaps == {"a": 7 * 60.0, "b": 10 * 60.0}


def test_quality_problems_name_each_failing_check(store: Store, tmp_path: Path) -> None:
    events: list[object] = [message("busy", n, n / 10) for n in range(100)]  # minutes 0-9.9
    events += [message("quiet", 1, 1)]
    events += [
        ErrorEvent(channel="busy", received_at=T0 + n, source="irc", error="bad", raw=f"bad line {n}")
        for n in range(5)
    ]
    events += [coverage("busy", "disconnected", 30), coverage("busy", "connected", 40)]
    put(store, tmp_path, events)
    until = T0 + 20 * MINUTE
    channels = ops.active_channels(store, T0, until)
    assert channels == ["busy", "quiet"]
    limits = ops.Thresholds(max_gap_s=60, max_silence_s=15 * 60, max_error_ratio=0.01)
    assert ops.find_quality_problems(store, T0, until, channels, limits) == [
        "#quiet: newest message received 1,140 s ago (limit 900 s)",
        "5 unparsable lines for 101 messages (limit 1.0%)",
    ]
    later = ops.find_quality_problems(
        store, T0 + 20 * MINUTE, T0 + 50 * MINUTE, ["busy"], limits, dead_letters=3, consumer_lag=10
    )
    assert later == [
        "#busy: coverage gap of 600 s (limit 60 s)",
        "#busy: newest message received 2,406 s ago (limit 900 s)",
        "3 records sent to the dead-letter topic (limit 0)",
    ]
    assert ops.find_quality_problems(store, T0, T0 + 10 * MINUTE, ["busy"], limits, consumer_lag=10) == [
        "5 unparsable lines for 101 messages (limit 1.0%)"
    ]


def test_report_row_and_file_match_and_a_rerun_replaces_them(store: Store, tmp_path: Path) -> None:
    put(store, tmp_path, [message("busy", n, n / 10) for n in range(100)])
    until = T0 + 60 * MINUTE
    first = ops.write_channel_report(store, "busy", "hourly", until, tmp_path / "reports")
    second = ops.write_channel_report(store, "busy", "hourly", until, tmp_path / "reports")
    assert first == second == tmp_path / "reports" / "busy" / "hourly" / "2026-06-01T010000.000Z.json"
    rows = store.query("SELECT channel, period, messages, chatters FROM channel_reports FINAL")
    assert rows == [{"channel": "busy", "period": "hourly", "messages": 100, "chatters": 100}]
    with pytest.raises(ValueError, match="unknown period"):
        ops.write_channel_report(store, "busy", "weekly", until, tmp_path / "reports")


def test_invalid_channel_names_never_reach_a_query() -> None:
    assert ops.validate_channel("#XQC") == "xqc"
    with pytest.raises(ValueError, match="invalid channel"):
        ops.validate_channel("x'; DROP TABLE chat_messages --")
