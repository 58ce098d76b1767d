"""``chatpulse db migrate``, ``query`` and ``report`` against a real chDB folder."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from click.testing import CliRunner

from chatpulse.cli import cli
from chatpulse.config import StoreSettings
from chatpulse.irc.twitch import parse_line
from chatpulse.store import ClickHouseSink, open_store
from chatpulse.store.migrations import load_migrations


def test_migrate_query_and_report(tmp_path: Path, shared_data: Path) -> None:
    dsn = f"chdb://{tmp_path / 'db'}"
    runner = CliRunner()
    first = runner.invoke(cli, ["db", "migrate", "--store", dsn])
    second = runner.invoke(cli, ["db", "migrate", "--store", dsn])
    assert first.exit_code == second.exit_code == 0
    newest = str(max(m.version for m in load_migrations()))  # the schema version after migrating
    assert first.stdout.strip() == second.stdout.strip() == newest

    with gzip.open(shared_data / "replay" / "xqcow-2019-09-15.irc.gz", "rt", encoding="utf-8") as f:
        events = [parse_line(line.rstrip("\r\n"), 0, "replay") for line in f if line.strip()]
    store = open_store(StoreSettings(dsn=dsn))
    sink = ClickHouseSink(store, spool_dir=tmp_path / "spool")
    sink.add(events)
    sink.close()
    store.close()

    sql = (
        "SELECT user_login, count() AS n FROM chat_messages FINAL WHERE channel = {c:String} "
        "GROUP BY 1 ORDER BY n DESC, 1 LIMIT 3"
    )
    out = runner.invoke(cli, ["query", sql, "--param", "c=xqcow", "--format", "jsonl", "--store", dsn])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0] == {"user_login": "stainednuttz", "n": 67} and len(rows) == 3
    csv_out = runner.invoke(cli, ["query", sql, "--param", "c=xqcow", "--format", "csv", "--store", dsn])
    assert csv_out.stdout.splitlines()[:2] == ["user_login,n", "stainednuttz,67"]

    report = runner.invoke(cli, ["report", "--channel", "xqcow", "--all", "--json", "--store", dsn])
    assert report.exit_code == 0, report.output
    data = json.loads(report.stdout)
    assert data["totals"]["messages"] == sum(1 for e in events if e.kind == "message")
    assert data["top_chatters"][0] == {"login": "stainednuttz", "messages": 67}
    assert sum(m["messages"] for m in data["minutes"]) == data["totals"]["messages"]
    assert any(e["kind"] == "usernotice" for e in data["events"])
    text = runner.invoke(cli, ["report", "--channel", "xqcow", "--since", "5m", "--store", dsn])
    assert text.exit_code == 0 and "Top emotes" in text.stdout and "stainednuttz" not in text.stderr

    bad = runner.invoke(cli, ["report", "--channel", "xqcow", "--since", "soon", "--store", dsn])
    assert bad.exit_code != 0 and "duration" in str(bad.exception or bad.output)
