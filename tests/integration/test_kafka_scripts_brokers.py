"""deploy/kafka's scripts with real brokers: a second broker started beside a running one leaves it
untouched, kafka-down stops the one asked for, and a broker that fails to bind says so in one line."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from confluent_kafka.admin import AdminClient

from chatpulse.testing.kafka_broker import free_ports, run_script


def script(name: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_script(name, env, timeout_s=240)


def answers(port: int) -> bool:
    """The broker on ``port`` answers a metadata request."""
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
    try:
        return admin.list_topics(timeout=15).brokers[1].port == port
    except Exception:  # noqa: BLE001 - any failure to answer is "no"
        return False


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_second_broker_leaves_the_running_one_alone_and_kafka_down_stops_each(tmp_path: Path) -> None:
    root = str(tmp_path / "run")
    a, a_controller, b, b_controller, c = free_ports(5)
    try:
        assert script("kafka-up.sh", KAFKA_RUN_ROOT=root, KAFKA_PORT=str(a),
                      KAFKA_CONTROLLER_PORT=str(a_controller)).returncode == 0  # fmt: skip
        folder_a = tmp_path / "run" / str(a)
        before = {name: (folder_a / name).read_bytes() for name in ("kafka.pid", "server.properties")}
        pid_a = int(before["kafka.pid"])

        second = script(
            "kafka-up.sh", KAFKA_RUN_ROOT=root, KAFKA_PORT=str(b), KAFKA_CONTROLLER_PORT=str(b_controller)
        )
        assert second.returncode == 0, second.stderr
        pid_b = int((tmp_path / "run" / str(b) / "kafka.pid").read_text())
        # Another port in A's own folder: refused, A untouched.
        refused = script("kafka-up.sh", KAFKA_RUN_DIR=str(folder_a), KAFKA_PORT=str(c))
        assert refused.returncode == 1
        [line] = refused.stderr.splitlines()
        assert f"runs on port {a}" in line
        assert {name: (folder_a / name).read_bytes() for name in before} == before
        assert answers(a) and answers(b)

        down_a = script("kafka-down.sh", KAFKA_RUN_ROOT=root, KAFKA_PORT=str(a))
        assert down_a.returncode == 0 and f"stopped the broker on port {a}" in down_a.stdout
        assert not alive(pid_a)
        assert answers(b)
    finally:
        down_all = script("kafka-down.sh", KAFKA_RUN_ROOT=root)
    assert down_all.returncode == 0 and f"stopped the broker on port {b}" in down_all.stdout
    assert not alive(pid_b)


def test_a_broker_that_cannot_bind_its_controller_port_fails_in_one_line(tmp_path: Path) -> None:
    # Bound but not listening: the script's connect check passes, Kafka's own bind fails.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        controller = int(held.getsockname()[1])
        (port,) = free_ports(1)
        done = script("kafka-up.sh", KAFKA_RUN_DIR=str(tmp_path / "broker"), KAFKA_PORT=str(port),
                      KAFKA_CONTROLLER_PORT=str(controller))  # fmt: skip
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "exited during start-up" in line
    assert f"{controller}: Address already in use" in line
    assert not (tmp_path / "broker" / "kafka.pid").exists()
