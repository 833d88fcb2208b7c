#!/usr/bin/env bash
# Development / test PostgreSQL: a private cluster of this work tree, no Docker, no system service.
#
#   infra/db/pg.sh up             use $RUSKONTRAKT_DATABASE_URL when it is a reachable postgresql URL;
#                                 otherwise install the binaries if missing (apt-get), initdb once, start
#   infra/db/pg.sh down           fast shutdown
#   infra/db/pg.sh status         exit 0 when the server accepts connections
#   infra/db/pg.sh url            print the URL of the server (postgresql://postgres@127.0.0.1:15432/postgres)
#   infra/db/pg.sh createdb NAME  create a database (no error if it exists); prints its URL
#   infra/db/pg.sh dropdb NAME    drop a database (WITH FORCE; no error if it does not exist)
#   infra/db/pg.sh reset          down + wipe the cluster
#   infra/db/pg.sh log [N]        tail of the server log
#
# Layout: $RUSKONTRAKT_VAR/pg/data (PGDATA), $RUSKONTRAKT_VAR/pg/server.log.
# Listens on 127.0.0.1 only (TCP, no unix socket), trust authentication for loopback: a
# development server, never a production one. Durability is traded for speed (fsync=off)
# unless RUSKONTRAKT_PG_DURABLE=1 (the benchmarks' own cluster: every commit is flushed).
#
# Environment:
#   RUSKONTRAKT_DATABASE_URL  if a reachable postgresql:// URL, 'up' leaves everything alone
#   RUSKONTRAKT_VAR           state dir (default <repo>/var)
#   RUSKONTRAKT_PG_PORT       port (default 15432)
#   RUSKONTRAKT_PG_BIN        directory with initdb/pg_ctl/postgres (default: newest /usr/lib/postgresql/*/bin)
#   RUSKONTRAKT_PG_OS_USER    OS user that runs the server when we are root (default postgres)
#   RUSKONTRAKT_PG_DURABLE    1: fsync, synchronous_commit and full_page_writes on (default 0)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

VAR="${RUSKONTRAKT_VAR:-$REPO/var}"
PGDIR="$VAR/pg"
PGDATA="$PGDIR/data"
LOG="$PGDIR/server.log"
PORT="${RUSKONTRAKT_PG_PORT:-15432}"
OS_USER="${RUSKONTRAKT_PG_OS_USER:-postgres}"
START_TIMEOUT="${RUSKONTRAKT_PG_START_TIMEOUT:-60}"
URL="postgresql://postgres@127.0.0.1:$PORT/postgres"

log() { echo "pg.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- binaries and user

find_bin() {
    if [[ -n ${RUSKONTRAKT_PG_BIN:-} ]]; then
        [[ -x $RUSKONTRAKT_PG_BIN/pg_ctl ]] || die "no pg_ctl in RUSKONTRAKT_PG_BIN=$RUSKONTRAKT_PG_BIN"
        echo "$RUSKONTRAKT_PG_BIN"
        return 0
    fi
    local d
    d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    if [[ -n $d && -x $d/pg_ctl && -x $d/initdb && -x $d/postgres ]]; then
        echo "$d"
        return 0
    fi
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    return 1
}

ensure_bin() {
    if BIN="$(find_bin)"; then
        return 0
    fi
    [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed; run: sudo apt-get install -y postgresql"
    log "PostgreSQL not found; installing the Debian package (apt-get install postgresql)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends postgresql </dev/null >&2
    BIN="$(find_bin)" || die "PostgreSQL binaries still missing after apt-get install"
}

ensure_user() {
    # postgres refuses to run as root: run it as $OS_USER (the Debian package creates 'postgres').
    if [[ $(id -u) -ne 0 ]]; then
        RUN=()
        return 0
    fi
    if ! id -u "$OS_USER" >/dev/null 2>&1; then
        log "creating system user $OS_USER"
        useradd --system --user-group --home-dir "$PGDIR" --no-create-home --shell /usr/sbin/nologin "$OS_USER"
    fi
    if command -v runuser >/dev/null 2>&1; then
        RUN=(runuser -u "$OS_USER" --)
    else
        RUN=(setpriv "--reuid=$OS_USER" "--regid=$OS_USER" --init-groups --)
    fi
}

as_owner() { "${RUN[@]}" "$@"; }

prepare_dirs() {
    mkdir -p "$PGDIR"
    if [[ $(id -u) -eq 0 ]]; then
        chown "$OS_USER:" "$PGDIR"
        chmod 0700 "$PGDIR"
        # `ruskontrakt serve` creates $VAR with its private umask (0700); the server user
        # may pass through it (o+x: no listing, and the files in it are 0600 themselves)
        if ! as_owner test -x "$VAR"; then
            chmod o+x "$VAR"
        fi
        # the server user must be able to reach $PGDIR through every parent directory
        local d="$PGDIR"
        while d="$(dirname "$d")"; [[ $d != / ]]; do
            if ! as_owner test -x "$d"; then
                die "$OS_USER cannot enter $d; make it world-searchable (chmod o+x) or set RUSKONTRAKT_VAR"
            fi
        done
    fi
}

# ---------------------------------------------------------------- probes

python_bin() {
    local c
    for c in "${RUSKONTRAKT_PYTHON:-}" "$REPO/.venv/bin/python" python3; do
        [[ -n $c ]] || continue
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import psycopg' >/dev/null 2>&1; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

url_ok() { # url_ok URL: a connection succeeds and answers SELECT 1
    local url=$1 py
    if py="$(python_bin)"; then
        timeout 15 "$py" - "$url" <<'PY' >/dev/null 2>&1
import sys, psycopg
with psycopg.connect(sys.argv[1], connect_timeout=5) as conn:
    conn.execute("SELECT 1").fetchone()
PY
        return
    fi
    local b
    if b="$(find_bin)" && [[ -x $b/psql ]]; then
        timeout 15 "$b/psql" "$url" -XAtqc 'SELECT 1' >/dev/null 2>&1
        return
    fi
    return 1
}

psql_cmd() { # psql_cmd SQL...: run as the postgres role over TCP
    "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres "$@"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

server_pid() {
    # pid of the postmaster of $PGDATA, if it is alive
    [[ -f $PGDATA/postmaster.pid ]] || return 1
    local pid
    pid="$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || true)"
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/comm ]] || return 1
    grep -qE '^(postgres|postmaster)$' "/proc/$pid/comm" || return 1
    # a killed postmaster whose parent does not reap it lingers as a zombie: that is dead too
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
    echo "$pid"
}

print_log_tail() {
    if [[ -f $LOG ]]; then
        log "---- last 40 lines of $LOG ----"
        tail -n 40 "$LOG" >&2 || true
        log "---- end of $LOG ----"
    else
        log "(no server log at $LOG)"
    fi
}

# ---------------------------------------------------------------- commands

init_cluster() {
    if [[ -f $PGDATA/PG_VERSION ]]; then
        return 0
    fi
    log "initdb $PGDATA"
    rm -rf "$PGDATA"
    as_owner "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        >"$PGDIR/initdb.log" 2>&1 || {
        # older initdb or missing C.UTF-8: retry with the C locale
        rm -rf "$PGDATA"
        as_owner "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C \
            >"$PGDIR/initdb.log" 2>&1
    } || { cat "$PGDIR/initdb.log" >&2; rm -rf "$PGDATA"; die "initdb failed"; }
    as_owner tee "$PGDATA/pg_hba.conf" >/dev/null <<'EOF'
# ruskontrakt development cluster: loopback only, trust (no passwords). Not for production.
# TYPE  DATABASE  USER  ADDRESS        METHOD
host    all       all   127.0.0.1/32   trust
host    all       all   ::1/128        trust
EOF
    as_owner tee -a "$PGDATA/postgresql.conf" >/dev/null <<'EOF'

# ---- ruskontrakt development cluster (infra/db/pg.sh) ----
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_checkpoints = off
log_min_messages = warning
log_line_prefix = '%m [%p] %d '
EOF
}

cmd_up() {
    if [[ ${RUSKONTRAKT_DATABASE_URL:-} == postgres://* || ${RUSKONTRAKT_DATABASE_URL:-} == postgresql://* ]]; then
        if url_ok "$RUSKONTRAKT_DATABASE_URL"; then
            log "RUSKONTRAKT_DATABASE_URL is reachable; nothing to start"
            return 0
        fi
        log "RUSKONTRAKT_DATABASE_URL is set but not reachable; starting the private cluster instead"
    fi
    mkdir -p "$PGDIR"
    exec 8>"$VAR/.pg.sh.lock"
    flock -w 300 8 || die "another pg.sh holds $VAR/.pg.sh.lock"

    ensure_bin
    ensure_user
    prepare_dirs

    local pid
    if pid="$(server_pid)"; then
        if wait_ready; then
            log "already running (pid $pid) on 127.0.0.1:$PORT"
            return 0
        fi
        die "postmaster pid $pid is alive but does not accept connections; see $LOG"
    fi
    if [[ -f $PGDATA/postmaster.pid ]]; then
        log "removing stale $PGDATA/postmaster.pid (server not running)"
        rm -f "$PGDATA/postmaster.pid"
    fi
    if port_open "$PORT"; then
        if url_ok "$URL"; then
            log "a PostgreSQL not started from $PGDATA already answers on 127.0.0.1:$PORT; using it"
            return 0
        fi
        die "port $PORT is taken by another process (set RUSKONTRAKT_PG_PORT)"
    fi

    init_cluster
    [[ -f $LOG ]] && mv -f "$LOG" "$LOG.1"
    as_owner touch "$LOG"
    log "starting PostgreSQL ($("$BIN/postgres" --version)) on 127.0.0.1:$PORT (log: $LOG)"
    # setsid: the server survives the shell / test run that started it. fd 8 (the lock) is closed.
    local options="-p $PORT"
    if [[ ${RUSKONTRAKT_PG_DURABLE:-0} == 1 ]]; then
        options+=" -c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    fi
    if ! setsid "${RUN[@]}" "$BIN/pg_ctl" start -D "$PGDATA" -l "$LOG" -s -w -t "$START_TIMEOUT" \
        -o "$options" </dev/null >/dev/null 2>"$PGDIR/pg_ctl.err" 8>&-; then
        cat "$PGDIR/pg_ctl.err" >&2 || true
        print_log_tail
        die "PostgreSQL did not start"
    fi
    if ! wait_ready; then
        print_log_tail
        die "PostgreSQL did not accept connections within ${START_TIMEOUT}s"
    fi
    log "ready: $URL"
}

wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -t 2; then
            return 0
        fi
        server_pid >/dev/null || return 1
        sleep 0.5
    done
    return 1
}

cmd_down() {
    ensure_bin
    ensure_user
    if server_pid >/dev/null; then
        log "stopping PostgreSQL ($PGDATA)"
        as_owner "$BIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 60 -s ||
            as_owner "$BIN/pg_ctl" stop -D "$PGDATA" -m immediate -w -t 30 -s
        log "stopped"
    else
        log "not running"
    fi
}

cmd_status() {
    local pid
    if pid="$(server_pid)"; then
        if BIN="$(find_bin)" && "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -t 2; then
            echo "running: pid $pid, $URL, data $PGDATA"
            return 0
        fi
        echo "started but not accepting connections: pid $pid"
        return 1
    fi
    echo "not running"
    return 3
}

cmd_createdb() {
    local name=${1:?usage: pg.sh createdb NAME}
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "database name must match [A-Za-z_][A-Za-z0-9_]*"
    ensure_bin
    if [[ -z $(psql_cmd -At -c "SELECT 1 FROM pg_database WHERE datname = '$name'") ]]; then
        psql_cmd -c "CREATE DATABASE \"$name\""
    fi
    echo "postgresql://postgres@127.0.0.1:$PORT/$name"
}

cmd_dropdb() {
    local name=${1:?usage: pg.sh dropdb NAME}
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "database name must match [A-Za-z_][A-Za-z0-9_]*"
    ensure_bin
    psql_cmd -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
}

cmd_reset() {
    cmd_down
    log "wiping $PGDATA"
    rm -rf "$PGDATA"
}

case "${1:-}" in
    up) cmd_up ;;
    down | stop) cmd_down ;;
    status) cmd_status ;;
    url) echo "$URL" ;;
    createdb) cmd_createdb "${2:-}" ;;
    dropdb) cmd_dropdb "${2:-}" ;;
    reset) cmd_reset ;;
    log) tail -n "${2:-100}" "$LOG" ;;
    *)
        echo "usage: $0 up|down|status|url|createdb NAME|dropdb NAME|reset|log [N]" >&2
        exit 2
        ;;
esac
