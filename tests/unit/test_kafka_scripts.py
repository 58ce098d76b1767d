"""deploy/kafka's start and stop scripts: refusals in one line before any JVM starts, and stopping
exactly the brokers asked for (stand-in processes that look like a broker to the scripts)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatpulse.config import KafkaSettings
from chatpulse.testing.kafka_broker import KAFKA_DIR, free_ports, run_script
from chatpulse.transport.properties import client_config


def script(name: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_script(name, env, timeout_s=60)


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("taken", ["KAFKA_CONTROLLER_PORT", "KAFKA_PORT"])
def test_a_taken_port_is_refused_in_one_line_and_leaves_no_run_folder(
    tmp_path: Path, listening: int, taken: str
) -> None:
    port, controller = free_ports(2)
    ports = {"KAFKA_PORT": str(port), "KAFKA_CONTROLLER_PORT": str(controller), taken: str(listening)}
    done = script("kafka-up.sh", KAFKA_RUN_ROOT=str(tmp_path / "run"), **ports)
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert str(listening) in line and f"set {taken}" in line
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


@pytest.mark.parametrize(
    ("ports", "message"),
    [({"KAFKA_PORT": "9x"}, "KAFKA_PORT=9x is not a port"),
     ({"KAFKA_PORT": "7001", "KAFKA_CONTROLLER_PORT": "7001"}, "both 7001"),
     ({"KAFKA_CONTROLLER_PORT": "70000"}, "KAFKA_CONTROLLER_PORT=70000 is not a port")],
)  # fmt: skip
def test_bad_port_settings_exit_2_in_one_line(tmp_path: Path, ports: dict[str, str], message: str) -> None:
    done = script("kafka-up.sh", KAFKA_RUN_ROOT=str(tmp_path), **ports)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert message in line
    assert not any(tmp_path.iterdir())


# A stand-in broker: its command line names kafka.Kafka and the run folder's server.properties, as
# kafka-up.sh starts the real one; it optionally ignores SIGTERM as a stuck broker did.
STAND_IN = """import signal, sys, time
if sys.argv[1] == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(120)
"""


def stand_in(folder: Path, port: int, ignore_term: bool = False) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True)
    config = folder / "server.properties"
    config.write_text(f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:1\n")
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", STAND_IN, "ignore" if ignore_term else "-", "kafka.Kafka", str(config)],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    (folder / "kafka.pid").write_text(f"{process.pid}\n")
    return process


def stopped(process: subprocess.Popen[bytes]) -> int | None:
    """The stand-in's exit status once it ended, None if it still ran 5 s later (then killed)."""
    try:
        return process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None
    finally:
        if process.stdout:
            process.stdout.close()


def test_kafka_down_with_a_port_stops_that_broker_only_and_without_one_stops_all(tmp_path: Path) -> None:
    first, second = stand_in(tmp_path / "7101", 7101), stand_in(tmp_path / "7102", 7102)
    done = script("kafka-down.sh", KAFKA_RUN_ROOT=str(tmp_path), KAFKA_PORT="7101")
    assert done.returncode == 0 and "stopped the broker on port 7101" in done.stdout
    assert stopped(first) == -signal.SIGTERM
    assert second.poll() is None and (tmp_path / "7102" / "kafka.pid").is_file()

    done = script("kafka-down.sh", KAFKA_RUN_ROOT=str(tmp_path))
    assert done.returncode == 0 and "stopped the broker on port 7102" in done.stdout
    assert stopped(second) == -signal.SIGTERM
    assert not list(tmp_path.glob("*/kafka.pid"))


def test_a_broker_that_ignores_sigterm_is_killed_after_the_stop_timeout(tmp_path: Path) -> None:
    stuck = stand_in(tmp_path / "7103", 7103, ignore_term=True)
    done = script("kafka-down.sh", KAFKA_RUN_ROOT=str(tmp_path), KAFKA_STOP_TIMEOUT="1")
    assert done.returncode == 0
    assert "sending SIGKILL" in done.stderr
    assert stopped(stuck) == -signal.SIGKILL


def test_a_pid_file_naming_another_process_leaves_that_process_alone(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # noqa: S603
    try:
        folder = tmp_path / "7104"
        folder.mkdir()
        (folder / "server.properties").write_text("listeners=PLAINTEXT://127.0.0.1:7104,CONTROLLER://x:1\n")
        (folder / "kafka.pid").write_text(f"{other.pid}\n")
        done = script("kafka-down.sh", KAFKA_RUN_ROOT=str(tmp_path), KAFKA_PORT="7104")
        assert done.returncode == 0 and "stale pid file removed" in done.stdout
        assert other.poll() is None
        assert not (folder / "kafka.pid").exists()
    finally:
        other.kill()
        other.wait()


def test_the_example_client_properties_point_at_the_local_broker() -> None:
    example = KAFKA_DIR / "client.properties.example"
    assert client_config(KafkaSettings(properties_file=example))["bootstrap.servers"] == "127.0.0.1:9092"
    # KAFKA_BOOTSTRAP_SERVERS (a broker on another port) wins over the file.
    settings = KafkaSettings(properties_file=example, bootstrap_servers="127.0.0.1:19092")
    assert client_config(settings)["bootstrap.servers"] == "127.0.0.1:19092"
