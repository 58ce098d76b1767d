"""Commands whose server cannot be reached say so in one line of our own: no library retry
warnings before it (huggingface_hub's 23 "Retrying in ..." lines, urllib3's connection pool)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (bound once to pick it, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def chatpulse(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if "PROXY" not in key.upper()}
    base = {key: value for key, value in base.items() if not key.startswith(("CHATPULSE_", "HF_"))}
    return subprocess.run(
        [sys.executable, "-m", "chatpulse", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False, env={**base, **env},
    )  # fmt: skip


def test_models_download_without_the_hub_is_one_line(tmp_path: Path, closed_port: int) -> None:
    endpoint = f"http://127.0.0.1:{closed_port}"
    result = chatpulse(tmp_path, "models", "download", "cardiffnlp/twitter-roberta-base-sentiment-latest",
                       env={"HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf")})  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "chatpulse: cannot download 'cardiffnlp/twitter-roberta-base-sentiment-latest': the Hugging Face "
        f"hub at {endpoint} cannot be reached (Connection refused); `models download` needs internet, "
        "or copy a model folder here and pass --model PATH"
    ]


@pytest.mark.parametrize("command", [["query", "SELECT 1"], ["db", "migrate"]])
def test_an_unreachable_clickhouse_server_is_one_line(
    tmp_path: Path, closed_port: int, command: list[str]
) -> None:
    dsn = f"clickhouse://default@127.0.0.1:{closed_port}/default"
    result = chatpulse(tmp_path, *command, "--store", dsn, env={})
    assert result.returncode == 1 and result.stdout == ""
    where = f"clickhouse http://default@127.0.0.1:{closed_port}/default"
    assert result.stderr.strip().splitlines() == [f"chatpulse: cannot connect to {where}: Connection refused"]
