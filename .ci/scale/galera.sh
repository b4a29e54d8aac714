#!/usr/bin/env bash
# A 3-node Galera cluster of Debian's mariadbd + galera-4 on loopback (issue 26, docs/scaling.md).
#
#   source .ci/scale/galera.sh start   # installs galera-4 and rsync if missing, starts the nodes,
#                                      # exports ATHANOR_TEST_GALERA_URL and ATHANOR_TEST_GALERA_PIDS
#   .ci/scale/galera.sh stop           # stops the nodes it started (a node already dead is fine)
#
# Nodes: SQL ports 3311-3313, group communication 4567/4577/4587 (IST 4568/4578/4588), data dirs and
# sockets under $GALERA_DIR (default /tmp/athanor-galera). The shared MariaDB on 3306 is never
# touched: every node has its own --datadir, --socket, --pid-file and --port, and no option file is read
# (--no-defaults).
set -euo pipefail

GALERA_DIR="${GALERA_DIR:-/tmp/athanor-galera}"
GALERA_NODES=3
GALERA_PROVIDER="${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}"

galera_port() { echo $((3310 + $1)); }
galera_gport() { echo $((4557 + 10 * $1)); }

galera_stop() {
  local i pidfile pid
  for i in $(seq "$GALERA_NODES" -1 1); do
    pidfile="$GALERA_DIR/node$i/mariadbd.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

galera_node() { # n, extra args...
  local n=$1; shift
  local dir="$GALERA_DIR/node$n" cluster="" j
  for j in $(seq 1 "$GALERA_NODES"); do cluster+="${cluster:+,}127.0.0.1:$(galera_gport "$j")"; done
  /usr/sbin/mariadbd --no-defaults --user=mysql \
    --datadir="$dir/data" --socket="$dir/mysqld.sock" --pid-file="$dir/mariadbd.pid" \
    --port="$(galera_port "$n")" --bind-address=127.0.0.1 --log-error="$dir/error.log" \
    --skip-name-resolve --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
    --binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
    --innodb-flush-log-at-trx-commit=2 \
    --wsrep-on=ON --wsrep-provider="$GALERA_PROVIDER" --wsrep-cluster-name=athanor_galera \
    --wsrep-cluster-address="gcomm://$cluster" --wsrep-node-name="node$n" \
    --wsrep-node-address="127.0.0.1:$(galera_gport "$n")" \
    --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$(galera_gport "$n");ist.recv_addr=127.0.0.1:$(($(galera_gport "$n") + 1));gcache.size=32M" \
    --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$(($(galera_gport "$n") + 2))" \
    --wsrep-auto-increment-control=ON \
    "$@" >>"$dir/stdout.log" 2>&1 &
}

galera_wait() { # n: until the node answers and is Synced
  local n=$1
  for _ in $(seq 1 150); do
    if [ "$(mysql -uroot -h127.0.0.1 -P"$(galera_port "$n")" -Nse "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | awk '{print $2}')" = Synced ]; then
      return 0
    fi
    sleep 0.4
  done
  echo "galera node $n did not come up; see $GALERA_DIR/node$n/error.log" >&2
  tail -n 30 "$GALERA_DIR/node$n/error.log" >&2 || true
  return 1
}

galera_start() {
  if [ ! -f "$GALERA_PROVIDER" ] || ! command -v rsync >/dev/null 2>&1; then
    echo "installing galera-4 and rsync"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq galera-4 rsync >/dev/null
  fi
  galera_stop
  rm -rf "$GALERA_DIR"
  local i
  for i in $(seq 1 "$GALERA_NODES"); do
    mkdir -p "$GALERA_DIR/node$i/data"
    mariadb-install-db --no-defaults --user=mysql --datadir="$GALERA_DIR/node$i/data" \
      --auth-root-authentication-method=normal --skip-test-db >"$GALERA_DIR/node$i/install.log" 2>&1
  done
  chown -R mysql:mysql "$GALERA_DIR" 2>/dev/null || true
  galera_node 1 --wsrep-new-cluster
  galera_wait 1
  # root from 127.0.0.1 without a password (the test URL), created once: replicated to the joiners.
  mysql -uroot -h127.0.0.1 -P"$(galera_port 1)" -e \
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; CREATE DATABASE IF NOT EXISTS test" 2>/dev/null || true
  for i in $(seq 2 "$GALERA_NODES"); do galera_node "$i"; done
  for i in $(seq 2 "$GALERA_NODES"); do galera_wait "$i"; done
  local hosts="" pids=""
  for i in $(seq 1 "$GALERA_NODES"); do
    hosts+="${hosts:+,}127.0.0.1:$(galera_port "$i")"
    pids+="${pids:+,}$GALERA_DIR/node$i/mariadbd.pid"
  done
  export ATHANOR_TEST_GALERA_URL="mysql://root@127.0.0.1:$(galera_port 1)/test?hosts=$hosts&wsrep_sync_wait=7"
  export ATHANOR_TEST_GALERA_PIDS="$pids"
  echo "Galera: $(mysql -uroot -h127.0.0.1 -P"$(galera_port 1)" -Nse "SHOW STATUS LIKE 'wsrep_cluster_size'" | awk '{print $2}') nodes synced: $ATHANOR_TEST_GALERA_URL"
}

case "${1:-}" in
  start) galera_start ;;
  stop) galera_stop ;;
  *) echo "usage: $0 start|stop" >&2; return 2 2>/dev/null || exit 2 ;;
esac
