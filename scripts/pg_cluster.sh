#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster on a free loopback port, owned by an
# unprivileged user, and prints its SQLAlchemy URL. Usage: pg_cluster.sh start DIR | stop DIR
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?directory}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -x "$bindir/initdb" ] || { echo "pg_cluster: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    id -u metabiz_pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin metabiz_pg
    chown -R metabiz_pg "$dir"
    runuser -u metabiz_pg -- "$@"
  else
    "$@"
  fi
}
case "$cmd" in
  start)
    rm -rf "$dir"; mkdir -p "$dir"; chmod 755 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bindir/initdb" -D "$dir/data" -U metabiz -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U metabiz metabiz_test
    echo "postgresql+psycopg://metabiz@127.0.0.1:$port/metabiz_test"
    ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
esac
