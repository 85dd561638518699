#!/usr/bin/env bash
# `ferry serve --storage LOCATION`: the machines' repositories live in the storage location
# given (here a directory outside the vault's data directory, opened through the backend
# registry as every other backend is), not in DATA/repositories; a backup restores byte for
# byte from there; a location no backend understands stops the server at start with a message
# naming it.
#   vault_storage.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

STORE=$WORK/store
VAULT_SERVE_ARGS=(--storage "local:$STORE")
vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/a.json" "$WORK/a-maint.json"

SRC=$WORK/src
make_tree "$SRC" --seed 23
expect_exit 0 "$FERRY" --agent "$WORK/a.json" init
expect_exit 0 "$FERRY" --agent "$WORK/a.json" backup "$SRC"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" restore latest --target "$WORK/restore"
compare_trees "$SRC" "$WORK/restore$SRC" --no-sparse
expect_exit 0 "$FERRY" --agent "$WORK/a.json" check --read-data

packs=$(find "$STORE/repositories/prod/fs01/data" -type f | wc -l)
[[ $packs -gt 0 ]] || fail "no packs below $STORE/repositories/prod/fs01/data"
[[ -f $STORE/repositories/prod/fs01/config ]] || fail "no config in the storage location"
if [[ -e $VDATA/repositories/prod ]]; then
  fail "the vault wrote repositories into its data directory: $(find "$VDATA/repositories" | head)"
fi

# A scheme no backend knows: the server refuses to start and says why.
vault_kill_server TERM
expect_exit 1 "$FERRY" serve --data "$WORK/data2" --listen "127.0.0.1:$(free_port)" \
  --storage "nosuch://bucket"
output_mentions "no backend for 'nosuch://'" || fail "no message naming the unknown scheme"
exit 0
