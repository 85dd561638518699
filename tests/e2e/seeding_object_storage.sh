#!/usr/bin/env bash
# The offline-seeding workflow with the vault's storage in an object store: the machines'
# repositories and the storage accounts (the import containers the datacenter fills) both
# live below `ferry serve --storage LOCATION` on Azure Blob (Azurite) or S3 (s3rver), and
# the vault's data directory holds only its state.
#   offline backup → diskprep (two disks) → ship → datacenter ingest into the job's
#   container, where the import service says it is (no --storage-root) → the next backup
#   adopts (server-side copies, each read back and verified) → check --read-data,
#   restore byte-identical with staging gone → seed cleanup empties the container.
#
#   seeding_object_storage.sh PATH-TO-FERRY azure|s3
#   (FERRY_AZURITE_ENV / FERRY_S3RVER_ENV: the env file the fixture's server wrote;
#    FERRY_STORAGE_LIST: the ferry_storage_list tool, which lists a location's objects)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$1"
source "$E2E/vault_lib.sh"
KIND=${2:-}
LIST=${FERRY_STORAGE_LIST:-}
[[ -x $LIST ]] || fail "FERRY_STORAGE_LIST ('$LIST') is not the ferry_storage_list tool"
PREFIX=e2e-seed-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
case $KIND in
  azure)
    [[ -f ${FERRY_AZURITE_ENV:-} ]] || fail "no Azurite: run through ctest (fixture azurite)"
    source "$FERRY_AZURITE_ENV"
    export FERRY_AZURE_CONNECTION_STRING=$AZURITE_CONNECTION_STRING
    STORE="azure://ferry-e2e/$PREFIX?account=$AZURITE_ACCOUNT"
    SECRET=$AZURITE_KEY
    ;;
  s3)
    [[ -f ${FERRY_S3RVER_ENV:-} ]] || fail "no s3rver: run through ctest (fixture s3rver)"
    source "$FERRY_S3RVER_ENV"
    export FERRY_S3_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID FERRY_S3_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
    STORE="s3://$S3_BUCKET/$PREFIX?endpoint=$S3_ENDPOINT&region=$S3_REGION"
    SECRET=""   # s3rver's fixed pair is no secret worth looking for
    ;;
  *) fail "usage: $0 PATH-TO-FERRY azure|s3" ;;
esac
# child LOCATION RELATIVE: RELATIVE below a storage location, before its query.
child() { local head=${1%%\?*} tail=""; [[ $1 == *\?* ]] && tail="?${1#*\?}"; echo "$head/$2$tail"; }
count_objects() { "$LIST" "$1" data | wc -l; }

SRC=$WORK/src
make_tree "$SRC" --bulk-big 3 --bulk-big-mib 8 >/dev/null
VAULT_SERVE_ARGS=(--storage "$STORE")
vault_start_server
vault_setup prod
OPERATOR=$WORK/operator.token
expect_exit 0 "$FERRY" datacenter operator-token --out "$OPERATOR"
export FERRY_SIGNING_KEY=$WORK/signing-key.json
AGENT=$WORK/m1.json
vault_register prod m1 "$AGENT"
expect_exit 0 "$FERRY" --agent "$AGENT" init
REPO=$(child "$STORE" repositories/prod/m1)
CONTAINER=$(child "$STORE" accounts/acct1/seeding)
[[ $("$LIST" "$REPO" keys | wc -l) -eq 1 ]] || fail "init did not write the key to $REPO"

log "offline backup, diskprep, ship"
expect_exit 0 "$FERRY" --agent "$AGENT" --json backup "$SRC" --offline --staging "$WORK/staging" \
  --job seed-obj --storage-account acct1 --container seeding
staged=$(find "$WORK/staging/data" -type f | wc -l)
((staged >= 2)) || fail "only $staged packs staged"
mkdir -p "$WORK/d1" "$WORK/d2"
expect_exit 0 "$FERRY" --agent "$AGENT" diskprep --staging "$WORK/staging" \
  --disk "$WORK/d1" --disk "$WORK/d2" --max-per-disk 25M
expect_exit 0 "$FERRY" --agent "$AGENT" job ship seed-obj --carrier DHL --tracking TRK-OBJ \
  --return-address "1 Test Street"
[[ $(count_objects "$CONTAINER") -eq 0 ]] || fail "the container holds packs before ingest"

log "datacenter ingest into $CONTAINER (where the import service keeps it)"
expect_exit 0 "$FERRY" --json datacenter ingest seed-obj --disk "$WORK/d1" --disk "$WORK/d2" \
  --operator-token-file "$OPERATOR"
[[ $(json_field "$OUT" job_state) == Completed ]] || fail "ingest: job is $(json_field "$OUT" job_state)"
[[ $(json_field "$OUT" container) == "$CONTAINER" ]] ||
  fail "ingest wrote to $(json_field "$OUT" container), not $CONTAINER"
[[ $(count_objects "$CONTAINER") -eq $staged ]] ||
  fail "the container holds $(count_objects "$CONTAINER") packs, $staged were staged"
# Again: everything is present, nothing is copied twice.
expect_exit 0 "$FERRY" --json datacenter ingest seed-obj --disk "$WORK/d1" --disk "$WORK/d2" \
  --operator-token-file "$OPERATOR"
[[ $(json_field "$OUT" bytes_copied) == 0 ]] || fail "a second ingest copied again"
[[ ! -e $VDATA/storage && ! -e $VDATA/repositories ]] ||
  fail "the vault wrote data into its data directory: $(ls "$VDATA")"

log "the next backup adopts the seed"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$SRC/bulk/after-adoption.bin"
expect_exit 0 "$FERRY" --agent "$AGENT" --json backup "$SRC"
grep '"message_type":"seed_adoption"' "$OUT" >"$WORK/adoption.json" || fail "backup did not adopt the seed"
[[ $(json_field "$WORK/adoption.json" complete) == true ]] || fail "adoption left packs missing: $(cat "$WORK/adoption.json")"
[[ $(json_field "$WORK/adoption.json" packs_from_container) == "$staged" ]] ||
  fail "not every pack came from the container: $(cat "$WORK/adoption.json")"
grep -q "seed seed-obj of prod/m1 adopted: $staged pack(s) from the container, $staged of them copied server-side" "$VLOG" ||
  fail "the vault did not copy the packs server-side: $(grep 'seed seed-obj' "$VLOG")"
expect_exit 0 "$FERRY" --agent "$AGENT" check --read-data
mv "$WORK/staging" "$WORK/staging-moved"
expect_exit 0 "$FERRY" --agent "$AGENT" restore latest --target "$WORK/restore"
compare_trees "$SRC" "$WORK/restore$SRC"
mv "$WORK/staging-moved" "$WORK/staging"

log "seed cleanup empties the container"
expect_exit 0 "$FERRY" --agent "$AGENT" seed cleanup seed-obj
[[ ! -e $WORK/staging ]] || fail "seed cleanup left the staging directory"
[[ $(count_objects "$CONTAINER") -eq 0 ]] || fail "seed cleanup left packs in $CONTAINER"
expect_exit 0 "$FERRY" --agent "$AGENT" check --read-data
if [[ -n $SECRET ]] && grep -rqF -- "$SECRET" "$VLOG" "$WORK/server.out" "$OUT" "$ERR"; then
  fail "the storage credential appears in a log or an output"
fi
assert_no_tokens_in_log
log "ok"
