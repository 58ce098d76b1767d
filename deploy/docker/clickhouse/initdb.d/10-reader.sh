#!/bin/bash
# Runs once, on the ClickHouse container's first start (the image runs /docker-entrypoint-initdb.d/*.sh).
# Creates a read-only user for BI tools (Superset, Grafana): it may SELECT from the ChatPulse
# database and change nothing. CLICKHOUSE_READER_USER / CLICKHOUSE_READER_PASSWORD come from
# docker-compose.yml (documented in .env.example).
set -euo pipefail
: "${CLICKHOUSE_READER_USER:?}" "${CLICKHOUSE_READER_PASSWORD:?}" "${CLICKHOUSE_DB:?}"
# The names go into SQL text, so accept only identifiers, and a password without quotes or
# backslashes (the error never echoes the password). readonly = 2: no writes, but a client may
# still set per-query settings (clickhouse-connect and Superset do).
ident='^[A-Za-z_][A-Za-z0-9_]*$'
if [[ ! "$CLICKHOUSE_READER_USER" =~ $ident || ! "$CLICKHOUSE_DB" =~ $ident ]]; then
    echo "CLICKHOUSE_READER_USER and CLICKHOUSE_DB must be identifiers ([A-Za-z_][A-Za-z0-9_]*)" >&2
    exit 1
fi
if [[ "$CLICKHOUSE_READER_PASSWORD" == *"'"* || "$CLICKHOUSE_READER_PASSWORD" == *\\* ]]; then
    echo "CLICKHOUSE_READER_PASSWORD must not contain ' or \\" >&2
    exit 1
fi
clickhouse client --user "${CLICKHOUSE_USER:-default}" --password "${CLICKHOUSE_PASSWORD:-}" --multiquery <<SQL
CREATE USER IF NOT EXISTS ${CLICKHOUSE_READER_USER}
    IDENTIFIED WITH sha256_password BY '${CLICKHOUSE_READER_PASSWORD}'
    SETTINGS readonly = 2;
GRANT SELECT ON ${CLICKHOUSE_DB}.* TO ${CLICKHOUSE_READER_USER};
SQL
