"""A real local Kafka broker on free ports, started and stopped through deploy/kafka's own scripts."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from chatpulse.errors import ConfigError

KAFKA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "kafka"


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports nobody listens on now (all bound at once, so never the same one)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    return free_ports(1)[0]


def run_script(name: str, env: dict[str, str], timeout_s: float = 240) -> subprocess.CompletedProcess[str]:
    """Run deploy/kafka/``name`` with ``env`` over this environment minus its KAFKA_ variables."""
    script = KAFKA_DIR / name
    if not script.is_file():
        raise ConfigError(f"{script} not found: set KAFKA_BOOTSTRAP_SERVERS or use a ChatPulse checkout")
    base = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}
    return subprocess.run(  # noqa: S603 - our own script
        [str(script)], env={**base, **env}, capture_output=True, text=True, timeout=timeout_s
    )


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
            "KAFKA_RUN_DIR": str(self.run_dir),
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
        }

    def up(self, timeout_s: float = 240) -> None:
        """Start (idempotent); raises with the script's output when the broker does not come up."""
        done = run_script("kafka-up.sh", self._env(), timeout_s)
        if done.returncode != 0:
            raise RuntimeError(f"kafka-up.sh failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def down(self) -> None:
        """Stop it (SIGTERM, SIGKILL after kafka-down.sh's bounded wait); nothing running is fine."""
        done = run_script("kafka-down.sh", self._env(), 90)
        if done.returncode != 0:
            raise RuntimeError(f"kafka-down.sh failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def private_broker(run_dir: Path) -> LocalBroker:
    """A broker of its own: free ports, its own data in ``run_dir``."""
    port, controller_port = free_ports(2)
    return LocalBroker(run_dir=run_dir, port=port, controller_port=controller_port)


@contextmanager
def running_broker(run_dir: Path) -> Iterator[LocalBroker]:
    """A private broker for the ``with`` block, stopped when it ends (also on an error or Ctrl-C)."""
    broker = private_broker(run_dir)
    try:
        broker.up()
        yield broker
    finally:
        broker.down()
