#!/usr/bin/env bash
# ferry prune: after `forget --keep-last 15 --prune` of 30 snapshots every remaining snapshot
# restores byte for byte, check --read-data passes, the repository shrank by about the data
# only the forgotten snapshots had, and a second prune does nothing. A backup killed before
# its index leaves debris that prune removes; a prune killed with SIGKILL leaves a repository
# that checks clean and that the next prune finishes. On a vault the machine token cannot
# prune; the maintenance token can.
#   prune.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

SRC=$WORK/src
make_tree "$SRC" --seed 5 >/dev/null
expect_exit 0 "$FERRY" init
IDS=()
for i in $(seq 1 30); do
  # Each snapshot has 300 KiB of its own (incompressible) and changes a shared file.
  head -c $((300 * 1024)) /dev/urandom >"$SRC/files/own-$i.bin"
  rm -f "$SRC/files/own-$((i - 1)).bin"
  echo "version $i" >"$SRC/version.txt"
  expect_exit 0 "$FERRY" backup --json "$SRC"
  IDS+=("$(json_field "$OUT" snapshot_id)")
  ((i <= 15)) || cp -a "$SRC" "$WORK/state-$i"
done
size_before=$(repo_size)

log "forget --keep-last 15 --prune"
expect_exit 0 "$FERRY" forget --keep-last 15 --prune
output_mentions "remove [0-9]+ packs? .* no snapshot uses" || fail "prune did not say what it removed: $(cat "$OUT")"
output_mentions "freed" || fail "prune did not say what it freed"
size_after=$(repo_size)
freed=$((size_before - size_after))
# 15 forgotten snapshots each held 300 KiB of their own (the 15th's own file is still in the
# 16th snapshot? no: each snapshot's own file is gone in the next one).
((freed > 15 * 300 * 1024 * 9 / 10)) || fail "the repository shrank by only $freed bytes"
log "freed $freed bytes ($size_before → $size_after)"
expect_exit 0 "$FERRY" check --read-data
for i in $(seq 16 30); do
  expect_exit 0 "$FERRY" restore "${IDS[$((i - 1))]}" --target "$WORK/r-$i"
  compare_trees "$WORK/state-$i" "$WORK/r-$i$SRC" --no-sparse
  rm -rf "$WORK/r-$i"
done
log "the 15 remaining snapshots restore byte for byte"
expect_exit 0 "$FERRY" prune --json
[[ $(json_field "$OUT" packs_removed) == 0 && $(json_field "$OUT" packs_repacked) == 0 &&
   $(json_field "$OUT" packs_debris) == 0 ]] || fail "a second prune did something: $(tail -n 1 "$OUT")"

log "debris of a killed backup comes back"
snapshot_count() { "$FERRY" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
snapshots_before=$(snapshot_count)
# Large enough that the backup is still running when its first packs are stored, however
# busy the machine; the kill waits for that condition, not for a time.
head -c $((400 * 1024 * 1024)) /dev/urandom >"$WORK/big.bin"
size_before=$(repo_size)
"$FERRY" backup "$WORK/big.bin" >/dev/null 2>&1 &
pid=$!
for ((n = 0; n < 60000; n++)); do
  (($(repo_size) > size_before + 20 * 1024 * 1024)) && break
  kill -0 "$pid" 2>/dev/null || break
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
rm -f "$WORK/big.bin"
[[ $(snapshot_count) == "$snapshots_before" ]] || fail "the backup finished before it was killed"
grown=$(($(repo_size) - size_before))
((grown > 16 * 1024 * 1024)) || fail "the killed backup left only $grown bytes"
expect_exit 0 "$FERRY" unlock
expect_exit 0 "$FERRY" prune --json
# Packs written after the backup's last index object are listed by none (debris); any written
# before it are indexed but used by no snapshot. Either way they go.
(($(json_field "$OUT" packs_debris) + $(json_field "$OUT" packs_removed) > 0)) ||
  fail "prune found nothing of the killed backup: $(tail -n 1 "$OUT")"
left=$(($(repo_size) - size_before))
((left < 1024 * 1024)) || fail "after prune the killed backup still takes $left bytes"
expect_exit 0 "$FERRY" check --read-data

log "prune killed with SIGKILL, then again"
expect_exit 0 "$FERRY" forget --keep-last 3
for attempt in 1 2 3; do
  "$FERRY" prune --max-unused 0% >/dev/null 2>&1 &
  pid=$!
  sleep "0.$((attempt * 2))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  expect_exit 0 "$FERRY" unlock
  expect_exit 0 "$FERRY" check --read-data
done
expect_exit 0 "$FERRY" prune --max-unused 0%
expect_exit 0 "$FERRY" prune --json
[[ $(json_field "$OUT" packs_removed) == 0 && $(json_field "$OUT" packs_debris) == 0 ]] ||
  fail "the prune after the killed ones left work: $(tail -n 1 "$OUT")"
expect_exit 0 "$FERRY" check --read-data
expect_exit 0 "$FERRY" restore latest --target "$WORK/r-last"
compare_trees "$SRC" "$WORK/r-last$SRC" --no-sparse

log "bad options are refused, nothing removed"
expect_exit 2 "$FERRY" prune --max-unused 150%
output_mentions "percentage" || fail "--max-unused 150% not explained: $(cat "$ERR")"
expect_exit 2 "$FERRY" prune --max-repack-size 12X
output_mentions "not a size" || fail "--max-repack-size 12X not explained: $(cat "$ERR")"

log "on a vault: the machine token is refused, the maintenance token prunes"
source "$E2E/vault_lib.sh"
vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/a.json" "$WORK/a-maint.json"
unset FERRY_REPOSITORY
expect_exit 0 "$FERRY" --agent "$WORK/a.json" init
expect_exit 0 "$FERRY" --agent "$WORK/a.json" backup "$SRC"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$SRC/files/vault-only.bin"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" backup "$SRC"
expect_exit 0 "$FERRY" --agent "$WORK/a-maint.json" forget --keep-last 1
rm "$SRC/files/vault-only.bin"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" backup "$SRC"
expect_exit 0 "$FERRY" --agent "$WORK/a-maint.json" forget --keep-last 1
expect_exit nonzero "$FERRY" --agent "$WORK/a.json" prune
output_mentions "maintenance token" || fail "the refusal does not name the maintenance token: $(cat "$ERR")"
expect_exit 0 "$FERRY" --agent "$WORK/a-maint.json" prune --json
(($(json_field "$OUT" bytes_freed) > 2 * 1024 * 1024)) || fail "the vault prune freed $(json_field "$OUT" bytes_freed)"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" check --read-data
expect_exit 0 "$FERRY" --agent "$WORK/a.json" restore latest --target "$WORK/vr"
compare_trees "$SRC" "$WORK/vr$SRC"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" backup "$SRC"
exit 0
