"""Store DSNs, query parameters for chDB, Arrow types and schema files: pure parts of the store."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from chatpulse.errors import ConfigError, StoreError
from chatpulse.store.clickhouse import arrow_type, format_chdb_param
from chatpulse.store.dsn import DEFAULT_DSN, ChdbTarget, ServerTarget, parse_dsn
from chatpulse.store.migrations import load_migrations, split_statements

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "chatpulse" / "store" / "schema"


def test_default_dsn_is_a_relative_chdb_folder() -> None:
    assert parse_dsn(DEFAULT_DSN) == ChdbTarget(path="./data/chatpulse")


@pytest.mark.parametrize(
    ("dsn", "path"),
    [
        ("chdb:///var/lib/chatpulse", "/var/lib/chatpulse"),
        ("chdb:///../elsewhere/db", "../elsewhere/db"),
        ("chdb:///~/chatpulse", "~/chatpulse"),
        ("chdb:///:memory:", ":memory:"),
        ("CHDB:///srv/x", "/srv/x"),
    ],
)
def test_chdb_paths(dsn: str, path: str) -> None:
    assert parse_dsn(dsn) == ChdbTarget(path=path)


def test_cloud_dsn_with_secure_flag() -> None:
    target = parse_dsn("clickhouse://analyst@abc.eu-west-1.aws.clickhouse.cloud:8443/chat?secure=true")
    assert target == ServerTarget(
        host="abc.eu-west-1.aws.clickhouse.cloud", port=8443, user="analyst", database="chat", secure=True
    )


def test_server_defaults_follow_secure() -> None:
    plain = parse_dsn("clickhouse://localhost")
    assert isinstance(plain, ServerTarget)
    assert (plain.port, plain.user, plain.database, plain.secure) == (8123, "default", "default", False)
    tls = parse_dsn("clickhouses://db.example.com/analytics")
    assert isinstance(tls, ServerTarget)
    assert (tls.port, tls.secure, tls.database) == (8443, True, "analytics")


def test_password_in_dsn_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_dsn("clickhouse://user:hunter2secret@host:8443/db")
    assert "hunter2secret" not in str(caught.value)
    assert "CLICKHOUSE_PASSWORD" in str(caught.value)


@pytest.mark.parametrize(
    ("dsn", "fragment"),
    [
        ("localhost:9000", "expected chdb"),
        ("postgres://host/db", "unknown scheme"),
        ("clickhouse://host:99999/db", "port"),
        ("clickhouse://host/db?compression=lz4", "unknown option 'compression'"),
        ("clickhouse://host/db?secure=maybe", "secure"),
        ("clickhouse://host/bad-name", "not an identifier"),
        ("clickhouse://host/db?connect_timeout=-3", "connect_timeout"),
        ("chdb://", "needs a folder"),
    ],
)
def test_bad_dsns_name_the_setting(dsn: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match="store.dsn") as caught:
        parse_dsn(dsn)
    assert fragment in str(caught.value)


def test_describe_never_contains_a_password() -> None:
    target = parse_dsn("clickhouse://bob@host:8443/db?secure=1")
    assert target.describe() == "clickhouse https://bob@host:8443/db"


def test_chdb_params_are_escaped_text() -> None:
    assert format_chdb_param("tab\there\\back") == "tab\\there\\\\back"
    assert format_chdb_param(["it's", "a\\b"]) == "['it\\'s','a\\\\b']"
    assert format_chdb_param([1, 2]) == "[1,2]"
    assert format_chdb_param(7) == 7
    assert format_chdb_param(None) == "\\N"
    with pytest.raises(StoreError):
        format_chdb_param(object())


def test_arrow_types_follow_clickhouse_types() -> None:
    assert arrow_type("LowCardinality(String)") == pa.string()
    assert arrow_type("DateTime64(3, 'UTC')") == pa.timestamp("ms", tz="UTC")
    assert arrow_type("Nullable(Float32)") == pa.float32()
    assert arrow_type("Map(LowCardinality(String), String)") == pa.map_(pa.string(), pa.string())
    assert arrow_type("Nullable(UInt32)") == pa.uint32()
    assert arrow_type("AggregateFunction(count)") is None


def test_schema_files_are_numbered_idempotent_statements() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    files = sorted(p.name for p in SCHEMA_DIR.glob("*.sql"))
    assert [f"{m.version:03d}_{m.name}.sql" for m in migrations] == files
    for migration in migrations:
        for statement in migration.statements:
            # Every statement can run again: a create or a column added only if missing.
            idempotent = (
                r"CREATE (TABLE|MATERIALIZED VIEW) IF NOT EXISTS |ALTER TABLE \w+ ADD COLUMN IF NOT EXISTS "
            )
            assert re.match(idempotent, statement), statement


def test_split_statements_drops_comments_and_blank_parts() -> None:
    sql = "-- a comment; with a semicolon\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\n;SELECT 1;"
    assert split_statements(sql) == ("CREATE TABLE a (x UInt8) ENGINE = Memory", "SELECT 1")
