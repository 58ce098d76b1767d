"""Commands whose server cannot be reached say so in one line of our own: no library retry
warnings before it (huggingface_hub's 23 "Retrying in ..." lines, urllib3's connection pool)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli import chatpulse


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (bound once to pick it, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


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
    result = chatpulse(tmp_path, *command, "--store", dsn)
    assert result.returncode == 1 and result.stdout == ""
    where = f"clickhouse http://default@127.0.0.1:{closed_port}/default"
    assert result.stderr.strip().splitlines() == [f"chatpulse: cannot connect to {where}: Connection refused"]
