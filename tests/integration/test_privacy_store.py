"""`chatpulse forget` and the opt-out list on a real chDB store filled from the real captures.

What a user notices: after `forget LOGIN` no row in any table names that user (login, id,
a gift's params, a raw line), everyone else's chat and the per-minute counts are as before, the
user is on the opt-out list, and replaying the same chat stores nothing of theirs again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chatpulse.config import StoreSettings
from chatpulse.store import open_store
from tests.integration.conftest import anonymous_env, kafka_cli_env, unique_kafka_settings

CAPTURES = ["xqcow-2019-09-15.irc.gz", "nymn-2024-01-06.json"]


def _query(dsn: str, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    store = open_store(StoreSettings(dsn=dsn))
    try:
        return store.query(sql, params)
    finally:
        store.close()


def _chatpulse(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = (
        anonymous_env(tmp_path) | {"CHATPULSE_PRIVACY__OPT_OUT": str(tmp_path / "opt-out.txt")} | env
    )
    return subprocess.run(
        [sys.executable, "-m", "chatpulse", *args],
        capture_output=True, text=True, timeout=300, env=environment, cwd=tmp_path, check=False,
    )  # fmt: skip


def _replay(recording: Path, dsn: str, tmp_path: Path, **env: str) -> str:
    args = [
        "run",
        "--replay",
        str(recording),
        "--speed",
        "max",
        "--no-dashboard",
        "--store",
        dsn,
        "--workers",
        "0",
    ]
    done = _chatpulse(args, tmp_path, **env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def _rows_naming(dsn: str, login: str, user_id: str) -> dict[str, int]:
    """Rows of every stored table with a cell equal to the login or id (maps included), or a
    raw line with their prefix. Message texts are left out: a mention is the writer's."""
    columns = _query(
        dsn,
        "SELECT c.table AS t, c.name AS c, c.type AS type FROM system.columns AS c "
        "INNER JOIN system.tables AS s ON s.database = c.database AND s.name = c.table "
        "WHERE c.database = currentDatabase() AND s.engine LIKE '%MergeTree%' AND c.name != 'text'",
    )
    found: dict[str, int] = {}
    for col in columns:
        table, name, kind = col["t"], col["c"], col["type"]
        if kind.startswith("Map("):
            where = f"hasAny(mapValues({name}), {{v:Array(String)}})"
        elif name == "raw":
            where = "positionCaseInsensitive(raw, {p:String}) > 0"
        elif "String" in kind and not kind.startswith("AggregateFunction"):
            where = f"toString({name}) IN {{v:Array(String)}}"
        else:
            continue
        n = _query(
            dsn,
            f"SELECT count() AS n FROM {table} WHERE {where}",  # noqa: S608 - names from system.columns
            {"v": [login, user_id], "p": f":{login}!"},
        )
        if n[0]["n"]:
            found[f"{table}.{name}"] = int(n[0]["n"])
    return found


def _chosen_user(dsn: str) -> tuple[str, str]:
    """The busiest chatter who was also timed out: messages and events name them."""
    row = _query(
        dsn,
        "SELECT user_login, any(user_id) AS user_id, count() AS n FROM chat_messages "
        "WHERE user_login IN (SELECT target_user_login FROM chat_events WHERE kind = 'clearchat') "
        "GROUP BY user_login ORDER BY n DESC, user_login LIMIT 1",
    )[0]
    return str(row["user_login"]), str(row["user_id"])


MINUTES = (
    "SELECT minute, countMerge(messages) AS m, sumMerge(bits_sum) AS b FROM chat_minute "
    "GROUP BY minute ORDER BY minute"
)


@pytest.mark.parametrize("capture", CAPTURES)
def test_forget_leaves_no_row_naming_the_user(capture: str, shared_data: Path, tmp_path: Path) -> None:
    recording = shared_data / "replay" / capture
    dsn = f"chdb://{tmp_path / 'store'}"
    _replay(recording, dsn, tmp_path)
    login, user_id = _chosen_user(dsn)
    named = _rows_naming(dsn, login, user_id)
    assert named.get("chat_messages.user_login", 0) > 0 and named.get("chat_events.target_user_login", 0) > 0
    minutes = _query(dsn, MINUTES)
    query = "SELECT uniqExact(id) AS n FROM chat_messages WHERE user_login = {l:String}"
    theirs = int(_query(dsn, query, {"l": login})[0]["n"])
    others = _query(
        dsn, "SELECT count() AS n FROM chat_messages FINAL WHERE user_login != {l:String}", {"l": login}
    )

    dry = _chatpulse(["forget", "--dry-run", login, "--store", dsn], tmp_path)
    assert dry.returncode == 0, dry.stderr[-3000:]
    found = json.loads(dry.stdout.splitlines()[-1])
    assert found["rows_found"] > 0 and found["rows_deleted"] == 0 and not (tmp_path / "opt-out.txt").exists()
    assert _rows_naming(dsn, login, user_id) == named, "a dry run changes nothing"

    done = _chatpulse(["forget", login, "--store", dsn], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.splitlines()[-1])
    per_table = [json.loads(line) for line in done.stdout.splitlines()[:-1]]
    assert (
        summary["rows_deleted"]
        == found["rows_found"]
        == sum(t["rows"] for t in per_table if t["action"] == "delete")
    )
    assert f"deleted {summary['rows_deleted']:,} rows naming {login}" in done.stderr

    assert _rows_naming(dsn, login, user_id) == {}
    assert _query(dsn, MINUTES) == minutes, "per-minute counts name nobody and keep their numbers"
    assert (
        _query(
            dsn, "SELECT count() AS n FROM chat_messages FINAL WHERE user_login != {l:String}", {"l": login}
        )
        == others
    )
    assert (tmp_path / "opt-out.txt").read_text().split() == [login, user_id]

    # Their chat comes again (the same recording): the opt-out list keeps it out at ingest.
    status = _replay(recording, dsn, tmp_path)
    assert _rows_naming(dsn, login, user_id) == {}
    assert f"{theirs:,} withheld (opted out)" in status, "the status line counts what it withheld"
    again = _chatpulse(["forget", login, "--store", dsn], tmp_path)
    assert json.loads(again.stdout.splitlines()[-1])["rows_deleted"] == 0


def test_forget_refuses_bad_logins_and_missing_stores(tmp_path: Path) -> None:
    done = _chatpulse(["forget", "not/a login", "--store", f"chdb://{tmp_path / 'store'}"], tmp_path)
    assert done.returncode == 2 and "not a Twitch login" in done.stderr and "Traceback" not in done.stderr
    done = _chatpulse(["forget", "--dry-run", "someone", "--store", f"chdb://{tmp_path / 'store'}"], tmp_path)
    assert done.returncode == 2 and "no ChatPulse store at" in done.stderr
    assert not (tmp_path / "store").exists() and not (tmp_path / "opt-out.txt").exists()


def test_pseudonymised_store_names_nobody_and_forget_still_finds_the_user(
    shared_data: Path, tmp_path: Path
) -> None:
    recording = shared_data / "replay" / CAPTURES[0]
    plain, hashed = f"chdb://{tmp_path / 'plain'}", f"chdb://{tmp_path / 'hashed'}"
    key = {
        "CHATPULSE_PRIVACY__HASH_USERS": "true",
        "CHATPULSE_PRIVACY__HASH_KEY": "a-test-key-of-32-characters-long",
    }
    _replay(recording, plain, tmp_path)
    _replay(recording, hashed, tmp_path, **key)
    login, user_id = _chosen_user(plain)

    logins = _query(plain, "SELECT DISTINCT user_login AS l FROM chat_messages")
    stored = {r["l"] for r in _query(hashed, "SELECT DISTINCT user_login AS l FROM chat_messages")}
    assert len(stored) == len(logins) and all(s.startswith("u_") for s in stored), "one pseudonym per user"
    assert _rows_naming(hashed, login, user_id) == {}
    count = "SELECT uniqExact(user_login) AS chatters, count() AS n FROM chat_messages FINAL"
    assert _query(hashed, count) == _query(plain, count), "analytics keep working without names"

    done = _chatpulse(["forget", login, "--store", hashed], tmp_path, **key)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.splitlines()[-1])
    theirs = _query(
        plain, "SELECT count() AS n FROM chat_messages WHERE user_login = {l:String}", {"l": login}
    )
    assert summary["rows_deleted"] >= theirs[0]["n"] > 0
    assert "CHATPULSE" not in done.stdout + done.stderr and "a-test-key" not in done.stdout + done.stderr


def test_the_kafka_path_withholds_opted_out_users(
    kafka_bootstrap: str, shared_data: Path, tmp_path: Path
) -> None:
    recording = shared_data / "replay" / CAPTURES[1]
    plain, kafka_store = f"chdb://{tmp_path / 'plain'}", f"chdb://{tmp_path / 'kafka'}"
    _replay(recording, plain, tmp_path)
    busiest = _query(plain, "SELECT user_login, any(user_id) AS id, count() AS n FROM chat_messages "
                            "GROUP BY user_login ORDER BY n DESC LIMIT 1")[0]  # fmt: skip
    (tmp_path / "opt-out.txt").write_text(f"# asked by mail\n{busiest['user_login']}\n")

    kafka = unique_kafka_settings(kafka_bootstrap, tmp_path / "kafka-spool")
    properties = tmp_path / "client.properties"
    properties.write_text(f"bootstrap.servers={kafka_bootstrap}\n")
    env = kafka_cli_env(kafka, CHATPULSE_EMOTES__CACHE_DIR=str(tmp_path / "emotes"),
                        CHATPULSE_PRIVACY__OPT_OUT=str(tmp_path / "opt-out.txt"))  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "chatpulse", "run", "--replay", str(recording), "--speed", "max",
         "--no-dashboard", "--kafka", str(properties), "--store", kafka_store],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert _rows_naming(kafka_store, busiest["user_login"], busiest["id"]) == {}
    total = "SELECT count() AS n FROM chat_messages FINAL"
    assert _query(kafka_store, total)[0]["n"] == _query(plain, total)[0]["n"] - busiest["n"]


def test_the_kafka_sink_does_not_store_what_was_queued_before_an_opt_out(
    shared_data: Path, tmp_path: Path
) -> None:
    """Records of a user already in the enriched topic when `forget` opts them out (a sink that
    lags) must not be stored again: the sink stage checks the list too."""
    from chatpulse.config import PrivacySettings
    from chatpulse.irc.twitch import parse_line
    from chatpulse.metrics import StageMetrics, StageSnapshot
    from chatpulse.privacy.filter import StoredMessageGuard
    from chatpulse.services.sink import SinkStage, decode_stored
    from chatpulse.sources.replay import iter_lines
    from chatpulse.store.sink import ClickHouseSink
    from chatpulse.wire import dumps_bytes

    values = [
        dumps_bytes(parse_line(line, 1, "replay"))
        for line in iter_lines(shared_data / "replay" / CAPTURES[1])
    ]
    records = [decode_stored(value) for value in values]
    logins = [getattr(r, "user_login", "") for r in records if r.kind == "message"]
    busiest = max(set(logins), key=logins.count)
    optout = tmp_path / "opt-out.txt"
    optout.write_text(f"{busiest}\n")  # what `forget` wrote while these records waited in the topic

    store = open_store(StoreSettings(dsn=f"chdb://{tmp_path / 'store'}"))
    try:
        store.migrate()
        sink = ClickHouseSink(store, spool_dir=tmp_path / "spool")
        guard = StoredMessageGuard.from_settings(PrivacySettings(opt_out=optout))
        stage = SinkStage(sink, StageMetrics("sink", StageSnapshot), guard)
        stage.process(records, values)
        assert stage.make_durable()
        sink.close()
        stored = store.query(
            "SELECT uniqExact(id) AS n, groupUniqArray(user_login) AS who FROM chat_messages"
        )[0]
        emotes = store.query(
            "SELECT count() AS n FROM chat_emotes WHERE user_login = {l:String}", {"l": busiest}
        )
    finally:
        store.close()
    assert busiest not in stored["who"] and emotes[0]["n"] == 0
    assert stored["n"] == len(logins) - logins.count(busiest) and guard.withheld == logins.count(busiest)
