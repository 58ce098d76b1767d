#!/usr/bin/env bash
# Start a single-node Apache Kafka 4.x broker (KRaft, broker+controller in one JVM) on 127.0.0.1.
#
# Idempotent: if the broker of this run folder is already up, it says so and exits 0. On first use
# it fetches the jars (mvn, see pom.xml) and formats the storage; later starts reuse both.
# Exits 0 once the broker accepts connections on its port, 1 (with the log's tail) otherwise.
#
# Environment (all optional):
#   KAFKA_PORT             client port                     (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port           (default 9093)
#   KAFKA_RUN_DIR          data, pid file and kafka.log    (default deploy/kafka/run)
#   KAFKA_HEAP_OPTS        JVM heap                        (default -Xms256m -Xmx512m)
#   KAFKA_JIT_OPTS         JVM compiler options            (default -XX:TieredStopAtLevel=1)
#   KAFKA_START_TIMEOUT    seconds to wait for the port    (default 90)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
RUN_DIR="${KAFKA_RUN_DIR:-$HERE/run}"
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

mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
PID_FILE="$RUN_DIR/kafka.pid"
LOG_FILE="$RUN_DIR/kafka.log"
DATA_DIR="$RUN_DIR/data"
CONFIG="$RUN_DIR/server.properties"

# One start at a time per run folder (make test and a test fixture may race).
exec 9>"$RUN_DIR/.lock"
flock 9

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

if running && port_open "$PORT"; then
    echo "kafka: already running on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"), log $LOG_FILE)"
    exit 0
fi
if ! running && port_open "$PORT"; then
    echo "kafka: port $PORT is taken by another process; set KAFKA_PORT" >&2
    exit 1
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
    "$JAVA" -cp "$CLASSPATH" "${JAVA_OPTS[@]}" kafka.tools.StorageTool format \
        -t "$cluster_id" -c "$CONFIG" >>"$LOG_FILE" 2>&1
fi

# kafka-server-start.sh runs kafka.Kafka; setsid detaches it from the caller's terminal/session
# so Ctrl-C in a test run does not kill the shared broker; 9>&- keeps the start lock out of it.
# shellcheck disable=SC2086
setsid nohup "$JAVA" $HEAP_OPTS $JIT_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -cp "$CLASSPATH" \
    "${JAVA_OPTS[@]}" kafka.Kafka "$CONFIG" >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
echo $! >"$PID_FILE"
echo "kafka: starting on 127.0.0.1:$PORT (pid $!, log $LOG_FILE)"

deadline=$((SECONDS + START_TIMEOUT))
until port_open "$PORT"; do
    if ! running; then
        echo "kafka: the broker exited during start-up; last lines of $LOG_FILE:" >&2
        tail -n 30 "$LOG_FILE" >&2
        rm -f "$PID_FILE"
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "kafka: not accepting connections after ${START_TIMEOUT}s; last lines of $LOG_FILE:" >&2
        tail -n 30 "$LOG_FILE" >&2
        exit 1
    fi
    sleep 0.5
done
echo "kafka: ready on 127.0.0.1:$PORT"
