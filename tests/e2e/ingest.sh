#!/usr/bin/env bash
# Datacenter ingest (`ferry datacenter ingest`) against a real `ferry serve`:
# disks prepared by `ferry diskprep` from fabricated staging directories, a
# shipped job, an operator token. Covers: two good disks → Completed and a
# byte-identical container; a flipped bit, an edited manifest and a lost disk
# reported precisely (corrupt list, Failed, NeverReceived); kill -9 mid-ingest
# and a re-run that completes; a machine token is refused; a job name another
# machine uses too is given as VAULT:MACHINE:NAME.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

vault_start_server
vault_setup prod
vault_register prod m1 "$WORK/m1.json"
note_token_file "$WORK/m1.json"
STORAGE=$VDATA/storage   # the server's storage root: where adoption looks for containers

# The admin issues an operator token (mode 0600).
expect_exit 0 "$FERRY" datacenter operator-token --out "$WORK/operator.token"
[[ $(stat -c %a "$WORK/operator.token") == 600 ]] || fail "operator token file is not mode 600"
export FERRY_OPERATOR_TOKEN_FILE=$WORK/operator.token FERRY_STORAGE_ROOT=$STORAGE
source "$E2E/seed_lib.sh"

# same_packs STAGING CONTAINER: every staged pack is in the container, byte for byte.
same_packs() {
  local f rel n=0
  while IFS= read -r f; do
    rel=${f#"$1"/}
    cmp -s "$f" "$2/$rel" || fail "pack $rel differs from staging or is absent in $2"
    n=$((n + 1))
  done < <(find "$1/data" -type f)
  [[ $n -gt 0 ]] || fail "no packs in $1"
  local c
  c=$(find "$2/data" -type f -name '????????????????????????????????????????????????????????????????' | wc -l)
  [[ $c -eq $n ]] || fail "container $2 holds $c files, staging $n"
}

log "a machine token is refused; no token is an error that says what to do"
make_staging "$WORK/staging-seed-a" seed-a 12 200 1500
prepare seed-a 8M "$WORK/a1" "$WORK/a2"
[[ $(job_state seed-a) == Shipping ]] || fail "seed-a is not Shipping after ship"
FERRY_OPERATOR_TOKEN=$(token_of "$WORK/m1.json") FERRY_OPERATOR_TOKEN_FILE= \
  expect_exit 1 "$FERRY" datacenter ingest seed-a --disk "$WORK/a1" --disk "$WORK/a2"
grep -qi "datacenter" "$ERR" || fail "machine-token refusal does not say why: $(cat "$ERR")"
[[ $(job_state seed-a) == Shipping ]] || fail "a refused ingest changed the job"
FERRY_OPERATOR_TOKEN_FILE= expect_exit 1 "$FERRY" datacenter ingest seed-a --disk "$WORK/a1"
grep -q "operator-token" "$ERR" || fail "missing token error does not name the fix: $(cat "$ERR")"

log "another machine's job of the same name: the operator names the job VAULT:MACHINE:NAME"
vault_register prod m2 "$WORK/m2.json"
key=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
expect_exit 0 "$FERRY" --agent "$WORK/m2.json" job create seed-a --storage-account acct \
  --container other --public-key "$key" --drive m2d1
expect_exit 1 "$FERRY" datacenter ingest seed-a --disk "$WORK/a1" --disk "$WORK/a2"
grep -q "prod:m1:seed-a" "$ERR" && grep -q "prod:m2:seed-a" "$ERR" ||
  fail "an ambiguous job name does not list the jobs: $(cat "$ERR")"
[[ $(job_state seed-a) == Shipping ]] || fail "a refused ingest changed the job"

log "two good disks → Completed, container byte-identical to staging"
# Every request of the ingest (job, state, drives) goes to m1's job by its id, never by the
# name that is ambiguous now.
log_lines=$(wc -l <"$VLOG")
expect_exit 0 "$FERRY" datacenter ingest prod:m1:seed-a --disk "$WORK/a1" --disk "$WORK/a2"
tail -n +$((log_lines + 1)) "$VLOG" | grep -E '/import/v1/jobs/seed-a/' &&
  fail "ingest addressed the job by its ambiguous name (lines above)"
grep -q "Completed" "$OUT" || fail "ingest output lacks the drive states: $(cat "$OUT")"
[[ $(job_state seed-a) == Completed ]] || fail "seed-a is $(job_state seed-a), not Completed"
for d in a1 a2; do
  id=$(drive_id_of "$WORK/$d")
  [[ $(drive_field seed-a "$id" state) == Completed ]] || fail "drive $id of seed-a not Completed"
  [[ $(drive_field seed-a "$id" percent_complete) == 100 ]] || fail "drive $id not at 100%"
done
same_packs "$WORK/staging-seed-a" "$STORAGE/acct/box-seed-a"
job_json seed-a | grep -q "package received with 2 drives" || fail "no 'package received' event"
# A re-run changes nothing and still succeeds.
expect_exit 0 "$FERRY" --json datacenter ingest prod:m1:seed-a --disk "$WORK/a1" --disk "$WORK/a2"
[[ $(json_field "$OUT" bytes_copied) == 0 ]] || fail "a re-run of a finished job copied again"


log "flipped bit, edited manifest, lost disk: CompletedMoreInfo, Failed, NeverReceived"
make_staging "$WORK/staging-seed-b" seed-b 15 200 1200
prepare seed-b 6M "$WORK/b1" "$WORK/b2" "$WORK/b3"
[[ -f $WORK/b3/ferry-manifest.json ]] || fail "diskprep did not use the third disk"
victim=$(first_pack "$WORK/b1")
victim_id=$(basename "$victim")
python3 - "$victim" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x04
open(p, "wb").write(b)
PY
python3 - "$WORK/b2/ferry-manifest.json" <<'PY'
import sys
p = sys.argv[1]
text = open(p).read()
import re
ids = re.findall(r'"id": ?"([0-9a-f]{64})"', text)
assert len(ids) >= 2, ids
text = text.replace(ids[0], "X" * 64).replace(ids[1], ids[0]).replace("X" * 64, ids[1])
open(p, "w").write(text)
PY
echo "left behind" >"$WORK/b1/notes.txt"
expect_exit 3 "$FERRY" --json datacenter ingest seed-b --disk "$WORK/b1" --disk "$WORK/b2"
b1=$(drive_id_of "$WORK/b1")
b2=$(drive_id_of "$WORK/b2")
b3=$(drive_id_of "$WORK/b3")
[[ $(drive_field seed-b "$b1" state) == CompletedMoreInfo ]] || fail "b1 not CompletedMoreInfo"
[[ $(drive_field seed-b "$b1" corrupt) == "[\"$victim_id\"]" ]] ||
  fail "b1 corrupt list is $(drive_field seed-b "$b1" corrupt), expected [$victim_id]"
[[ $(drive_field seed-b "$b1" missing) == "[]" ]] || fail "b1 has missing files"
[[ $(drive_field seed-b "$b1" unexpected) == '["notes.txt"]' ]] ||
  fail "b1 unexpected list is $(drive_field seed-b "$b1" unexpected)"
[[ ! -e $STORAGE/acct/box-seed-b/data/${victim_id:0:2}/$victim_id ]] ||
  fail "the corrupt pack was copied into the container"
[[ $(drive_field seed-b "$b2" state) == Failed ]] || fail "b2 (edited manifest) is not Failed"
drive_field seed-b "$b2" reason | grep -q "signature does not match" ||
  fail "b2's reason does not name the signature: $(drive_field seed-b "$b2" reason)"
while IFS= read -r f; do
  [[ ! -e $STORAGE/acct/box-seed-b/data/$(basename "$(dirname "$f")")/$(basename "$f") ]] ||
    fail "a pack of the Failed drive b2 was copied"
done < <(find "$WORK/b2/data" -type f)
[[ $(drive_field seed-b "$b3" state) == NeverReceived ]] || fail "the lost disk is not NeverReceived"
[[ $(job_state seed-b) == Completed ]] || fail "seed-b is not Completed once every drive is final"
grep -q "$victim_id" "$OUT" || fail "--json summary lacks the corrupt pack"
# The lost disk turns up: it is still ingested though the job is Completed.
expect_exit 0 "$FERRY" datacenter ingest seed-b --disk "$WORK/b3"
[[ $(drive_field seed-b "$b3" state) == Completed ]] || fail "the late disk b3 is not Completed"
[[ $(job_state seed-b) == Completed ]] || fail "seed-b changed state after a late drive"

log "kill -9 mid-ingest, then a re-run completes"
make_staging "$WORK/staging-seed-c" seed-c 40 4000 8000
prepare seed-c 1G "$WORK/c1"
container=$STORAGE/acct/box-seed-c
bg_start ingest_pid "$FERRY" datacenter ingest seed-c --disk "$WORK/c1" --threads 1
for _ in $(seq 600); do
  n=$(find "$container/data" -type f -name '????????????????????????????????????????????????????????????????' 2>/dev/null | wc -l || true)
  [[ $n -ge 3 ]] && break
  sleep 0.02
done
kill -9 "$ingest_pid"
bg_wait "$ingest_pid"
[[ $BG_RC -eq 137 ]] || fail "ingest finished before it could be killed (status $BG_RC)"
c1=$(drive_id_of "$WORK/c1")
[[ $(drive_field seed-c "$c1" state) == Transferring ]] || fail "killed drive is not Transferring"
expect_exit 0 "$FERRY" --json datacenter ingest seed-c --disk "$WORK/c1"
present=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["drives"][0]["files_present"])' "$OUT")
[[ $present -ge 3 ]] || fail "the re-run copied again what the container held ($present present)"
[[ $(drive_field seed-c "$c1" state) == Completed ]] || fail "c1 not Completed after the re-run"
[[ $(job_state seed-c) == Completed ]] || fail "seed-c is not Completed"
same_packs "$WORK/staging-seed-c" "$container"
# No other ingest was running, so the re-run removed the killed copy's temp file.
leftover=$(find "$container/data" -name '*.tmp-*' | head -n 3)
[[ -z $leftover ]] || fail "the killed ingest's temp files are still in the container: $leftover"

assert_no_tokens_in_log
grep -qF -- "$(head -c 16 "$WORK/operator.token")" "$VLOG" "$WORK/server.out" &&
  fail "the operator token appears in the server log"
exit 0
