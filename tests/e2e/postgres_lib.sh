# shellcheck shell=bash disable=SC2154
# A temporary PostgreSQL cluster for the vault e2e tests (tests/servers/postgres.sh). Source
# it after lib.sh and vault_lib.sh:
#
#   source "$E2E/postgres_lib.sh"
#
# Provides:
#   postgres_start     start the cluster; $PG_URL (postgresql://ferry@127.0.0.1:PORT/ferry,
#                      no password: trust authentication) and $PG_BIN (psql, createdb) set.
#                      Without PostgreSQL's binaries the test exits 77 (CTest: skipped).
#   pg_query SQL       one value from the database: psql -tA
# On exit the vault servers are killed first (vault_lib.sh), then the cluster is stopped
# and its directory removed.

PG_STATE=$WORK/postgres
PG_URL=""
PG_BIN=""

_postgres_stop() {
  [[ -f $PG_STATE/env ]] || return 0
  bash "$E2E/../servers/postgres.sh" stop "$PG_STATE" >/dev/null 2>&1 || true
}
# In front of vault_lib.sh's cleanup (servers killed), then lib.sh's.
trap '_pg_rc=$?; set +e; _vault_cleanup; _postgres_stop; (exit $_pg_rc); _cleanup' EXIT

postgres_start() {
  local rc=0
  PG_URL=$(bash "$E2E/../servers/postgres.sh" start "$PG_STATE" 2>"$WORK/postgres-start.err") || rc=$?
  if [[ $rc -eq 77 ]]; then
    echo "[$TEST_NAME] SKIPPED: $(cat "$WORK/postgres-start.err")" >&2
    exit 77
  fi
  [[ $rc -eq 0 ]] || fail "tests/servers/postgres.sh start failed: $(cat "$WORK/postgres-start.err")"
  PG_BIN=$(sed -n 's/^POSTGRES_BIN=//p' "$PG_STATE/env")
  log "PostgreSQL at $PG_URL"
}

pg_query() {
  "$PG_BIN/psql" "$PG_URL" -tA -v ON_ERROR_STOP=1 -c "$1"
}
