#!/usr/bin/env bash
# A repository on Azure Blob (Azurite): init, backup of every file kind plus a 30 MiB file,
# restore compared field by field, check --read-data, an incremental backup, snapshots; and a
# wrong key fails within seconds, naming the credential and never showing it.
#   azure_repository.sh PATH-TO-FERRY   (FERRY_AZURITE_ENV: the env file azurite.sh wrote)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

ENV_FILE=${FERRY_AZURITE_ENV:-}
[[ -n $ENV_FILE && -f $ENV_FILE ]] ||
  fail "no Azurite: '$ENV_FILE' is missing. Run this through ctest (the azurite fixture starts it)" \
    "or start one: tests/servers/azurite.sh start DIR and set FERRY_AZURITE_ENV=DIR/env"
source "$ENV_FILE"
AZURITE_DATA=$(dirname "$ENV_FILE")/data

export FERRY_AZURE_CONNECTION_STRING=$AZURITE_CONNECTION_STRING
# A prefix of its own per run: the container is shared with the other tests of the fixture.
PREFIX=e2e-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
export FERRY_REPOSITORY="azure://ferry-e2e/$PREFIX/repo?account=$AZURITE_ACCOUNT"

SRC=$WORK/src
make_tree "$SRC" --seed 23 >/dev/null
head -c $((30 << 20)) /dev/urandom >"$SRC/files/big_30m.bin"
: >"$SRC/names/empty with spaces"

log "init on $FERRY_REPOSITORY"
expect_exit 0 "$FERRY" init
[[ ! -e repo && ! -e $WORK/repo ]] || fail "init wrote a local directory instead of using Azure"
expect_exit nonzero "$FERRY" init
output_mentions "already" || fail "a second init did not say the repository exists: $(cat "$ERR")"

log "backup"
data_before=$(du -sb "$AZURITE_DATA" | cut -f1)
expect_exit 0 "$FERRY" backup --json "$SRC"
cp "$OUT" "$WORK/backup1.json"
SNAP=$(json_field "$WORK/backup1.json" snapshot_id)
[[ $SNAP =~ ^[0-9a-f]{64}$ ]] || fail "summary snapshot_id '$SNAP' is not 64 hex digits"
[[ $(json_field "$WORK/backup1.json" warnings) == 0 ]] || { cat "$ERR" >&2; fail "backup reported warnings"; }
[[ $(json_field "$WORK/backup1.json" files_new) -gt 0 ]] || fail "first backup has no new files"
grown=$(($(du -sb "$AZURITE_DATA" | cut -f1) - data_before))
((grown > 30 << 20)) || fail "Azurite's data grew by only $grown bytes: the backup did not go there"
log "backup summary: $(tail -n 1 "$WORK/backup1.json")"

log "check --read-data"
expect_exit 0 "$FERRY" check --read-data

log "restore, compared with every metadata field"
T=$WORK/restore
expect_exit 0 "$FERRY" restore latest --target "$T"
compare_trees "$SRC" "$T$SRC" --no-sparse
compare_trees "$SRC" "$T$SRC" --with-root --no-sparse
cmp "$SRC/files/big_30m.bin" "$T$SRC/files/big_30m.bin" || fail "the 30 MiB file differs"

log "second backup: incremental"
printf 'changed\n' >>"$SRC/files/small.txt"
head -c $((2 << 20)) /dev/urandom >"$SRC/files/new_2m.bin"
expect_exit 0 "$FERRY" backup --json "$SRC"
cp "$OUT" "$WORK/backup2.json"
[[ $(json_field "$WORK/backup2.json" files_unmodified) -gt 0 ]] || fail "second backup read everything again"
[[ $(json_field "$WORK/backup2.json" files_new) -eq 1 ]] || fail "second backup: files_new is not 1"
added=$(json_field "$WORK/backup2.json" data_added)
((added < 8 << 20)) || fail "the incremental backup added $added bytes for 2 MiB of new data"
SNAP2=$(json_field "$WORK/backup2.json" snapshot_id)

log "snapshots"
expect_exit 0 "$FERRY" snapshots --json
python3 - "$OUT" "$SNAP" "$SNAP2" <<'PY' || fail "snapshots --json is wrong: $(head -c 2000 "$OUT")"
import json, sys
out, first, second = sys.argv[1:]
snapshots = json.load(open(out))
assert [s["id"] for s in snapshots] == [first, second], [s["id"] for s in snapshots]
assert snapshots[1]["parent"] == first, snapshots[1]["parent"]
PY
T2=$WORK/restore2
expect_exit 0 "$FERRY" restore latest --target "$T2"
compare_trees "$SRC" "$T2$SRC" --with-root --no-sparse
expect_exit 0 "$FERRY" check --read-data

log "a wrong key: a quick, clear refusal that never shows the key"
WRONG_KEY=$(head -c 64 /dev/urandom | base64 -w0)
export FERRY_AZURE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$WRONG_KEY;BlobEndpoint=$AZURITE_ENDPOINT"
start=$SECONDS
expect_exit nonzero "$FERRY" snapshots
((SECONDS - start <= 10)) || fail "a wrong key took $((SECONDS - start)) s to fail (retried?)"
grep -q "connection string in FERRY_AZURE_CONNECTION_STRING" "$ERR" ||
  fail "the refusal does not name the credential: $(cat "$ERR")"
grep -q "authentication failed" "$ERR" || fail "the refusal does not say it is about authentication: $(cat "$ERR")"
! grep -qF "$WRONG_KEY" "$OUT" "$ERR" || fail "the key is in ferry's output"
log "refusal: $(head -c 400 "$ERR")"

unset FERRY_AZURE_CONNECTION_STRING
export FERRY_AZURE_ACCOUNT_KEY=$WRONG_KEY
export FERRY_REPOSITORY="azure://ferry-e2e/$PREFIX/repo?account=$AZURITE_ACCOUNT&endpoint=$AZURITE_ENDPOINT"
start=$SECONDS
expect_exit nonzero "$FERRY" backup "$SRC"
((SECONDS - start <= 10)) || fail "a wrong key took $((SECONDS - start)) s to fail (retried?)"
grep -q "the key in FERRY_AZURE_ACCOUNT_KEY" "$ERR" || fail "the refusal does not name the key: $(cat "$ERR")"
! grep -qF "$WRONG_KEY" "$OUT" "$ERR" || fail "the key is in ferry's output"

log "the right key by file works with the endpoint in the location"
unset FERRY_AZURE_ACCOUNT_KEY
printf '%s\n' "$AZURITE_KEY" >"$WORK/azure.key"
export FERRY_AZURE_ACCOUNT_KEY_FILE=$WORK/azure.key
expect_exit 0 "$FERRY" snapshots --json
[[ $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT") == 2 ]] ||
  fail "snapshots through the key file does not list both snapshots"
