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
# With "faults", the vault and the datacenter reach the store through tests/e2e/fault_proxy.py
# (503s, dropped connections, answers cut short, stalls): ingest, the server-side copies of
# adoption with their read-back, and cleanup must come through, and the proxy's log must show
# that faults met those requests.
#
#   seeding_object_storage.sh PATH-TO-FERRY azure|s3 [faults]
#   (FERRY_AZURITE_ENV / FERRY_S3RVER_ENV: the env file the fixture's server wrote;
#    FERRY_STORAGE_LIST: the ferry_storage_list tool, which lists a location's objects)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$1"
source "$E2E/vault_lib.sh"
KIND=${2:-}
FAULTS=${3:-}
LIST=${FERRY_STORAGE_LIST:-}
[[ -x $LIST ]] || fail "FERRY_STORAGE_LIST ('$LIST') is not the ferry_storage_list tool"
PREFIX=e2e-seed-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
# start_proxy PORT: fault_proxy.py in front of 127.0.0.1:PORT; sets PROXY (host:port).
start_proxy() {
  bg_start PROXY_PID python3 "$E2E/fault_proxy.py" --listen-port-file "$WORK/proxy.port" \
    --upstream "$1" --seed 5 --rate-5xx 0.08 --rate-drop 0.06 --rate-truncate 0.08 \
    --rate-stall 0.03 --stall-seconds 2 --log "$WORK/proxy.log" \
    --force '5xx:^PUT \S*/accounts/' --force 'drop:^PUT \S*/repositories/\S*/data/' \
    --force 'truncate:^GET \S*/repositories/\S*/data/' --force 'drop:^DELETE \S*/accounts/'
  local i
  for ((i = 0; i < 300; i++)); do
    [[ -s $WORK/proxy.port ]] && break
    kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy exited: $(cat "$WORK/bg.err")"
    sleep 0.1
  done
  [[ -s $WORK/proxy.port ]] || fail "the proxy did not start"
  PROXY=127.0.0.1:$(cat "$WORK/proxy.port")
}
case $KIND in
  azure)
    [[ -f ${FERRY_AZURITE_ENV:-} ]] || fail "no Azurite: run through ctest (fixture azurite)"
    source "$FERRY_AZURITE_ENV"
    STORE="azure://ferry-e2e/$PREFIX?account=$AZURITE_ACCOUNT"
    if [[ $FAULTS == faults ]]; then
      [[ $AZURITE_ENDPOINT =~ ^http://127\.0\.0\.1:([0-9]+)/ ]] || fail "no port in $AZURITE_ENDPOINT"
      start_proxy "${BASH_REMATCH[1]}"
      export FERRY_AZURE_ACCOUNT_KEY=$AZURITE_KEY
      STORE="$STORE&endpoint=http://$PROXY/$AZURITE_ACCOUNT"
    else
      export FERRY_AZURE_CONNECTION_STRING=$AZURITE_CONNECTION_STRING
    fi
    SECRET=$AZURITE_KEY
    ;;
  s3)
    [[ -f ${FERRY_S3RVER_ENV:-} ]] || fail "no s3rver: run through ctest (fixture s3rver)"
    source "$FERRY_S3RVER_ENV"
    export FERRY_S3_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID FERRY_S3_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
    ENDPOINT=$S3_ENDPOINT
    if [[ $FAULTS == faults ]]; then
      [[ $S3_ENDPOINT =~ ^http://127\.0\.0\.1:([0-9]+)$ ]] || fail "no port in $S3_ENDPOINT"
      start_proxy "${BASH_REMATCH[1]}"
      ENDPOINT=http://$PROXY
    fi
    STORE="s3://$S3_BUCKET/$PREFIX?endpoint=$ENDPOINT&region=$S3_REGION"
    SECRET=""   # s3rver's fixed pair is no secret worth looking for
    ;;
  *) fail "usage: $0 PATH-TO-FERRY azure|s3 [faults]" ;;
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
if [[ $FAULTS == faults ]]; then
  log "faults injected (proxy log: decision method path status [how])"
  for kind in 5xx drop truncate; do
    n=$(grep -c "^$kind " "$WORK/proxy.log" || true)
    log "  $kind: $n"
    ((n > 0)) || soft_fail "the proxy injected no '$kind' fault"
  done
  # Ingest's uploads into the container, adoption's copies and read-backs, cleanup's deletes.
  for what in "5xx PUT \S*/accounts/" "drop PUT \S*/repositories/\S*/data/" \
    "truncate GET \S*/repositories/\S*/data/" "drop DELETE \S*/accounts/"; do
    n=$(grep -cE "^$what" "$WORK/proxy.log" || true)
    log "  $what: $n"
    ((n > 0)) || soft_fail "no request met '$what'"
  done
fi
assert_no_tokens_in_log
log "ok"
