#!/usr/bin/env bash
# PgBouncer in transaction mode in front of the shared PostgreSQL (issue 26, docs/scaling.md).
#
#   source .ci/scale/pgbouncer.sh start   # installs pgbouncer if missing, starts it on 127.0.0.1:6432,
#                                         # exports ATHANOR_TEST_PGBOUNCER_URL
#   .ci/scale/pgbouncer.sh stop           # stops the one it started (pidfile under /tmp)
#
# Its config, pidfile and log live in $PGB_DIR (default /tmp/athanor-pgbouncer); it runs as the
# `postgres` user (PgBouncer refuses to run as root) and never touches the server's settings.
set -euo pipefail

PGB_DIR="${PGB_DIR:-/tmp/athanor-pgbouncer}"
PGB_PORT="${PGB_PORT:-6432}"
PGB_PG_PORT="${PGB_PG_PORT:-5432}"

pgb_stop() {
  local pidfile="$PGB_DIR/pgbouncer.pid"
  if [ -f "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  fi
}

pgb_start() {
  if ! command -v pgbouncer >/dev/null 2>&1; then
    echo "installing pgbouncer"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
  fi
  pgb_stop
  mkdir -p "$PGB_DIR"
  cat >"$PGB_DIR/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$PGB_PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $PGB_DIR/userlist.txt
pool_mode = transaction
max_client_conn = 200
default_pool_size = 10
max_db_connections = 20
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = $PGB_DIR/pgbouncer.log
pidfile = $PGB_DIR/pgbouncer.pid
admin_users = postgres
INI
  echo '"postgres" ""' >"$PGB_DIR/userlist.txt"
  chown -R postgres "$PGB_DIR" 2>/dev/null || true
  local run=(pgbouncer -d "$PGB_DIR/pgbouncer.ini")
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "${run[@]}"
  else
    "${run[@]}"
  fi
  for _ in $(seq 1 50); do
    psql -h 127.0.0.1 -p "$PGB_PORT" -U postgres -d test -Atc "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.2
  done
  psql -h 127.0.0.1 -p "$PGB_PORT" -U postgres -d test -Atc "SELECT 1" >/dev/null
  export ATHANOR_TEST_PGBOUNCER_URL="postgres://postgres@127.0.0.1:$PGB_PORT/test?statement_cache=unnamed"
  echo "PgBouncer $(pgbouncer --version | head -n1 | awk '{print $2}') on 127.0.0.1:$PGB_PORT (transaction mode): $ATHANOR_TEST_PGBOUNCER_URL"
}

case "${1:-}" in
  start) pgb_start ;;
  stop) pgb_stop ;;
  *) echo "usage: $0 start|stop" >&2; return 2 2>/dev/null || exit 2 ;;
esac
