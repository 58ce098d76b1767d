#!/usr/bin/env bash
# Stop local brokers started by kafka-up.sh. Which ones: the broker of KAFKA_RUN_DIR when set,
# else the one on KAFKA_PORT (run folder $KAFKA_RUN_ROOT/<port>, default deploy/kafka/run/<port>),
# else every broker this checkout started (every run folder under $KAFKA_RUN_ROOT).
# Idempotent: nothing running is not an error. SIGTERM first (Kafka shuts down cleanly and
# flushes), SIGKILL after KAFKA_STOP_TIMEOUT seconds (default 30); it returns once the process is
# gone. A pid file whose process is not that folder's broker is removed, the process left alone.
# Data stays in the run folder's data/; remove the folder to start from scratch.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/kafka/broker-lib.sh
source "$HERE/broker-lib.sh"

STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
RUN_ROOT="${KAFKA_RUN_ROOT:-$HERE/run}"

if [[ -n "${KAFKA_RUN_DIR:-}" ]]; then
    folders=("$KAFKA_RUN_DIR")
elif [[ -n "${KAFKA_PORT:-}" ]]; then
    if ! valid_port "$KAFKA_PORT"; then
        echo "kafka: KAFKA_PORT=$KAFKA_PORT is not a port number (1-65535)" >&2
        exit 2
    fi
    folders=("$RUN_ROOT/$KAFKA_PORT")
else
    # Every run folder, and run/ itself: brokers started before run folders were keyed by port.
    folders=("$RUN_ROOT" "$RUN_ROOT"/*/)
fi

stopped=0
for folder in "${folders[@]}"; do
    [[ -f "$folder/kafka.pid" ]] || continue
    folder="$(cd "$folder" && pwd)"
    pid="$(cat "$folder/kafka.pid")"
    if broker_alive "$folder"; then
        port="$(configured_port "$folder/server.properties")"
        stop_broker "$pid" "$STOP_TIMEOUT"
        echo "kafka: stopped the broker on port ${port:-?} (pid $pid, $folder)"
        stopped=$((stopped + 1))
    else
        echo "kafka: no broker running in $folder (stale pid file removed)"
    fi
    rm -f "$folder/kafka.pid"
done

if ((stopped == 0)); then
    where="${KAFKA_RUN_DIR:-${KAFKA_PORT:+on port $KAFKA_PORT}}"
    echo "kafka: no broker of this checkout is running${where:+ ($where)}"
    if [[ -n "${KAFKA_PORT:-}" ]] && port_open "$KAFKA_PORT"; then
        echo "kafka: port $KAFKA_PORT is served by a process kafka-up.sh did not start here; left alone" >&2
    fi
fi
