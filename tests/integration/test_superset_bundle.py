"""The Superset bundle imported into a real Superset, and the SQL Superset generates run on chDB.

Superset needs its own pinned dependency set (deploy/superset/requirements.txt: the published
6.1.0 fails `superset db upgrade` with Flask-Caching 2.5), so it lives in deploy/superset/.venv
(`make superset-venv`; this test runs it when the venv is missing). The test walks the README's
import steps with Superset's CLI (db upgrade, create-admin, init, import-dashboards), then
deploy/superset/check_import.py lists what Superset made of the bundle and the SQL its ClickHouse
engine spec generates for every chart; that SQL must run on the ChatPulse schema (chDB, filled
from the real xqcow capture) and give the figures the base tables give.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from chatpulse.config import SentimentSettings, StoreSettings
from chatpulse.irc.twitch import parse_line
from chatpulse.sentiment import create_analyzer, enrich_events
from chatpulse.store import ClickHouseSink, Store, open_store

ROOT = Path(__file__).resolve().parents[2]
SUPERSET_DIR = ROOT / "deploy" / "superset"
VENV_BIN = SUPERSET_DIR / ".venv" / "bin"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def superset_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    # Make rebuilds the venv when it is missing or older than its pins.
    subprocess.run(["make", "-s", "superset-venv"], cwd=ROOT, check=True, timeout=840)
    home = tmp_path_factory.mktemp("superset-home")
    config = home / "superset_config.py"
    config.write_text(
        f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{home / 'superset.db'}'\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPERSET", "FLASK"))}
    env |= {"SUPERSET_CONFIG_PATH": str(config), "FLASK_APP": "superset", "SUPERSET_HOME": str(home)}
    superset = str(VENV_BIN / "superset")
    for args in (
        ["db", "upgrade"],
        ["fab", "create-admin", "--username", "admin", "--firstname", "A", "--lastname", "B",
         "--email", "admin@example.com", "--password", secrets.token_hex(8)],
        ["init"],
    ):  # fmt: skip
        result = subprocess.run(
            [superset, *args], env=env, capture_output=True, text=True, timeout=300, cwd=home
        )
        assert result.returncode == 0, f"superset {args[0]}: {result.stderr[-3000:]}"
    yield home, env


@pytest.fixture(scope="module")
def store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("superset-chdb")
    with gzip.open(shared_data / "replay" / "xqcow-2019-09-15.irc.gz", "rt", encoding="utf-8") as f:
        events = [parse_line(line.rstrip("\r\n"), 1_568_505_600_000, "replay") for line in f if line.strip()]
    opened = open_store(StoreSettings(dsn=f"chdb://{folder / 'db'}"))
    opened.migrate()
    sink = ClickHouseSink(opened, spool_dir=folder / "spool")
    sink.add(enrich_events(events, create_analyzer(SentimentSettings())))
    sink.flush()
    yield opened
    opened.close()


def bundle_charts() -> dict[str, dict[str, Any]]:
    charts = [
        yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in (SUPERSET_DIR / "bundle" / "charts").glob("*.yaml")
    ]
    return {c["slice_name"]: c for c in charts}


def test_bundle_imports_into_superset_and_its_generated_sql_runs_on_the_schema(
    superset_home: tuple[Path, dict[str, str]], store: Store
) -> None:
    home, env = superset_home
    bundle = home / "bundle.zip"
    # Unattended import: the real URI baked into a private copy (port 1: nothing listens, and
    # nothing here needs a live ClickHouse server).
    subprocess.run(
        [str(VENV_BIN / "python"), str(SUPERSET_DIR / "build_bundle.py"), "--out", str(bundle),
         "--sqlalchemy-uri", "clickhousedb://chatpulse_reader:not-a-secret@127.0.0.1:1/default"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    imported = subprocess.run(
        [str(VENV_BIN / "superset"), "import-dashboards", "--path", str(bundle), "--username", "admin"],
        env=env, capture_output=True, text=True, timeout=300, cwd=home,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr[-4000:]

    out = home / "result.json"
    checked = subprocess.run(
        [str(VENV_BIN / "python"), str(SUPERSET_DIR / "check_import.py"), str(bundle), "admin", str(out)],
        env=env, capture_output=True, text=True, timeout=300, cwd=home,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr[-4000:]
    result = json.loads(out.read_text(encoding="utf-8"))

    (database,) = result["databases"]
    assert database["name"] == "ChatPulse" and database["backend"] == "clickhousedb"
    assert "not-a-secret" not in database["uri"]  # Superset stores the password apart, masked
    expected = bundle_charts()
    (dashboard,) = result["dashboards"]
    assert dashboard["title"] == "ChatPulse" and dashboard["charts"] == sorted(expected)

    figures = {}
    for name, chart in result["charts"].items():
        assert "error" not in chart, f"{name}: {chart.get('error')}"
        rows = store.query(chart["sql"].strip().rstrip(";"))
        assert rows, f"{name}: Superset's SQL returned no rows on a store holding the xqcow capture"
        figures[name] = rows
    messages = store.query("SELECT uniqExact(id) AS n FROM chat_messages")[0]["n"]
    assert figures["Messages"] == [{"messages": messages}]
    per_minute = figures["Messages per minute"]
    assert sum(row["messages"] for row in per_minute) == messages and len(per_minute) == 8  # 00:00-00:07
    top = store.query(
        "SELECT user_login, count() AS n FROM chat_messages FINAL GROUP BY user_login ORDER BY n DESC LIMIT 1"
    )[0]
    assert figures["Top chatters"][0]["messages"] == top["n"]
