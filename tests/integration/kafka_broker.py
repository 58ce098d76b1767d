"""Start and stop a real local Kafka broker for tests, through deploy/kafka's own scripts."""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KAFKA_DIR = PROJECT_ROOT / "deploy" / "kafka"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LocalBroker:
    """A broker run by deploy/kafka/kafka-up.sh in ``run_dir`` on ``port``."""

    run_dir: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KAFKA_RUN_DIR": str(self.run_dir),
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
        }

    def up(self, timeout_s: float = 240) -> None:
        """Start (idempotent); raises with the script's output when the broker does not come up."""
        done = subprocess.run(
            [str(KAFKA_DIR / "kafka-up.sh")],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kafka-up.sh failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def down(self) -> None:
        subprocess.run(
            [str(KAFKA_DIR / "kafka-down.sh")], env=self._env(), capture_output=True, timeout=60, check=True
        )


def private_broker(run_dir: Path) -> LocalBroker:
    """A broker of the test's own (free ports, its own data), e.g. to stop and restart it."""
    return LocalBroker(run_dir=run_dir, port=free_port(), controller_port=free_port())


def default_broker() -> LocalBroker:
    """The broker `make kafka-up` starts (deploy/kafka/run, 127.0.0.1:9092)."""
    return LocalBroker(run_dir=KAFKA_DIR / "run", port=9092, controller_port=9093)
