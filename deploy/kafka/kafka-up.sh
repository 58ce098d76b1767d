#!/usr/bin/env bash
# Start a single-node Apache Kafka 4.x broker (KRaft, broker+controller in one JVM) on 127.0.0.1.
#
# Each broker has its own run folder, keyed by its client port (deploy/kafka/run/<port>), so a
# second broker on another port never touches a running one's pid file, config or data.
# Idempotent: if the broker of this run folder is already up, it says so and exits 0. On first use
# it fetches the jars (mvn, see pom.xml) and formats the storage; later starts reuse both.
# Exits 0 once the broker accepts connections on its port; otherwise one line saying why and
# exit 1 (a port taken, the broker exited, no answer in time), or exit 2 for a bad setting.
#
# Environment (all optional):
#   KAFKA_PORT             client port                     (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port           (default 9093)
#   KAFKA_RUN_ROOT         where run folders are made      (default deploy/kafka/run)
#   KAFKA_RUN_DIR          data, pid file and kafka.log    (default $KAFKA_RUN_ROOT/$KAFKA_PORT)
#   KAFKA_HEAP_OPTS        JVM heap                        (default -Xms256m -Xmx512m)
#   KAFKA_JIT_OPTS         JVM compiler options            (default -XX:TieredStopAtLevel=1)
#   KAFKA_START_TIMEOUT    seconds to wait for the port    (default 90)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/kafka/broker-lib.sh
source "$HERE/broker-lib.sh"

PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
for setting in "KAFKA_PORT=$PORT" "KAFKA_CONTROLLER_PORT=$CONTROLLER_PORT"; do
    if ! valid_port "${setting#*=}"; then
        echo "kafka: $setting is not a port number (1-65535)" >&2
        exit 2
    fi
done
if [[ "$PORT" == "$CONTROLLER_PORT" ]]; then
    echo "kafka: KAFKA_PORT and KAFKA_CONTROLLER_PORT are both $PORT; the controller needs a port of its own" >&2
    exit 2
fi
RUN_DIR="${KAFKA_RUN_DIR:-${KAFKA_RUN_ROOT:-$HERE/run}/$PORT}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
# C1 only: this broker lives for a test run, a benchmark or a laptop demo on a small machine.
# Under load the C2 compiler took more CPU than the broker's own request handling (`/proc`
# thread times in the Kafka end-to-end bench: C2 threads 4.5-5.5 us per event, the data plane
# 5-6, still so after a million events), work that pays back only on a long-lived broker. With
# C1 alone the broker used 6-8.5 us per event in all. Set KAFKA_JIT_OPTS= for the JVM default.
JIT_OPTS="${KAFKA_JIT_OPTS--XX:TieredStopAtLevel=1}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
LIB_DIR="$HERE/target/lib"
JAVA="${JAVA:-java}"

new_folder=""
[[ -d "$RUN_DIR" ]] || new_folder=1
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
# A start refused before anything ran leaves no folder behind.
refuse() {
    echo "kafka: $1" >&2
    [[ -z "$new_folder" ]] || rm -rf "$RUN_DIR"
    exit 1
}
PID_FILE="$RUN_DIR/kafka.pid"
LOG_FILE="$RUN_DIR/kafka.log"
DATA_DIR="$RUN_DIR/data"
CONFIG="$RUN_DIR/server.properties"

# One start at a time per run folder (make test and a test fixture may race).
exec 9>"$RUN_DIR/.lock"
flock 9

if broker_alive "$RUN_DIR"; then
    running_port="$(configured_port "$CONFIG")"
    if [[ "$running_port" != "$PORT" ]]; then
        # Only reachable with an explicit KAFKA_RUN_DIR: its broker stays as it is.
        refuse "the broker of $RUN_DIR runs on port $running_port; stop it first (KAFKA_PORT=$running_port deploy/kafka/kafka-down.sh) or use another KAFKA_RUN_DIR"
    fi
    if port_open "$PORT"; then
        echo "kafka: already running on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"), log $LOG_FILE)"
        exit 0
    fi
    refuse "the broker of $RUN_DIR (pid $(cat "$PID_FILE")) is not accepting connections on $PORT yet; see $LOG_FILE"
fi
if port_open "$PORT"; then
    refuse "port $PORT is taken by another process; set KAFKA_PORT to a free port"
fi
if port_open "$CONTROLLER_PORT"; then
    refuse "controller port $CONTROLLER_PORT is taken by another process; set KAFKA_CONTROLLER_PORT to a free port"
fi

if [[ ! -f "$LIB_DIR/.complete" || "$HERE/pom.xml" -nt "$LIB_DIR/.complete" ]]; then
    echo "kafka: fetching broker jars (mvn dependency:copy-dependencies) ..."
    rm -rf "$LIB_DIR"
    mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies
    touch "$LIB_DIR/.complete"
fi
CLASSPATH="$LIB_DIR/*"

sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$DATA_DIR|g" \
    "$HERE/server.properties.template" >"$CONFIG"

JAVA_OPTS=(-Dlog4j2.configurationFile="$HERE/log4j2.properties" -Djava.awt.headless=true)
if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
    # Kafka's kafka-storage.sh is a wrapper around this main class (DESIGN.md section 4).
    cluster_id="$("$JAVA" -cp "$CLASSPATH" "${JAVA_OPTS[@]}" kafka.tools.StorageTool random-uuid)"
    echo "kafka: formatting $DATA_DIR (cluster $cluster_id)"
    if ! "$JAVA" -cp "$CLASSPATH" "${JAVA_OPTS[@]}" kafka.tools.StorageTool format \
        -t "$cluster_id" -c "$CONFIG" >>"$LOG_FILE" 2>&1; then
        echo "kafka: formatting $DATA_DIR failed: $(startup_error "$LOG_FILE") (log $LOG_FILE)" >&2
        exit 1
    fi
fi

# kafka-server-start.sh runs kafka.Kafka; setsid detaches it from the caller's terminal/session
# so Ctrl-C in a test run does not kill the shared broker; 9>&- keeps the start lock out of it.
log_start=$(($(wc -l <"$LOG_FILE" 2>/dev/null || echo 0) + 1))
# shellcheck disable=SC2086
setsid nohup "$JAVA" $HEAP_OPTS $JIT_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -cp "$CLASSPATH" \
    "${JAVA_OPTS[@]}" kafka.Kafka "$CONFIG" >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
pid=$!
echo "$pid" >"$PID_FILE"
echo "kafka: starting on 127.0.0.1:$PORT (pid $pid, log $LOG_FILE)"

deadline=$((SECONDS + START_TIMEOUT))
until port_open "$PORT"; do
    if ! process_alive "$pid"; then
        rm -f "$PID_FILE"
        echo "kafka: the broker exited during start-up: $(tail -n "+$log_start" "$LOG_FILE" | startup_error /dev/stdin) (log $LOG_FILE)" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        stop_broker "$pid" 10 >/dev/null
        rm -f "$PID_FILE"
        echo "kafka: not accepting connections on $PORT after ${START_TIMEOUT}s, stopped it (log $LOG_FILE; KAFKA_START_TIMEOUT sets the wait)" >&2
        exit 1
    fi
    sleep 0.5
done
echo "kafka: ready on 127.0.0.1:$PORT"
