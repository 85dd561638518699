#!/usr/bin/env bash
# A repository on Azure Blob (Azurite) reached through tests/e2e/fault_proxy.py, which injects
# 503 answers, dropped connections (after Azurite did the work), answers cut short (in
# mid-body, chunked ones included; a bodiless answer in mid-head) and stalls between ferry and
# the storage account: Azurite itself ignores fault-injection headers. The repository
# location's endpoint= points at the proxy. Retries must carry init, a backup of every file
# kind plus a 24 MiB file, a restore and check --read-data through; the restore is compared
# field by field with the source, and what the faults let through is a sound repository when
# read directly, without the proxy. A backup puts each pack whole (Put Blob); the vault
# streams what machines upload into its storage in blocks (Put Block, Put Block List), so a
# vault whose repositories are on Azure behind the same proxy takes a second backup of the
# tree, restored and checked the same way. The faults really happened: the proxy's log counts
# each kind, and the test fails if any kind, or a fault aimed at a request that matters, is
# missing.
# (A wrong account key is azure_repository.sh's: a quick refusal naming the credential.)
#   azure_faults.sh PATH-TO-FERRY   (FERRY_AZURITE_ENV: the env file azurite.sh wrote)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

ENV_FILE=${FERRY_AZURITE_ENV:-}
[[ -n $ENV_FILE && -f $ENV_FILE ]] ||
  fail "no Azurite: '$ENV_FILE' is missing. Run this through ctest (the azurite fixture starts it)" \
    "or start one: tests/servers/azurite.sh start DIR and set FERRY_AZURITE_ENV=DIR/env"
source "$ENV_FILE"
[[ $AZURITE_ENDPOINT =~ ^http://127\.0\.0\.1:([0-9]+)/ ]] ||
  fail "cannot find Azurite's port in its endpoint '$AZURITE_ENDPOINT'"
AZURITE_PORT=${BASH_REMATCH[1]}

log "start the proxy in front of Azurite (port $AZURITE_PORT)"
# Stalls of 2 s stay below the transport's stall timeout: the request waits, then goes on.
# Besides the seeded draw, each --force makes sure a kind of fault meets a request that
# matters: a block's upload, the commit of a block list and a write-once lock whose answers
# are lost (the retry finds the work done), a HEAD cut in its headers, a chunked listing and
# a pack being read cut in mid-body, a snapshot read that stalls.
bg_start PROXY_PID python3 "$E2E/fault_proxy.py" --listen-port-file "$WORK/proxy.port" \
  --upstream "$AZURITE_PORT" --seed 11 --rate-5xx 0.08 --rate-drop 0.06 --rate-truncate 0.08 \
  --rate-stall 0.04 --stall-seconds 2 --log "$WORK/proxy.log" \
  --force '5xx:^PUT \S*comp=block&' --force 'drop:^PUT \S*comp=blocklist' \
  --force 'drop:^PUT \S*/locks/' --force 'truncate:^HEAD ' \
  --force 'truncate:^GET \S*comp=list' --force 'truncate:^GET \S*/data/' \
  --force 'stall:^GET \S*/snapshots/'
for ((i = 0; i < 300; i++)); do
  [[ -s $WORK/proxy.port ]] && break
  kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy exited: $(cat "$WORK/bg.err")"
  sleep 0.1
done
[[ -s $WORK/proxy.port ]] || fail "the proxy did not start"
PROXY_ENDPOINT=http://127.0.0.1:$(cat "$WORK/proxy.port")/$AZURITE_ACCOUNT

export FERRY_AZURE_ACCOUNT_KEY=$AZURITE_KEY
# A prefix of its own per run: the container is shared with the other tests of the fixture.
PREFIX=e2e-faults-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
LOCATION="azure://ferry-e2e/$PREFIX/repo?account=$AZURITE_ACCOUNT"
export FERRY_REPOSITORY="$LOCATION&endpoint=$PROXY_ENDPOINT"
DIRECT_REPOSITORY="$LOCATION&endpoint=$AZURITE_ENDPOINT"

SRC=$WORK/src
make_tree "$SRC" --seed 37 --bulk-big 2 --bulk-big-mib 6 --bulk-small 60 --bulk-small-max-kib 32 >/dev/null
# Larger than a block (8 MiB) and than a pack: Put Block and Put Block List get faults too.
head -c $((24 << 20)) /dev/urandom >"$SRC/files/big_24m.bin"

log "init, backup, restore and check --read-data through the faults"
expect_exit 0 "$FERRY" init
expect_exit 0 "$FERRY" backup --json "$SRC"
[[ $(json_field "$OUT" warnings) == 0 ]] || { cat "$ERR" >&2; fail "the backup reported warnings"; }
T=$WORK/restore
expect_exit 0 "$FERRY" restore latest --target "$T"
compare_trees "$SRC" "$T$SRC" --with-root --no-sparse
cmp "$SRC/files/big_24m.bin" "$T$SRC/files/big_24m.bin" || fail "the 24 MiB file differs"
expect_exit 0 "$FERRY" check --read-data

log "and directly, without the proxy: what the faults let through is a sound repository"
FERRY_REPOSITORY=$DIRECT_REPOSITORY expect_exit 0 "$FERRY" check --read-data

log "a vault with its repositories on Azure, through the proxy: packs go up in blocks"
source "$E2E/vault_lib.sh"  # (unsets FERRY_REPOSITORY: the agent file names the repository)
VAULT_SERVE_ARGS=(--storage "azure://ferry-e2e/$PREFIX/vault?account=$AZURITE_ACCOUNT&endpoint=$PROXY_ENDPOINT")
vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/agent.json"
expect_exit 0 "$FERRY" --agent "$WORK/agent.json" init
expect_exit 0 "$FERRY" --agent "$WORK/agent.json" backup "$SRC"
T2=$WORK/restore-vault
expect_exit 0 "$FERRY" --agent "$WORK/agent.json" restore latest --target "$T2"
compare_trees "$SRC" "$T2$SRC" --with-root --no-sparse
expect_exit 0 "$FERRY" --agent "$WORK/agent.json" check --read-data
blocks=$(grep -c "^[a-z0-9]* PUT \S*/$PREFIX/vault/\S*comp=block&" "$WORK/proxy.log" || true)
((blocks > 0)) || fail "the vault uploaded no blocks to Azure: the block path went untested"
log "  the vault's block uploads: $blocks"

log "faults injected (proxy log: decision method path status [how])"
for kind in 5xx drop truncate stall; do
  n=$(grep -c "^$kind " "$WORK/proxy.log" || true)
  log "  $kind: $n"
  ((n > 0)) || soft_fail "the proxy injected no '$kind' fault: the test proves nothing about it"
done
# The faults that matter most met their requests: answers cut in mid-body (a pack being
# read; a chunked listing: Azurite answers listings and errors chunked) and in mid-head (a
# HEAD, which libcurl would otherwise take for a complete answer), and lost answers to the
# commit of a block list and to a write-once lock (the retry finds the work done).
for what in "truncate GET .* cut-body" "truncate .* cut-body chunked" "truncate HEAD .* cut-head" \
  "drop PUT .*comp=blocklist" "drop PUT .*/locks/"; do
  n=$(grep -c "^$what" "$WORK/proxy.log" || true)
  log "  $what: $n"
  ((n > 0)) || soft_fail "no request met '$what'"
done
log "  requests: $(wc -l <"$WORK/proxy.log")"
