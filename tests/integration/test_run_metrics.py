"""`chatpulse run --metrics-port`: Prometheus /metrics and /healthz of a running pipeline.

The run is a real subprocess (synthetic chat, no network); the test scrapes it twice, as
Prometheus would, and checks that the counters move while it runs.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import kafka_cli_env, unique_kafka_settings
from tests.integration.kafka_broker import free_port

CLI = [sys.executable, "-m", "chatpulse", "run"]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local test server
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def _scrape(base: str) -> tuple[str, Samples]:
    status, text = _get(f"{base}/metrics")
    assert status == 200
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _wait_healthy(base: str, proc: subprocess.Popen[str], timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            status, body = _get(f"{base}/healthz")
            if status == 200:
                return body
        except OSError:
            pass  # not listening yet
        time.sleep(0.3)
    raise AssertionError("/healthz never answered 200")


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _start(
    args: list[str], started: list[subprocess.Popen[str]], env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    started.append(proc)
    return proc


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr
    return stderr


def test_metrics_of_a_running_demo_move_and_health_is_ok(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(
        ["--demo", "--demo-history", "0", "--duration", "60", "--no-dashboard", "--workers", "0",
         "--metrics-port", str(port), "--store", f"chdb://{tmp_path / 'db'}"],
        started,
    )  # fmt: skip
    assert _wait_healthy(base, proc).strip() == "ok"
    time.sleep(2.5)  # a flush or two at the demo's 200 lines/s
    _, before = _scrape(base)
    time.sleep(2.5)
    text, after = _scrape(base)

    for name, labels in [
        ("chatpulse_events_in_total", {"stage": "run"}),
        ("chatpulse_events_out_total", {"stage": "run"}),
        ("chatpulse_pipeline_items_total", {"stage": "run", "step": "messages"}),
        ("chatpulse_store_rows_written_total", {"stage": "run", "table": "chat_messages"}),
        ("chatpulse_end_to_end_latency_seconds_count", {"stage": "run"}),
    ]:
        assert _value(after, name, **labels) > _value(before, name, **labels) > 0, name
    assert _value(after, "chatpulse_queue_capacity", stage="run", queue="raw") > 0
    assert _value(after, "chatpulse_errors_total", stage="run", kind="parse") == 0
    assert "# TYPE chatpulse_spool_bytes gauge" in text

    stderr = _stop(proc)
    assert f"{base}/metrics" in stderr  # the run says where its metrics are


def test_kafka_run_serves_all_three_stages_on_one_port(
    kafka_bootstrap: str, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    kafka = unique_kafka_settings(kafka_bootstrap, tmp_path / "spool")
    properties = tmp_path / "client.properties"
    properties.write_text(f"bootstrap.servers={kafka_bootstrap}\n")
    env = kafka_cli_env(kafka)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(
        ["--demo", "--demo-history", "0", "--duration", "60", "--no-dashboard", "--kafka", str(properties),
         "--metrics-port", str(port), "--store", f"chdb://{tmp_path / 'db'}"],
        started, env,
    )  # fmt: skip
    _wait_healthy(base, proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the consumers join their groups first
        _, before = _scrape(base)
        if _value(before, "chatpulse_events_out_total", stage="sink") > 0:
            break
        time.sleep(0.5)
    time.sleep(2.5)
    text, after = _scrape(base)

    for stage in ("ingest", "enrich", "sink"):
        assert _value(after, "chatpulse_events_out_total", stage=stage) > _value(
            before, "chatpulse_events_out_total", stage=stage
        ), stage
    assert _value(after, "chatpulse_end_to_end_latency_seconds_count", stage="sink") > 0
    assert _value(after, "chatpulse_store_rows_written_total", stage="sink", table="chat_messages") > 0
    assert "chatpulse_consumer_lag" in text
    # One HELP/TYPE block per family, whatever the number of stages (the text format's rule).
    type_lines = [line for line in text.splitlines() if line.startswith("# TYPE ")]
    assert len(type_lines) == len(set(type_lines))
    _stop(proc)


def test_a_taken_metrics_port_is_reported_before_any_work(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*CLI, "--demo", "--no-dashboard", "--metrics-port", str(port),
             "--store", f"chdb://{tmp_path / 'db'}"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert done.returncode == 2
    assert f"127.0.0.1:{port}" in done.stderr and "--metrics-port" in done.stderr
    assert not (tmp_path / "db").exists()


def test_the_dashboard_command_reports_whether_its_store_answers(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    store = f"chdb://{tmp_path / 'db'}"  # the dashboard reads an existing store: create it first
    subprocess.run(
        [sys.executable, "-m", "chatpulse", "db", "migrate", "--store", store], check=True, timeout=120
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatpulse", "dashboard", "--port", "0", "--metrics-port", str(port),
         "--store", store],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    started.append(proc)
    assert _wait_healthy(base, proc).strip() == "ok"
    _, samples = _scrape(base)
    assert _value(samples, "chatpulse_store_up", stage="dashboard") == 1
    _stop(proc)
