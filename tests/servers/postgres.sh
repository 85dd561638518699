#!/usr/bin/env bash
# A temporary PostgreSQL cluster on loopback for the tests (Debian's postgresql package):
#
#   postgres.sh start STATE_DIR   initdb in a fresh directory, start PostgreSQL on a free
#                                 loopback port (its unix socket in that directory, trust
#                                 authentication: it is a throwaway cluster), create the
#                                 database "ferry", write STATE_DIR/env, print the URL and exit,
#                                 leaving the server running. Exit status 77 when PostgreSQL's
#                                 binaries are not installed.
#   postgres.sh start-or-skip STATE_DIR   the same, but without the binaries it writes
#                                 POSTGRES_SKIP=<why> to STATE_DIR/env and exits 0 (the CTest
#                                 fixture: the tests then skip and say why)
#   postgres.sh stop STATE_DIR    stops it (fast shutdown), waits, removes its directory
#
# STATE_DIR/env holds KEY=VALUE lines:
#   POSTGRES_URL=postgresql://ferry@127.0.0.1:PORT/ferry   (superuser "ferry", no password)
#   POSTGRES_CLUSTER=DIR   POSTGRES_BIN=DIR (initdb, pg_ctl, createdb, psql; the newest
#   /usr/lib/postgresql/*/bin, or $FERRY_POSTGRES_BIN)
#
# initdb refuses to run as root. As root, the cluster belongs to and runs as the user
# $FERRY_POSTGRES_USER (default "postgres", whom Debian's package creates), through runuser;
# its directory is a fresh one under ${TMPDIR:-/tmp}, never STATE_DIR, whose parents that
# user may not be allowed to enter.
set -euo pipefail

usage() {
  echo "usage: $0 start|start-or-skip|stop STATE_DIR" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
action=$1
state=$2

find_bin() {
  if [[ -n ${FERRY_POSTGRES_BIN:-} ]]; then # another installation's bin directory
    [[ -x $FERRY_POSTGRES_BIN/initdb ]] && echo "$FERRY_POSTGRES_BIN"
    return 0
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]] && echo "$dir"
  return 0
}

# Runs a PostgreSQL server binary as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd "$cluster" && runuser -u "$owner" -- "$@")
  else
    (cd "$cluster" && "$@")
  fi
}

start() {
  local skip_if_absent=$1
  bin=$(find_bin)
  if [[ -z $bin ]]; then
    local why="PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql, or run scripts/install-deps.sh"
    if [[ $skip_if_absent == 1 ]]; then
      mkdir -p "$state"
      echo "POSTGRES_SKIP='$why'" >"$state/env"
      echo "$why" >&2
      exit 0
    fi
    echo "$0: $why" >&2
    exit 77
  fi
  owner=$(id -un)
  if [[ $(id -u) -eq 0 ]]; then
    owner=${FERRY_POSTGRES_USER:-postgres}
    if ! id "$owner" >/dev/null 2>&1; then
      echo "$0: initdb refuses to run as root, and there is no user '$owner' to run PostgreSQL as: create one (useradd --system $owner) or set FERRY_POSTGRES_USER" >&2
      exit 1
    fi
  fi
  stop_cluster # one left from an earlier run
  mkdir -p "$state"
  cluster=$(mktemp -d "${TMPDIR:-/tmp}/ferry-postgres.XXXXXX")
  chmod 0755 "$cluster"
  mkdir "$cluster/socket"
  [[ $(id -u) -ne 0 ]] || chown "$owner" "$cluster" "$cluster/socket"
  echo "POSTGRES_CLUSTER=$cluster" >"$state/env"
  if ! as_owner "$bin/initdb" -D "$cluster/data" --username=ferry --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$cluster/initdb.log" 2>&1; then
    echo "$0: initdb failed; its log:" >&2
    cat "$cluster/initdb.log" >&2
    exit 1
  fi
  # A port found free may be taken before the server binds it: try a few.
  local port started=0
  for _ in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # fsync off: a throwaway cluster that no test crashes the machine under.
    if as_owner "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 120 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster/socket -c fsync=off -c max_connections=300" \
      start >/dev/null 2>&1; then
      started=1
      break
    fi
  done
  if [[ $started != 1 ]]; then
    echo "$0: PostgreSQL did not start; its log:" >&2
    cat "$cluster/server.log" >&2 || true
    exit 1
  fi
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U ferry ferry
  local url="postgresql://ferry@127.0.0.1:$port/ferry"
  cat >"$state/env" <<ENV
POSTGRES_URL=$url
POSTGRES_CLUSTER=$cluster
POSTGRES_BIN=$bin
ENV
  echo "$url"
}

stop_cluster() {
  [[ -f $state/env ]] || return 0
  local dir
  dir=$(sed -n 's/^POSTGRES_CLUSTER=//p' "$state/env")
  rm -f "$state/env"
  [[ -n $dir && -d $dir && $dir == */ferry-postgres.* ]] || return 0
  if [[ -f $dir/data/postmaster.pid ]]; then
    local bin owner cluster=$dir
    bin=$(find_bin)
    owner=$(stat -c %U "$dir/data")
    [[ -z $bin ]] || as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case $action in
  start) start 0 ;;
  start-or-skip) start 1 ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
