#!/usr/bin/env bash
# Read-replica servers for tests/replicas.rs (issue 26, docs/scaling.md "Read replicas").
#   .ci/scale/replicas.sh start   starts a PostgreSQL primary (5440) with a streaming replica (5441)
#                                 and a MariaDB primary (3320) with a GTID replica (3321), all under
#                                 /tmp/athanor-replicas, and prints the `export` lines for the
#                                 test URLs (eval "$(.ci/scale/replicas.sh start)").
#   .ci/scale/replicas.sh stop    stops them and removes the data directories.
# The shared servers (5432, 3306) are never touched.
set -euo pipefail
base=${ATHANOR_REPLICAS_DIR:-/tmp/athanor-replicas}
pgbin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
as_pg() { runuser -u postgres -- "$@"; }

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "$name did not come up" >&2; return 1
}

start_pg() {
  mkdir -p "$base"; chmod 755 "$base"
  local p=$base/pg-primary r=$base/pg-replica
  rm -rf "$p" "$r"
  install -d -o postgres -g postgres -m 700 "$p" "$r"
  install -d -o postgres -g postgres "$base/pg-logs"
  as_pg "$pgbin/initdb" -D "$p" -U postgres --auth=trust >"$base/pg-initdb.log" 2>&1
  cat >>"$p/postgresql.conf" <<CONF
port = 5440
listen_addresses = '127.0.0.1'
unix_socket_directories = '$base/pg-logs'
wal_level = replica
max_wal_senders = 5
hot_standby = on
fsync = off
CONF
  echo "host replication all 127.0.0.1/32 trust" >>"$p/pg_hba.conf"
  as_pg "$pgbin/pg_ctl" -D "$p" -l "$base/pg-logs/primary.log" -w start >/dev/null
  as_pg "$pgbin/psql" -h 127.0.0.1 -p 5440 -U postgres -qc "CREATE DATABASE test" >/dev/null
  as_pg "$pgbin/pg_basebackup" -h 127.0.0.1 -p 5440 -U postgres -D "$r" -R -X stream -c fast >/dev/null 2>&1
  sed -i 's/^port = 5440/port = 5441/' "$r/postgresql.conf"
  as_pg "$pgbin/pg_ctl" -D "$r" -l "$base/pg-logs/replica.log" -w start >/dev/null
  wait_for "PostgreSQL replica" as_pg "$pgbin/psql" -h 127.0.0.1 -p 5441 -U postgres -d test -tAc "SELECT pg_is_in_recovery()"
}

mariadb_start_one() { # name port server-id
  local d=$base/$1
  rm -rf "$d"; mkdir -p "$d"
  mariadb-install-db --no-defaults --datadir="$d/data" --user=root --auth-root-authentication-method=normal \
    --skip-test-db >"$base/$1-install.log" 2>&1 || { cat "$base/$1-install.log" >&2; return 1; }
  mariadbd --no-defaults --datadir="$d/data" --port="$2" --bind-address=127.0.0.1 \
    --socket="$d/mysqld.sock" --pid-file="$d/mysqld.pid" --user=root --server-id="$3" \
    --log-bin=mysql-bin --binlog-format=ROW --gtid-strict-mode=1 --log-slave-updates=1 \
    --skip-name-resolve --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
    --innodb-flush-log-at-trx-commit=2 --log-error="$base/$1.err" >/dev/null 2>&1 &
  wait_for "MariaDB $1" mysqladmin --protocol=tcp -h127.0.0.1 -P"$2" -uroot status
}

start_mariadb() {
  mkdir -p "$base"
  mariadb_start_one my-primary 3320 1
  mariadb_start_one my-replica 3321 2
  local q=(mysql --protocol=tcp -h127.0.0.1 -uroot)
  # root@127.0.0.1 with no password for the tests (install-db makes root@localhost only).
  "${q[@]}" -P3320 -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; CREATE USER IF NOT EXISTS 'root'@'%'; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION; CREATE DATABASE IF NOT EXISTS test"
  "${q[@]}" -P3321 -e "SET GLOBAL read_only=ON; CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=3320, MASTER_USER='root', MASTER_USE_GTID=slave_pos; START SLAVE"
  wait_for "MariaDB replication" bash -c "${q[*]} -P3321 -Nse 'SHOW DATABASES' | grep -qx test"
}

stop_all() {
  for n in my-replica my-primary; do
    if [ -f "$base/$n/mysqld.pid" ]; then
      mysqladmin --protocol=tcp -h127.0.0.1 -P"$([ $n = my-primary ] && echo 3320 || echo 3321)" -uroot shutdown >/dev/null 2>&1 \
        || kill "$(cat "$base/$n/mysqld.pid")" 2>/dev/null || true
    fi
  done
  for n in pg-replica pg-primary; do
    [ -f "$base/$n/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" -D "$base/$n" -m immediate -w stop >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 20); do
    pgrep -f "datadir=$base/" >/dev/null 2>&1 || break; sleep 0.5
  done
  rm -rf "$base"
}

case "${1:-}" in
  start)
    stop_all
    start_pg
    start_mariadb
    cat <<ENV
export ATHANOR_TEST_PG_PRIMARY_URL=postgres://postgres@127.0.0.1:5440/test
export ATHANOR_TEST_PG_REPLICA_URL=postgres://postgres@127.0.0.1:5441/test
export ATHANOR_TEST_MYSQL_PRIMARY_URL=mysql://root@127.0.0.1:3320/test
export ATHANOR_TEST_MYSQL_REPLICA_URL=mysql://root@127.0.0.1:3321/test
ENV
    ;;
  stop) stop_all ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
