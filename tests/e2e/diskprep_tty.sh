#!/usr/bin/env bash
# diskprep on a terminal (a real pseudo-terminal, tests/e2e/tty_session.py): it
# asks for each disk's path in turn, asks before erasing a disk that holds other
# files, asks for another disk when the given ones are full, and offers to
# record the shipment at the end. Declining the erase leaves the disk alone.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

vault_start_server
vault_setup prod
vault_register prod m1 "$WORK/m1.json"
export FERRY_AGENT=$WORK/m1.json FERRY_SIGNING_KEY=$WORK/signing-key.json
S=$WORK/staging
python3 - "$S" "$VURL" <<'PY'
import hashlib, json, os, sys
d, url = sys.argv[1], sys.argv[2]
os.makedirs(d + "/data")
json.dump({"format": 1, "job": "seed-tty", "storage_account": "acct1", "container": "seeding",
           "repository": "ab" * 32, "server": url, "vault": "prod", "machine": "m1"},
          open(d + "/staging.json", "w"))
for _ in range(12):
    data = os.urandom(2 << 20)
    h = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{d}/data/{h[:2]}", exist_ok=True)
    open(f"{d}/data/{h[:2]}/{h}", "wb").write(data)
PY
mkdir -p "$WORK/d1" "$WORK/d2" "$WORK/d3" "$WORK/keep"
echo "holiday photos" >"$WORK/d1/photo.jpg"
echo "not to be erased" >"$WORK/keep/notes.txt"
tty() { python3 "$E2E/tty_session.py" "$WORK/transcript" "$@"; }

log "declining the erase leaves the disk untouched and stops"
rc=0
tty 'Path of disk 1' "$WORK/keep" 'Path of disk 2' '' 'erase them\? \[y/N\]' n -- \
  "$FERRY" diskprep --staging "$S" --max-per-disk 10M || rc=$?
((rc != 0 && rc != 99)) || fail "declined erase: exit $rc; $(tail -c 2000 "$WORK/transcript")"
[[ $(cat "$WORK/keep/notes.txt") == "not to be erased" ]] || fail "a declined erase touched the disk"
[[ ! -e $WORK/keep/data ]] || fail "packs were written to a disk whose erase was declined"

log "disks asked one by one, erase confirmed, another disk asked for, shipment entered"
rc=0
tty 'Path of disk 1' "$WORK/d1" \
  'Path of disk 2' "$WORK/d2" \
  'Path of disk 3' '' \
  'erase them\? \[y/N\]' y \
  'Path of another disk' "$WORK/d3" \
  'Enter the shipping details now\? \[y/N\]' y \
  'Carrier' DHL \
  'Tracking number' TTY-0001 \
  'Return address' '1 Test Street' \
  -- "$FERRY" diskprep --staging "$S" --max-per-disk 10M || rc=$?
((rc == 0)) || fail "interactive diskprep: exit $rc; $(tail -c 3000 "$WORK/transcript")"
[[ ! -e $WORK/d1/photo.jpg ]] || fail "the confirmed erase left the foreign file"
for d in d1 d2 d3; do
  [[ -f $WORK/$d/ferry-manifest.json && -f $WORK/$d/ferry-manifest.sig ]] || fail "$d has no signed manifest"
done
total=$(find "$WORK"/d[123]/data -type f | wc -l)
((total == 12)) || fail "$total packs on the disks, expected 12"
expect_exit 0 "$FERRY" --json job show seed-tty
python3 - "$OUT" <<'PY' || fail "job after the interactive run: $(cat "$OUT")"
import json, sys
job = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert job["state"] == "Shipping", job["state"]
assert job["shipping"]["tracking_number"] == "TTY-0001", job["shipping"]
assert job["shipping"]["return_address"] == "1 Test Street", job["shipping"]
assert len(job["drives"]) == 3, job["drives"]
PY
grep -q 'ship them to' "$WORK/transcript" ||
  fail "the shipping address was not shown: $(tail -c 2000 "$WORK/transcript")"
log "ok"
