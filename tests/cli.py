"""Running ``chatpulse`` in a subprocess as a user would, and reading its one-line refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Settings a developer's shell may hold that would change what the command does under test.
_USER_SETTINGS = frozenset(
    {"PORT", "SERVER", "NICKNAME", "TOKEN", "CLICKHOUSE_PASSWORD", "KAFKA_BOOTSTRAP_SERVERS"}
)


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without ChatPulse, Hugging Face and proxy settings, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _USER_SETTINGS
        and not key.startswith(("CHATPULSE_", "HF_"))
        and "PROXY" not in key.upper()
    }
    return {**env, **(extra or {})}


def chatpulse(
    cwd: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m chatpulse ARGS`` in ``cwd`` (where no chatpulse.yaml or .env is, unless the test
    put one there), with ``env`` added to a clean environment."""
    return subprocess.run(
        [sys.executable, "-m", "chatpulse", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, encoding="utf-8", timeout=timeout,
        check=False, env=clean_env(env),
    )  # fmt: skip


def one_line(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The single stderr line of a refused command: exit ``code``, nothing on stdout, no
    traceback and no native stack frames."""
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "Stack trace" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
