#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on 127.0.0.1 for the tests, run as an unprivileged user.
#   scripts/postgres_test_cluster.sh start   -> prints the database URL to use
#   scripts/postgres_test_cluster.sh stop
#   scripts/postgres_test_cluster.sh pause|resume   the server stopped (as a restart or a cut
#                                                   cable would) and started again, data kept
# NEST_PG_FOLDER and NEST_PG_PORT give a second cluster its own place.
# Needs Debian's postgresql package (scripts/bootstrap.sh test installs it).
set -euo pipefail
folder=${NEST_PG_FOLDER:-/tmp/nest-pg-test}
port=${NEST_PG_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
owner=nobody
run() {  # as the unprivileged owner when we are root, else as ourselves
  if [ "$(id -u)" -eq 0 ]; then su -s /bin/sh "$owner" -c "$*"; else sh -c "$*"; fi
}
case "${1:-}" in
  start)
    rm -rf "$folder"
    mkdir -p "$folder"
    [ "$(id -u)" -eq 0 ] && chown "$owner" "$folder"
    run "'$bin/initdb' -D '$folder/data' -U nest --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
    run "'$bin/pg_ctl' -D '$folder/data' -l '$folder/log' -w -o \"-h 127.0.0.1 -p $port -k '$folder'\" start" >/dev/null
    run "'$bin/createdb' -h 127.0.0.1 -p $port -U nest nest_test"
    echo "postgresql://nest@127.0.0.1:$port/nest_test"
    ;;
  stop)
    run "'$bin/pg_ctl' -D '$folder/data' -m fast stop" >/dev/null || true
    rm -rf "$folder"
    ;;
  pause)
    run "'$bin/pg_ctl' -D '$folder/data' -m fast -w stop" >/dev/null
    ;;
  resume)
    run "'$bin/pg_ctl' -D '$folder/data' -l '$folder/log' -w -o \"-h 127.0.0.1 -p $port -k '$folder'\" start" >/dev/null
    ;;
  *)
    echo "usage: $0 start|stop|pause|resume" >&2
    exit 2
    ;;
esac
