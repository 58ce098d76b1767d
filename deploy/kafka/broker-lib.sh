# Helpers shared by kafka-up.sh and kafka-down.sh (sourced, not run).
# shellcheck shell=bash

valid_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

# Something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid in $1/kafka.pid is alive and is the broker of that run folder: a pid file left by a
# broker that died (and a pid the system gave to another process since) is not a running broker.
broker_alive() {
    local pid
    [[ -f "$1/kafka.pid" ]] || return 1
    pid="$(cat "$1/kafka.pid")"
    [[ "$pid" =~ ^[0-9]+$ ]] && process_alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $1/server.properties"
}

# The client port a rendered server.properties ($1) listens on.
configured_port() { sed -n 's|^listeners=PLAINTEXT://[^:]*:\([0-9]*\),.*|\1|p' "$1"; }

# One line saying why the broker failed, from its log ($1): the first ERROR's message and the
# message of the exception printed under it, without the stack frames (no ERROR: the last line
# that is not a stack frame, e.g. what kafka.tools.StorageTool printed).
startup_error() {
    awk '
        !found && /\] (ERROR|FATAL) / {
            line = $0; sub(/^\[[^]]*\] [A-Z]+ /, "", line); sub(/ \([^ ()]*\)$/, "", line)
            found = 1; next
        }
        found && /^[A-Za-z0-9_.$]+(Exception|Error): / {
            cause = $0; sub(/^[^ ]*: /, "", cause); line = line ": " cause; exit
        }
        found && !/^[ \t]/ { exit }
        !found && /[^ \t]/ && !/^[ \t]/ { last = $0 }
        END { print (line != "" ? line : last != "" ? last : "no error in the log") }
    ' "$1" | cut -c1-300
}

# Process $1 exists and is not a zombie (kill -0 succeeds on a zombie that nobody reaped yet).
process_alive() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ -n "$stat" && "${stat:0:1}" != Z ]]
}

# SIGTERM, wait up to $2 seconds, then SIGKILL; returns once the process is gone.
stop_broker() {
    local pid="$1" deadline=$((SECONDS + $2))
    kill -TERM "$pid" 2>/dev/null || return 0
    while process_alive "$pid"; do
        if ((SECONDS >= deadline)); then
            echo "kafka: pid $pid still running after $2 s, sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            while process_alive "$pid"; do sleep 0.1; done
            return 0
        fi
        sleep 0.2
    done
}
