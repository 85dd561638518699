#!/usr/bin/env bash
# `ferry serve --database postgresql://…`: the vault's metadata (vaults, machines, tokens,
# recovery points) lives in PostgreSQL (a temporary cluster on a loopback port), not in
# DATA/vault.db; a backup through the vault restores byte for byte, and again after the server
# restarts; a database that is not there stops the server at start with a message that names
# it without its password and says what to check.
#   vault_postgres.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"
source "$E2E/postgres_lib.sh"

postgres_start
VAULT_SERVE_ARGS=(--database "$PG_URL")
vault_start_server
grep -q "metadata database: $PG_URL" "$WORK/server.out" ||
  fail "ferry serve does not say which database it uses: $(cat "$WORK/server.out")"
vault_setup prod
vault_register prod fs01 "$WORK/a.json"
note_token_file "$WORK/a.json"

SRC=$WORK/src
make_tree "$SRC" --seed 31
expect_exit 0 "$FERRY" --agent "$WORK/a.json" init
expect_exit 0 "$FERRY" --agent "$WORK/a.json" backup "$SRC"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" restore latest --target "$WORK/restore"
compare_trees "$SRC" "$WORK/restore$SRC" --no-sparse

[[ ! -e $VDATA/vault.db ]] || fail "the vault wrote $VDATA/vault.db although --database names PostgreSQL"
[[ $(pg_query "SELECT name FROM machines") == fs01 ]] || fail "the machine is not in PostgreSQL"
points=$(pg_query "SELECT count(*) FROM recovery_points")
[[ $points -ge 1 ]] || fail "no recovery point in PostgreSQL after a backup"
[[ $(pg_query "SELECT version FROM ferry_schema_version") == 3 ]] || fail "schema version not recorded"

log "the state outlives the server: after a restart the same token restores the same backup"
vault_kill_server TERM
vault_start_server
expect_exit 0 "$FERRY" --agent "$WORK/a.json" restore latest --target "$WORK/restore2"
compare_trees "$SRC" "$WORK/restore2$SRC" --no-sparse
expect_exit 0 "$FERRY" --agent "$WORK/a.json" check
assert_no_tokens_in_log

log "a database that is not there: a clear refusal, the password never shown"
dead=$(free_port)
expect_exit 1 "$FERRY" serve --data "$WORK/data2" --listen "127.0.0.1:$(free_port)" \
  --database "postgresql://ferry:s3cret-pw@127.0.0.1:$dead/ferry"
output_mentions "cannot connect to the metadata database postgresql://ferry:\*\*\*@127.0.0.1:$dead/ferry" ||
  fail "the refusal does not name the database: $(cat "$ERR")"
output_mentions "is PostgreSQL running there" || fail "the refusal does not say what to check: $(cat "$ERR")"
if grep -q s3cret-pw "$OUT" "$ERR"; then fail "the password reached the output: $(cat "$ERR")"; fi

log "a database name that does not exist: refused, naming it"
expect_exit 1 "$FERRY" serve --data "$WORK/data3" --listen "127.0.0.1:$(free_port)" \
  --database "${PG_URL%/*}/no_such_database"
output_mentions 'no_such_database' || fail "the refusal does not name the missing database: $(cat "$ERR")"
exit 0
