#!/usr/bin/env bash
# Stop the local broker started by kafka-up.sh (same KAFKA_RUN_DIR). Idempotent: nothing running
# is not an error. SIGTERM first (Kafka shuts down cleanly and flushes), SIGKILL after
# KAFKA_STOP_TIMEOUT seconds (default 30). Data stays in $KAFKA_RUN_DIR/data; remove the folder
# to start from scratch.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN_DIR="${KAFKA_RUN_DIR:-$HERE/run}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
PID_FILE="$RUN_DIR/kafka.pid"

if [[ ! -f "$PID_FILE" ]]; then
    echo "kafka: not running ($RUN_DIR)"
    exit 0
fi
pid="$(cat "$PID_FILE")"
if ! kill -0 "$pid" 2>/dev/null; then
    echo "kafka: not running (stale pid file removed)"
    rm -f "$PID_FILE"
    exit 0
fi
kill -TERM "$pid"
deadline=$((SECONDS + STOP_TIMEOUT))
while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
        echo "kafka: still running after ${STOP_TIMEOUT}s, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        break
    fi
    sleep 0.2
done
rm -f "$PID_FILE"
echo "kafka: stopped (pid $pid)"
