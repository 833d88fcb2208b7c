#!/usr/bin/env bash
# Development / test Apache Kafka broker: one KRaft node (broker + controller), no Docker.
#
#   infra/kafka/kafka.sh up      fetch the broker (once), format storage (once), start, wait until ready
#   infra/kafka/kafka.sh down    SIGTERM, wait, SIGKILL if it does not stop
#   infra/kafka/kafka.sh status  exit 0 when running and answering SASL requests
#   infra/kafka/kafka.sh reset   down + wipe the data dir (SCRAM users are re-created on the next up)
#   infra/kafka/kafka.sh fetch   only download the jars into the cache
#   infra/kafka/kafka.sh log     tail of the server log
#
# Listeners (loopback only):
#   CLIENT     127.0.0.1:$RUSKONTRAKT_KAFKA_PORT (19092)  SASL_PLAINTEXT, SCRAM-SHA-512  (clients + inter-broker as admin)
#   CONTROLLER 127.0.0.1:$RUSKONTRAKT_KAFKA_CONTROLLER_PORT (19093)  SASL_PLAINTEXT, PLAIN, only user admin
#
# DEVELOPMENT CREDENTIALS ONLY (public, in this file): admin/admin-secret, ruskontrakt/ruskontrakt-secret,
# and one SCRAM user per agency: <agency>/<agency>-secret. Never use them for a real deployment.
#
# Environment:
#   RUSKONTRAKT_CACHE                  download cache (default ~/.cache/ruskontrakt); jars in kafka-<version>/libs
#   RUSKONTRAKT_VAR                    state dir (default <repo>/var); broker state in $RUSKONTRAKT_VAR/kafka
#   RUSKONTRAKT_KAFKA_PORT             client listener port (default 19092)
#   RUSKONTRAKT_KAFKA_CONTROLLER_PORT  controller listener port (default 19093)
#   RUSKONTRAKT_KAFKA_VERSION          org.apache.kafka:kafka_2.13 version (default 4.4.0)
#   RUSKONTRAKT_KAFKA_HEAP_OPTS        JVM heap flags (default -Xms128m -Xmx512m)
#   RUSKONTRAKT_KAFKA_START_TIMEOUT    seconds to wait for readiness (default 90)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

KAFKA_VERSION="${RUSKONTRAKT_KAFKA_VERSION:-4.4.0}"
CACHE="${RUSKONTRAKT_CACHE:-${HOME:-/tmp}/.cache/ruskontrakt}"
LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
VAR="${RUSKONTRAKT_VAR:-$REPO/var}"
KDIR="$VAR/kafka"
DATA="$KDIR/data"
CONF="$KDIR/server.properties"
LOG4J="$KDIR/log4j2.properties"
LOG="$KDIR/server.log"
PIDFILE="$KDIR/kafka.pid"
PORT="${RUSKONTRAKT_KAFKA_PORT:-19092}"
CPORT="${RUSKONTRAKT_KAFKA_CONTROLLER_PORT:-19093}"
HEAP_OPTS="${RUSKONTRAKT_KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
START_TIMEOUT="${RUSKONTRAKT_KAFKA_START_TIMEOUT:-90}"

ADMIN_USER="admin"
ADMIN_PASSWORD=admin-secret
SERVICE_USER=ruskontrakt
SERVICE_PASSWORD=ruskontrakt-secret
AGENCIES=(prosecution police konfliktrad municipal_health gp child_welfare school county auditor)

log() { echo "kafka.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- tools

ensure_tools() {
    local missing=()
    command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null 2>&1 || missing+=(maven)
    if ((${#missing[@]})); then
        [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}; install them (apt-get install ${missing[*]})"
        log "installing ${missing[*]} with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    fi
}

python_bin() {
    # A Python with kafka-python, used for the SASL readiness probe.
    local c
    for c in "${RUSKONTRAKT_PYTHON:-}" "$REPO/.venv/bin/python" python3; do
        [[ -n $c ]] || continue
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import kafka' >/dev/null 2>&1; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

# ---------------------------------------------------------------- download

fetch() {
    if [[ -f $LIBS/.complete ]]; then
        return 0
    fi
    ensure_tools
    log "downloading Apache Kafka $KAFKA_VERSION and its runtime dependencies from Maven Central into $LIBS"
    local tmp="$LIBS.partial.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    # -B: batch mode (CI, no stdin). Output only on failure.
    if ! mvn -q -B -f "$HERE/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
        dependency:copy-dependencies -DoutputDirectory="$tmp" </dev/null >"$tmp.mvn.log" 2>&1; then
        cat "$tmp.mvn.log" >&2
        rm -rf "$tmp" "$tmp.mvn.log"
        die "maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
    fi
    rm -f "$tmp.mvn.log"
    ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "no kafka_2.13 jar in $tmp"
    touch "$tmp/.complete"
    rm -rf "$LIBS"
    mkdir -p "$(dirname "$LIBS")"
    mv "$tmp" "$LIBS"
    log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars"
}

# ---------------------------------------------------------------- process helpers

port_open() { # port_open PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

alive() { # alive PID: exists and is not a zombie (an unreaped killed process)
    [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

our_pid() {
    # pid of the broker started from this state dir, or nothing
    [[ -f $PIDFILE ]] || return 1
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "kafka.Kafka $CONF" || return 1
    echo "$pid"
}

probe() {
    # A metadata request over SASL/SCRAM as admin. Exit 0 when the broker answers.
    local py
    if ! py="$(python_bin)"; then
        # No kafka-python here: fall back to the broker's own "started" line.
        grep -q "Kafka Server started" "$LOG" 2>/dev/null
        return
    fi
    timeout 20 "$py" - "$PORT" "$ADMIN_USER" "$ADMIN_PASSWORD" <<'PY' >/dev/null 2>&1
import sys
from kafka import KafkaAdminClient
port, user, password = sys.argv[1:4]
admin = KafkaAdminClient(
    bootstrap_servers=f"127.0.0.1:{port}", security_protocol="SASL_PLAINTEXT",
    sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=user, sasl_plain_password=password,
    request_timeout_ms=5000, bootstrap_timeout_ms=5000, client_id="kafka.sh-probe")
try:
    cluster = admin.describe_cluster()
    assert cluster["brokers"], cluster
finally:
    admin.close()
PY
}

healthy() {
    port_open "$PORT" && probe
}

print_log_tail() {
    if [[ -f $LOG ]]; then
        log "---- last 60 lines of $LOG ----"
        tail -n 60 "$LOG" >&2 || true
        log "---- end of $LOG ----"
    else
        log "(no server log at $LOG)"
    fi
}

# ---------------------------------------------------------------- configuration

write_config() {
    mkdir -p "$KDIR" "$DATA"
    local scram_jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$ADMIN_USER\" password=\"$ADMIN_PASSWORD\";"
    local plain_jaas="org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$ADMIN_USER\" password=\"$ADMIN_PASSWORD\" user_$ADMIN_USER=\"$ADMIN_PASSWORD\";"
    cat >"$CONF" <<EOF
# Generated by infra/kafka/kafka.sh on every start: edit the script, not this file.
# Single-node KRaft, combined broker + controller. DEVELOPMENT CREDENTIALS ONLY.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
controller.listener.names=CONTROLLER
listeners=CLIENT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=CLIENT://127.0.0.1:$PORT
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=CLIENT

# Clients and inter-broker traffic: SASL/SCRAM-SHA-512. The SCRAM credentials live in the
# cluster metadata (written by 'kafka-storage format --add-scram').
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=$scram_jaas

# Controller listener: SASL/PLAIN with one static user (admin, a super user), loopback only.
# (SCRAM cannot authenticate the controller: its credentials are in the log it serves.)
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=$plain_jaas

# Authorization: deny unless an ACL allows it.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$ADMIN_USER;User:$SERVICE_USER

log.dirs=$DATA
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# after a crash the controller refuses the restarted broker until the old session expires
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
auto.create.topics.enable=false
delete.topic.enable=true
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
log.retention.hours=168
log.segment.bytes=104857600
EOF
    cat >"$LOG4J" <<'EOF'
# Everything goes to stdout, which kafka.sh appends to server.log.
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.perf.name = org.apache.kafka.controller.EventPerformanceMonitor
logger.perf.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = INFO
EOF
}

format_storage() {
    if [[ -f $DATA/meta.properties ]]; then
        return 0
    fi
    local cluster_id args=()
    cluster_id="$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    [[ -n $cluster_id ]] || die "could not generate a cluster id"
    args+=(--add-scram "SCRAM-SHA-512=[name=$ADMIN_USER,password=$ADMIN_PASSWORD]")
    args+=(--add-scram "SCRAM-SHA-512=[name=$SERVICE_USER,password=$SERVICE_PASSWORD]")
    local a
    for a in "${AGENCIES[@]}"; do
        args+=(--add-scram "SCRAM-SHA-512=[name=$a,password=$a-secret]")
    done
    log "formatting $DATA (cluster id $cluster_id, SCRAM users: $ADMIN_USER $SERVICE_USER ${AGENCIES[*]})"
    if ! java -cp "$LIBS/*" -Dlog4j2.configurationFile="$LOG4J" kafka.tools.StorageTool format \
        -c "$CONF" -t "$cluster_id" "${args[@]}" >"$KDIR/format.log" 2>&1; then
        cat "$KDIR/format.log" >&2
        rm -rf "$DATA"
        die "kafka-storage format failed"
    fi
}

# ---------------------------------------------------------------- commands

cleanup_stale() {
    # After a crash (kill -9, reboot): a pid file whose process is gone, and the log dir lock.
    if [[ -f $PIDFILE ]] && ! our_pid >/dev/null; then
        log "removing stale pid file $PIDFILE"
        rm -f "$PIDFILE"
    fi
    if ! our_pid >/dev/null; then
        rm -f "$DATA/.lock"
    fi
}

cmd_up() {
    mkdir -p "$KDIR"
    exec 9>"$KDIR/.kafka.sh.lock"
    flock -w 300 9 || die "another kafka.sh holds $KDIR/.kafka.sh.lock"

    local pid
    if pid="$(our_pid)"; then
        if wait_ready "$pid"; then
            log "already running (pid $pid) on 127.0.0.1:$PORT"
            return 0
        fi
        log "broker pid $pid is not answering; restarting it"
        stop_pid "$pid"
    fi
    cleanup_stale

    if port_open "$PORT" || port_open "$CPORT"; then
        if healthy; then
            log "a healthy broker not started from $KDIR already answers on 127.0.0.1:$PORT; using it"
            return 0
        fi
        command -v ss >/dev/null 2>&1 && ss -ltnp "( sport = :$PORT or sport = :$CPORT )" >&2 || true
        die "port $PORT or $CPORT is taken by another process (set RUSKONTRAKT_KAFKA_PORT / RUSKONTRAKT_KAFKA_CONTROLLER_PORT)"
    fi

    fetch
    command -v java >/dev/null 2>&1 || ensure_tools
    write_config
    format_storage

    [[ -f $LOG ]] && mv -f "$LOG" "$LOG.1"
    log "starting Apache Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (log: $LOG)"
    # setsid: own session, so that the broker survives the shell / test run that started it.
    # The inner shell writes its own pid and then becomes java (exec keeps the pid).
    # shellcheck disable=SC2086,SC2016
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
        java $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$KDIR" \
        -cp "$LIBS/*" kafka.Kafka "$CONF" \
        </dev/null >>"$LOG" 2>&1 9>&- &
    for _ in $(seq 1 50); do
        pid="$(our_pid || true)"
        [[ -n $pid ]] && break
        sleep 0.1
    done
    [[ -n ${pid:-} ]] || { print_log_tail; die "the broker did not start"; }
    if ! wait_ready "$pid"; then
        print_log_tail
        stop_pid "$pid"
        die "the broker did not become ready within ${START_TIMEOUT}s"
    fi
    log "ready: pid $pid, bootstrap 127.0.0.1:$PORT (SASL_PLAINTEXT, SCRAM-SHA-512)"
}

wait_ready() { # wait_ready PID
    local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! alive "$pid"; then
            log "broker process $pid exited"
            return 1
        fi
        if healthy; then
            return 0
        fi
        sleep 1
    done
    return 1
}

stop_pid() { # stop_pid PID
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 60); do
        alive "$pid" || break
        sleep 0.5
    done
    if alive "$pid"; then
        log "pid $pid did not stop within 30s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do
            alive "$pid" || break
            sleep 0.25
        done
    fi
    rm -f "$PIDFILE"
}

cmd_down() {
    mkdir -p "$KDIR"
    exec 9>"$KDIR/.kafka.sh.lock"
    flock -w 300 9 || die "another kafka.sh holds $KDIR/.kafka.sh.lock"
    local pid
    if pid="$(our_pid)"; then
        log "stopping broker pid $pid"
        stop_pid "$pid"
        log "stopped"
    else
        log "not running"
        rm -f "$PIDFILE"
    fi
}

cmd_status() {
    local pid
    if pid="$(our_pid)"; then
        if healthy; then
            echo "running: pid $pid, bootstrap 127.0.0.1:$PORT, state $KDIR"
            return 0
        fi
        echo "started but not answering: pid $pid, bootstrap 127.0.0.1:$PORT"
        return 1
    fi
    if port_open "$PORT" && healthy; then
        echo "running (not started from $KDIR): bootstrap 127.0.0.1:$PORT"
        return 0
    fi
    echo "not running"
    return 3
}

cmd_reset() {
    cmd_down
    log "wiping $DATA"
    rm -rf "$DATA" "$CONF" "$KDIR/format.log"
}

case "${1:-}" in
    up) cmd_up ;;
    down | stop) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    fetch) fetch ;;
    log) tail -n "${2:-100}" "$LOG" ;;
    *)
        echo "usage: $0 up|down|status|reset|fetch|log [N]" >&2
        exit 2
        ;;
esac
