#!/usr/bin/env bash
# Run a command beside a private Kafka broker: free client and controller ports (or
# KAFKA_PORT/KAFKA_CONTROLLER_PORT when set), a temporary run folder, KAFKA_BOOTSTRAP_SERVERS
# exported to the command. The broker is stopped and its folder removed afterwards, pass, fail or
# Ctrl-C, so a broker another checkout runs on 9092/9093 never gets in the way.
#   deploy/kafka/with-broker.sh .venv/bin/pytest -q tests
# Exit status: the command's, or kafka-up.sh's when the broker does not start.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if (($# == 0)); then
    echo "usage: deploy/kafka/with-broker.sh COMMAND [ARG...]" >&2
    exit 2
fi

# Two ports the kernel hands out as free, bound at the same time so they differ.
read -r free_port free_controller_port < <("${PYTHON:-python3}" -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
export KAFKA_PORT="${KAFKA_PORT:-$free_port}"
export KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$free_controller_port}"
KAFKA_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chatpulse-kafka.XXXXXX")"
export KAFKA_RUN_DIR

keep_log=""
cleanup() {
    "$HERE/kafka-down.sh" >/dev/null || true
    # A broker that failed to start keeps its folder: kafka-up.sh's line points at its log.
    [[ -n "$keep_log" && -f "$KAFKA_RUN_DIR/kafka.log" ]] || rm -rf "$KAFKA_RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$HERE/kafka-up.sh" || {
    status=$?
    keep_log=1
    exit "$status"
}
export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT"
status=0
"$@" || status=$?
exit "$status"
