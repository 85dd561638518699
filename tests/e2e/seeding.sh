#!/usr/bin/env bash
# The whole offline-seeding workflow (DESIGN.md steps 3-8) with the real binary,
# a real vault on loopback, and directories standing in for disks:
#   backup --offline → restore while awaiting → diskprep (two disks) → job ship →
#   incremental while in transit → datacenter ingest → backup adopts → check,
#   restore, incremental → seed cleanup.
# Then a lost disk plus a flipped bit: ingest reports both, adoption repairs from
# staging; and again with staging deleted: repaired by re-reading the source.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

SRC=$WORK/src
make_tree "$SRC" --bulk-big 4 --bulk-big-mib 8 >/dev/null
# The default tree holds devices and files owned by others: restore compares all.
# The storage accounts live outside the vault's data directory (serve --storage-root):
# adoption must read the container where ingest wrote it.
STORAGE=$WORK/accounts
VAULT_SERVE_ARGS=(--storage-root "$STORAGE")
vault_start_server
vault_setup prod
OPERATOR=$WORK/operator.token
expect_exit 0 "$FERRY" datacenter operator-token --out "$OPERATOR"
export FERRY_SIGNING_KEY=$WORK/signing-key.json

# json_of FILE: the last JSON line of FILE as a Python expression's input.
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
last_json() { grep '^{' "$1" | tail -n 1 >"$WORK/last.json"; echo "$WORK/last.json"; }

# seed_machine NAME JOB: registers NAME, makes an offline backup of $SRC to
# $WORK/NAME-staging for JOB and prepares two disks $WORK/NAME-d1, -d2.
seed_machine() {
  local name=$1 job=$2
  local agent=$WORK/$name.json staging=$WORK/$name-staging
  vault_register prod "$name" "$agent"
  expect_exit 0 "$FERRY" --agent "$agent" init
  expect_exit 0 "$FERRY" --agent "$agent" --json backup "$SRC" --offline --staging "$staging" \
    --job "$job" --storage-account acct1 --container seeding
  local summary staged sent
  summary=$(last_json "$OUT")
  staged=$(py "$summary" 'd["staged_bytes"]')
  sent=$(py "$summary" 'd["bytes_sent"]')
  ((staged > 30 * 1024 * 1024)) || fail "$name: only $staged bytes staged"
  # Only metadata crosses the network: trees, index, snapshot, the seed's pack list.
  ((sent < staged / 20)) || fail "$name: offline backup sent $sent bytes for $staged staged"
  log "$name: staged $staged bytes, sent $sent over the network"
  mkdir -p "$WORK/$name-d1" "$WORK/$name-d2"
  expect_exit 0 "$FERRY" --agent "$agent" --json diskprep --staging "$staging" \
    --disk "$WORK/$name-d1" --disk "$WORK/$name-d2" --max-per-disk 25M
  [[ -n $(find "$WORK/$name-d2/data" -type f) ]] || fail "$name: the second disk stayed empty"
  expect_exit 0 "$FERRY" --agent "$agent" job ship "$job" --carrier DHL \
    --tracking "TRK-$job" --return-address "1 Test Street"
}

drive_id() { py "$1/ferry-disk.json" 'd["drive_id"]'; }
job_json() { "$FERRY" --agent "$1" --json job show "$2" >"$WORK/job.json"; echo "$WORK/job.json"; }
drive_field() {  # JOBJSON DRIVE FIELD
  python3 -c "import json,sys; j=json.load(open(sys.argv[1]))
print(json.dumps([d for d in j['drives'] if d['drive_id']==sys.argv[2]][0][sys.argv[3]]))" "$1" "$2" "$3"
}

log "1. the whole workflow"
seed_machine m1 seed-nov
A1=$WORK/m1.json
expect_exit 0 "$FERRY" --agent "$A1" snapshots
output_mentions "awaiting seed seed-nov" || fail "the offline snapshot is not listed as awaiting"
expect_exit 0 "$FERRY" --agent "$A1" restore latest --target "$WORK/restore-awaiting"
compare_trees "$SRC" "$WORK/restore-awaiting$SRC"
log "restore while awaiting the seed reads from the vault plus staging"

# While the disks travel: change some data; only that goes over the network.
head -c $((3 * 1024 * 1024)) /dev/urandom >"$SRC/bulk/new-while-travelling.bin"
expect_exit 0 "$FERRY" --agent "$A1" --json backup "$SRC"
sent=$(py "$(last_json "$OUT")" 'd["bytes_sent"]')
((sent > 3 * 1024 * 1024 && sent < 5 * 1024 * 1024)) ||
  fail "incremental in transit sent $sent bytes for 3 MiB of new data"
output_mentions "travel on disks|seed_travelling" || fail "backup did not say the seed is still travelling"
log "incremental while in transit sent $sent bytes"

expect_exit 0 "$FERRY" --json datacenter ingest seed-nov --disk "$WORK/m1-d1" --disk "$WORK/m1-d2" \
  --operator-token-file "$OPERATOR" --storage-root "$STORAGE"
job=$(job_json "$A1" seed-nov)
[[ $(py "$job" 'd["state"]') == Completed ]] || fail "job seed-nov is $(py "$job" 'd["state"]')"
for disk in m1-d1 m1-d2; do
  [[ $(drive_field "$job" "$(drive_id "$WORK/$disk")" state) == '"Completed"' ]] ||
    fail "drive of $disk is $(drive_field "$job" "$(drive_id "$WORK/$disk")" state)"
done

# The next backup adopts the seed, then is incremental.
head -c $((2 * 1024 * 1024)) /dev/urandom >"$SRC/bulk/after-adoption.bin"
expect_exit 0 "$FERRY" --agent "$A1" --json backup "$SRC"
grep '"message_type":"seed_adoption"' "$OUT" >"$WORK/adoption.json" || fail "backup did not adopt the seed"
[[ $(py "$WORK/adoption.json" 'd["complete"]') == True ]] || fail "adoption left packs missing"
(($(py "$WORK/adoption.json" 'd["packs_from_container"]') == $(py "$WORK/adoption.json" 'd["packs"]'))) ||
  fail "not every pack came from the container: $(cat "$WORK/adoption.json")"
sent=$(py "$(last_json "$OUT")" 'd["bytes_sent"]')
((sent > 2 * 1024 * 1024 && sent < 3 * 1024 * 1024)) ||
  fail "the backup after adoption sent $sent bytes for 2 MiB of new data"
log "adopting backup: every pack from the container; $sent bytes sent for 2 MiB new"
expect_exit 0 "$FERRY" --agent "$A1" check --read-data
rm -rf "$WORK/m1-staging-moved" && mv "$WORK/m1-staging" "$WORK/m1-staging-moved"
expect_exit 0 "$FERRY" --agent "$A1" restore latest --target "$WORK/restore-adopted"
compare_trees "$SRC" "$WORK/restore-adopted$SRC"
mv "$WORK/m1-staging-moved" "$WORK/m1-staging"
log "after adoption the vault alone restores byte-identically"
expect_exit 0 "$FERRY" --agent "$A1" --json seed status seed-nov
[[ $(py "$(last_json "$OUT")" 'd["complete"]') == True ]] || fail "seed-nov not complete"
# Without a job: every seed of the machine, one JSON line each.
expect_exit 0 "$FERRY" --agent "$A1" --json seed status
[[ $(grep -c '^{' "$OUT") -eq 1 && $(py "$(last_json "$OUT")" 'd["job"]') == seed-nov ]] ||
  fail "seed status without a job: $(head -c 600 "$OUT")"
expect_exit 0 "$FERRY" --agent "$A1" seed status
grep -q '^seed seed-nov: .*complete' "$OUT" || fail "seed status (human): $(head -c 600 "$OUT")"
expect_exit 0 "$FERRY" --agent "$A1" seed cleanup seed-nov
[[ ! -e $WORK/m1-staging ]] || fail "seed cleanup left the staging directory"
[[ -z $(find "$STORAGE/acct1/seeding/data" -type f 2>/dev/null) ]] ||
  fail "seed cleanup left packs in the container"
expect_exit 0 "$FERRY" --agent "$A1" check --read-data

log "2. a lost disk and a flipped bit, repaired from staging"
seed_machine m2 seed-lost
A2=$WORK/m2.json
# Flip a bit on the disk with more packs (a disk whose only pack is bad is Failed,
# not CompletedMoreInfo) and "lose" the other one.
n1=$(find "$WORK/m2-d1/data" -type f | wc -l)
n2=$(find "$WORK/m2-d2/data" -type f | wc -l)
if ((n1 >= n2)); then kept=m2-d1 lost=m2-d2; else kept=m2-d2 lost=m2-d1; fi
(($(find "$WORK/$kept/data" -type f | wc -l) >= 2)) || fail "no disk of m2 holds two packs"
victim=$(find "$WORK/$kept/data" -type f | sort | head -n 1)
python3 - "$victim" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4096); b = f.read(1); f.seek(4096); f.write(bytes([b[0] ^ 0x04]))
PY
expect_exit 3 "$FERRY" datacenter ingest seed-lost --disk "$WORK/$kept" \
  --operator-token-file "$OPERATOR" --storage-root "$STORAGE"
output_mentions "$(basename "$victim")" || fail "ingest did not name the corrupt pack"
job=$(job_json "$A2" seed-lost)
d1=$(drive_id "$WORK/$kept")
d2=$(drive_id "$WORK/$lost")
[[ $(drive_field "$job" "$d1" state) == '"CompletedMoreInfo"' ]] || fail "drive with the flipped bit: $(drive_field "$job" "$d1" state)"
drive_field "$job" "$d1" corrupt | grep -q "$(basename "$victim")" || fail "corrupt list lacks the pack"
[[ $(drive_field "$job" "$d2" state) == '"NeverReceived"' ]] || fail "lost drive: $(drive_field "$job" "$d2" state)"
expect_exit nonzero "$FERRY" --agent "$A2" seed cleanup seed-lost
output_mentions "adopt it first" || fail "cleanup before adoption was not refused clearly"
[[ -d $WORK/m2-staging/data ]] || fail "a refused cleanup deleted staging"
expect_exit 0 "$FERRY" --agent "$A2" backup "$SRC"
output_mentions "re-sent from staging" || fail "adoption did not repair from staging"
output_mentions "the vault now holds every pack" || fail "repair from staging incomplete"
expect_exit 0 "$FERRY" --agent "$A2" check --read-data

log "3. the same with staging deleted: rebuilt from the source files"
seed_machine m3 seed-gone
A3=$WORK/m3.json
expect_exit 0 "$FERRY" datacenter ingest seed-gone --disk "$WORK/m3-d1" \
  --operator-token-file "$OPERATOR" --storage-root "$STORAGE"
rm -rf "$WORK/m3-staging"
# A vault stopped mid-adoption leaves the seed "adopting" with no thread at
# work: it must say "interrupted", and the agent must have it resume.
vault_kill_server TERM
python3 - "$VDATA/vault.db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for rowid, doc in db.execute("SELECT rowid, document FROM seeds WHERE job = 'seed-gone'").fetchall():
    d = json.loads(doc)
    d["state"] = "adopting"
    db.execute("UPDATE seeds SET document = ? WHERE rowid = ?", (json.dumps(d), rowid))
db.commit()
PY
vault_start_server
expect_exit 0 "$FERRY" --agent "$A3" --json seed status seed-gone
[[ $(py "$(last_json "$OUT")" 'd["state"]') == interrupted ]] || fail "a cut-off adoption is not shown as interrupted"
expect_exit 0 "$FERRY" --agent "$A3" seed adopt seed-gone
output_mentions "rebuilt from the source files" || fail "adoption did not rebuild from the source"
output_mentions "the vault now holds every pack" || fail "rebuild from the source incomplete"
expect_exit 0 "$FERRY" --agent "$A3" seed adopt seed-gone   # again: nothing left to do
output_mentions "the vault now holds every pack" || fail "a second adoption did not finish"
expect_exit 0 "$FERRY" --agent "$A3" check --read-data
expect_exit 0 "$FERRY" --agent "$A3" restore latest --target "$WORK/restore-rebuilt"
compare_trees "$SRC" "$WORK/restore-rebuilt$SRC"
assert_no_tokens_in_log
log "ok"
