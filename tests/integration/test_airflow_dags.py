"""The ChatPulse DAGs in a real Airflow 3 (its own virtual environment), against a real chDB store.

Airflow's pins clash with ChatPulse's test environment, so Airflow lives in deploy/airflow/.venv
(`make airflow-venv`, about a minute on first use; this test runs it when the venv is missing).
deploy/airflow/check_dags.py loads the DagBag there and runs DAGs with ``dag.test()``; this test
fills a chDB store from the real xqcow capture first and checks what the runs left behind.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.irc.twitch import parse_line
from chatpulse.store import ClickHouseSink, open_store
from chatpulse.times import parse_time

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_DIR = ROOT / "deploy" / "airflow"
VENV_PYTHON = AIRFLOW_DIR / ".venv" / "bin" / "python"
# The capture (2019-09-15 00:00-00:07 UTC) is moved to this day: the DAGs start in 2026, and
# Airflow creates no task instances for a run before a DAG's start_date.
DAY = "2026-06-01"
EXPECTED_DAGS = {
    "chatpulse_hourly_reports": ("@hourly", ["channels", "report"]),
    "chatpulse_daily_reports": ("@daily", ["channels", "report"]),
    "chatpulse_housekeeping": ("@daily", ["retention_and_optimize"]),
    "chatpulse_emote_refresh": ("0 */6 * * *", ["channels", "refresh"]),
    "chatpulse_data_quality": ("@hourly", ["check"]),
}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def airflow_python() -> Path:
    # Make rebuilds the venv when it is missing or older than its pins or pyproject.toml.
    subprocess.run(["make", "-s", "airflow-venv"], cwd=ROOT, check=True, timeout=840)
    return VENV_PYTHON


@pytest.fixture(scope="module")
def store_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A chDB store holding the xqcow capture, shifted to DAY, with receive time = send time."""
    folder = tmp_path_factory.mktemp("airflow-store")
    shift = parse_time(f"{DAY}T00:00:00Z") - parse_time("2019-09-15T00:00:00Z")
    with gzip.open(shared_data / "replay" / "xqcow-2019-09-15.irc.gz", "rt", encoding="utf-8") as f:
        parsed = [parse_line(line.rstrip("\r\n"), 0, "replay") for line in f if line.strip()]
    events = [
        dataclasses.replace(
            e, sent_at=e.sent_at + shift if e.sent_at else None, received_at=(e.sent_at or 0) + shift
        )
        for e in parsed
    ]
    store = open_store(StoreSettings(dsn=f"chdb://{folder / 'db'}"))
    store.migrate()
    sink = ClickHouseSink(store, spool_dir=folder / "spool")
    sink.add(events)
    sink.flush()
    sink.close()
    store.close()
    return folder / "db"


@pytest.fixture(scope="module")
def airflow_home(airflow_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("airflow-home")
    subprocess.run(
        [str(airflow_python.parent / "airflow"), "db", "migrate"],
        env=_airflow_env(home, None),
        check=True,
        capture_output=True,
        timeout=300,
    )
    yield home


def _airflow_env(home: Path, store_dir: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CHATPULSE_"))}
    env |= {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    if store_dir is not None:
        env |= {
            "CHATPULSE_STORE": f"chdb://{store_dir}",
            "AIRFLOW_VAR_CHATPULSE_REPORTS_DIR": str(home / "reports"),
        }
    return env


def check_dags(python: Path, home: Path, store_dir: Path, *tests: str) -> tuple[dict[str, Any], str]:
    out = home / "check.json"
    result = subprocess.run(
        [str(python), str(AIRFLOW_DIR / "check_dags.py"), "--out", str(out), *(f"--test={t}" for t in tests)],
        env=_airflow_env(home, store_dir),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=home,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), result.stdout + result.stderr


def chatpulse_cli(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "chatpulse", *args], capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout


def query_rows(store_dir: Path, sql: str) -> list[dict[str, Any]]:
    """Rows through `chatpulse query --format jsonl`, as a user would read the store."""
    out = chatpulse_cli("query", sql, "--format", "jsonl", "--store", f"chdb://{store_dir}")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_dags_load_run_and_leave_reports_quality_verdicts_and_merged_tables(
    airflow_python: Path, airflow_home: Path, store_dir: Path
) -> None:
    result, logs = check_dags(
        airflow_python,
        airflow_home,
        store_dir,
        f"chatpulse_hourly_reports={DAY}T01:00:00Z",
        f"chatpulse_data_quality={DAY}T01:00:00Z",
    )
    assert result["import_errors"] == {}
    loaded = {dag_id: (d["schedule"], d["tasks"]) for dag_id, d in result["dags"].items()}
    assert loaded == EXPECTED_DAGS

    # Hourly report: one mapped task for the one active channel, its file is exactly what
    # `chatpulse report --json` prints for the same window, and a row in channel_reports.
    run = result["runs"]["chatpulse_hourly_reports"]
    assert run["state"] == "success", logs[-4000:]
    assert run["tasks"] == {"channels[-1]": "success", "report[0]": "success"}
    files = sorted((airflow_home / "reports").rglob("*.json"))
    assert [f.relative_to(airflow_home / "reports").as_posix() for f in files] == [
        f"xqcow/hourly/{DAY}T010000.000Z.json"
    ]
    expected = chatpulse_cli(
        "report", "--channel", "xqcow", "--since", "1h", "--until", f"{DAY}T01:00:00Z", "--json",
        "--store", f"chdb://{store_dir}",
    )  # fmt: skip
    assert json.loads(files[0].read_text(encoding="utf-8")) == json.loads(expected)
    rows = query_rows(store_dir, "SELECT channel, period, messages, report FROM channel_reports")
    assert len(rows) == 1 and rows[0]["channel"] == "xqcow" and rows[0]["period"] == "hourly"
    assert rows[0]["messages"] == json.loads(expected)["totals"]["messages"] > 4000

    # Data quality at 01:00: xqcow was active in the hour before and silent for 52 minutes since
    # -> the run fails loudly, naming the channel and how long it has been silent.
    dq = result["runs"]["chatpulse_data_quality"]
    assert dq["state"] == "failed"
    newest = query_rows(
        store_dir, "SELECT toUnixTimestamp64Milli(max(received_at)) AS ms FROM chat_messages"
    )[0]["ms"]
    silence_s = (parse_time(f"{DAY}T01:00:00Z") - int(newest)) / 1000
    assert f"#xqcow: newest message received {silence_s:,.0f} s ago" in logs


def test_quality_check_passes_while_chat_flows_and_housekeeping_merges_duplicates(
    airflow_python: Path, airflow_home: Path, store_dir: Path
) -> None:
    before = query_rows(store_dir, "SELECT count() AS n, uniqExact(id) AS ids FROM chat_messages")[0]
    assert before["n"] > before["ids"]  # moderation markers are extra copies until a merge
    result, logs = check_dags(
        airflow_python,
        airflow_home,
        store_dir,
        f"chatpulse_data_quality={DAY}T00:10:00Z",
        "chatpulse_housekeeping=2026-06-02T00:00:00Z",
    )
    assert result["runs"]["chatpulse_data_quality"]["state"] == "success", logs[-4000:]
    assert result["runs"]["chatpulse_housekeeping"]["state"] == "success", logs[-4000:]
    after = query_rows(store_dir, "SELECT count() AS n, uniqExact(id) AS ids FROM chat_messages")[0]
    assert after == {"n": before["ids"], "ids": before["ids"]}
