#!/usr/bin/env bash
# ferry diskprep against a real `ferry serve`: packs of fabricated staging
# directories go onto directory "disks" (--max-per-disk makes them small).
# Checks: every pack on exactly one disk with its bytes; manifests list exactly
# their disk's files and are signed; the import job has each drive with its
# bytes and manifest hash; too few disks → exit 3 with what is left and how to
# continue, then a re-run with another disk completes; kill -9 mid-copy and a
# re-run completes; disks of another job are refused; foreign files are erased
# only with --yes; a taken job name and another machine's staging are refused.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

export XDG_CONFIG_HOME=$WORK/config   # the signing key goes here, not to ~/.config
vault_start_server
vault_setup prod
vault_register prod m1 "$WORK/m1.json"
vault_register prod m2 "$WORK/m2.json"
note_token_file "$WORK/m1.json"
note_token_file "$WORK/m2.json"
AGENT=$WORK/m1.json

# make_staging DIR JOB COUNT MIN_KIB MAX_KIB [MACHINE]: staging.json and COUNT
# random packs named by their SHA-256 under DIR/data/XX/.
make_staging() {
  python3 - "$@" "$VURL" <<'PY'
import hashlib, json, os, random, sys
d, job, count, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
machine = sys.argv[6] if len(sys.argv) > 7 else "m1"
url = sys.argv[-1]
os.makedirs(d + "/data", exist_ok=True)
json.dump({"format": 1, "job": job, "storage_account": "acct1", "container": "seeding",
           "repository": "ab" * 32, "server": url, "vault": "prod", "machine": machine},
          open(d + "/staging.json", "w"))
rnd = random.Random(job)
for _ in range(count):
    data = os.urandom(rnd.randint(lo * 1024, hi * 1024))
    h = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{d}/data/{h[:2]}", exist_ok=True)
    open(f"{d}/data/{h[:2]}/{h}", "wb").write(data)
PY
}

# check_shipped JOB STAGING DISK...: the disks together hold every pack of
# STAGING exactly once with its bytes; each manifest lists exactly its disk's
# files and is signed; the job at the import service has each drive with its
# bytes and the sha256sum of its manifest.
check_shipped() {
  local job=$1 staging=$2
  shift 2
  expect_exit 0 "$FERRY" --agent "$AGENT" --json job show "$job"
  cp "$OUT" "$WORK/job.json"
  python3 - "$WORK/job.json" "$staging" "$@" <<'PY' || fail "disks of $job are not as shipped"
import base64, hashlib, json, os, sys
job = json.load(open(sys.argv[1]))
staging, disks = sys.argv[2], sys.argv[3:]
def packs(root):
    out = {}
    for dirpath, _, files in os.walk(os.path.join(root, "data")):
        for f in files:
            out[f] = os.path.join(dirpath, f)
    return out
want = packs(staging)
seen = {}
drives = {d["drive_id"]: d for d in job["drives"]}
assert len(drives) == len(disks), f"job has {len(drives)} drives, {len(disks)} disks given"
for n, disk in enumerate(disks, 1):
    label = json.load(open(disk + "/ferry-disk.json"))
    assert label["job"] == job["name"], label
    raw = open(disk + "/ferry-manifest.json", "rb").read()
    manifest = json.loads(raw)
    assert manifest["drive_id"] == label["drive_id"]
    assert (manifest["disk_number"], manifest["disk_count"]) == (n, len(disks)), manifest["disk_number"]
    have = packs(disk)
    for name, path in have.items():
        data = open(path, "rb").read()
        assert hashlib.sha256(data).hexdigest() == name, f"{path} has wrong bytes"
        assert name in want, f"{path} is not a staging pack"
        assert data == open(want[name], "rb").read()
        assert name not in seen, f"{name} is on {seen.get(name)} and {disk}"
        seen[name] = disk
    listed = {f["id"]: f["size"] for f in manifest["files"]}
    assert listed == {k: os.path.getsize(v) for k, v in have.items()}, f"manifest of {disk} != its files"
    drive = drives[label["drive_id"]]
    assert drive["bytes"] == sum(listed.values()), (drive["bytes"], sum(listed.values()))
    assert drive["manifest_hash"] == hashlib.sha256(raw).hexdigest()
    sig = base64.b64decode(open(disk + "/ferry-manifest.sig").read().strip())
    assert len(sig) == 64
    for dirpath, _, files in os.walk(disk):
        assert not any(".tmp-" in f for f in files), f"temp file left on {disk}"
missing = set(want) - set(seen)
assert not missing, f"{len(missing)} packs on no disk"
assert job["public_key"], "job without public key"
PY
}

file_count() { find "$1" -type f -path '*/data/*' ! -name '*.tmp-*' 2>/dev/null | wc -l; }

# --- two disks, both needed -------------------------------------------------------------
log "two disks with --max-per-disk"
make_staging "$WORK/sa" seed-a 40 1024 3072
mkdir -p "$WORK/d1" "$WORK/d2"
expect_exit 0 "$FERRY" --agent "$AGENT" diskprep --staging "$WORK/sa" --disk "$WORK/d1" \
  --disk "$WORK/d2" --max-per-disk 50M
output_mentions "Import job seed-a created" || fail "no summary: $(cat "$OUT")"
output_mentions "job ship seed-a --carrier" || fail "no ship command: $(cat "$OUT")"
(($(file_count "$WORK/d1") > 0 && $(file_count "$WORK/d2") > 0)) || fail "both disks should be used"
for d in d1 d2; do
  used=$(find "$WORK/$d/data" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  ((used <= 50 * 1024 * 1024)) || fail "$d holds $used bytes, more than --max-per-disk"
done
check_shipped seed-a "$WORK/sa" "$WORK/d1" "$WORK/d2"
[[ $(stat -c %a "$XDG_CONFIG_HOME/ferry/signing-key.json") == 600 ]] || fail "signing key not 0600"
[[ $(stat -c %a "$XDG_CONFIG_HOME/ferry") == 700 ]] || fail "signing key directory not 0700"
pub=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["public_key"])' "$XDG_CONFIG_HOME/ferry/signing-key.json")
[[ $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["public_key"])' "$WORK/job.json") == "$pub" ]] ||
  fail "the job does not carry the signing key's public key"
for f in $(find "$WORK/sa" "$WORK/d1" "$WORK/d2" -maxdepth 1 -type f); do
  grep -q "$(token_of "$AGENT")" "$f" && fail "$f holds the machine's token"
  grep -q "secret_key" "$f" && fail "$f holds a secret key"
done
# Re-running after completion only reports the job.
expect_exit 0 "$FERRY" --agent "$AGENT" --json diskprep --staging "$WORK/sa" --disk "$WORK/d1" --disk "$WORK/d2"
[[ $(json_field "$OUT" created) == false ]] || fail "re-run did not recognise its own job: $(cat "$OUT")"

# --- one disk too few, then a third ------------------------------------------------------
log "too few disks: exit 3 and the command to continue"
make_staging "$WORK/sb" seed-b 40 1024 3072
mkdir -p "$WORK/e1" "$WORK/e2" "$WORK/e3"
expect_exit 3 "$FERRY" --agent "$AGENT" diskprep --staging "$WORK/sb" --disk "$WORK/e1" \
  --disk "$WORK/e2" --max-per-disk 30M
left=$(python3 - "$WORK/sb" "$WORK/e1" "$WORK/e2" <<'PY'
import os, sys
on = set()
for disk in sys.argv[2:]:
    for _, _, files in os.walk(disk + "/data"):
        on.update(files)
n = b = 0
for dirpath, _, files in os.walk(sys.argv[1] + "/data"):
    for f in files:
        if f not in on:
            n += 1
            b += os.path.getsize(os.path.join(dirpath, f))
print(n, b)
PY
)
read -r left_packs left_bytes <<<"$left"
((left_packs > 0)) || fail "nothing was left over"
grep -q "$left_packs packs" "$ERR" || fail "message lacks the $left_packs packs left: $(cat "$ERR")"
grep -q "$left_bytes bytes" "$ERR" || fail "message lacks the $left_bytes bytes left: $(cat "$ERR")"
grep -q -- "--disk $WORK/e2 --disk ANOTHER-DISK" "$ERR" || fail "message lacks the command: $(cat "$ERR")"
[[ -f $WORK/e1/ferry-manifest.json ]] && fail "a manifest was written before all packs were placed"
expect_exit 0 "$FERRY" --agent "$AGENT" --json diskprep --staging "$WORK/sb" --disk "$WORK/e1" \
  --disk "$WORK/e2" --disk "$WORK/e3" --max-per-disk 30M
[[ $(json_field "$OUT" packs_copied) == "$left_packs" ]] || fail "re-run copied $(json_field "$OUT" packs_copied), not $left_packs"
check_shipped seed-b "$WORK/sb" "$WORK/e1" "$WORK/e2" "$WORK/e3"

# --- kill -9 mid-copy ------------------------------------------------------------------
log "kill -9 mid-copy, then resume"
make_staging "$WORK/sc" seed-c 48 4096 8192
mkdir -p "$WORK/k1" "$WORK/k2"
"$FERRY" --agent "$AGENT" diskprep --staging "$WORK/sc" --disk "$WORK/k1" --disk "$WORK/k2" \
  --max-per-disk 200M >"$WORK/kill.out" 2>&1 </dev/null &
pid=$!
vault_track_pid "$pid"
for _ in $(seq 600); do
  (($(file_count "$WORK/k1") + $(file_count "$WORK/k2") >= 4)) && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.02
done
kill -9 "$pid" 2>/dev/null || fail "diskprep finished before it could be killed"
wait "$pid" 2>/dev/null || true
vault_untrack_pid "$pid"
before=$(($(file_count "$WORK/k1") + $(file_count "$WORK/k2")))
total=$(file_count "$WORK/sc")
((before > 0 && before < total)) || fail "kill came at the wrong time ($before of $total packs on disk)"
log "killed with $before of $total packs on the disks"
expect_exit 0 "$FERRY" --agent "$AGENT" --json diskprep --staging "$WORK/sc" --disk "$WORK/k1" \
  --disk "$WORK/k2" --max-per-disk 200M
copied=$(json_field "$OUT" packs_copied)
((copied < total)) || fail "resume copied all $total packs again"
check_shipped seed-c "$WORK/sc" "$WORK/k1" "$WORK/k2"

# --- disks that are not free -----------------------------------------------------------
log "another job's disk, foreign files, --yes"
make_staging "$WORK/sd" seed-d 3 100 300
mkdir -p "$WORK/x1" "$WORK/x2/photos"
cp "$WORK/d1/ferry-disk.json" "$WORK/x1/"
echo "precious" >"$WORK/x1/keep.txt"
expect_exit nonzero "$FERRY" --agent "$AGENT" diskprep --staging "$WORK/sd" --disk "$WORK/x1" --yes
output_mentions "belongs to import job seed-a" || fail "no reason for refusing x1: $(cat "$ERR")"
[[ -f $WORK/x1/keep.txt ]] || fail "another job's disk was touched"
head -c 5000 /dev/urandom >"$WORK/x2/photos/a.jpg"
echo "notes" >"$WORK/x2/notes.txt"
expect_exit nonzero "$FERRY" --agent "$AGENT" diskprep --staging "$WORK/sd" --disk "$WORK/x2"
output_mentions "holds 2 files .* not ferry's" || fail "no description of the foreign files: $(cat "$ERR")"
output_mentions -- "--yes" || fail "the refusal does not name --yes: $(cat "$ERR")"
[[ -f $WORK/x2/notes.txt ]] || fail "foreign files were erased without --yes"
expect_exit 0 "$FERRY" --agent "$AGENT" diskprep --staging "$WORK/sd" --disk "$WORK/x2" --yes
[[ -e $WORK/x2/notes.txt || -e $WORK/x2/photos ]] && fail "--yes did not erase the foreign files"
check_shipped seed-d "$WORK/sd" "$WORK/x2"

# --- names and machines -----------------------------------------------------------------
log "a taken job name, another machine's staging"
make_staging "$WORK/se" seed-a 2 100 200
mkdir -p "$WORK/y1"
expect_exit nonzero "$FERRY" --agent "$AGENT" diskprep --staging "$WORK/se" --disk "$WORK/y1"
output_mentions "import job seed-a already exists" || fail "taken name not refused: $(cat "$ERR")"
[[ -z $(ls -A "$WORK/y1") ]] || fail "a refused job touched its disk"
make_staging "$WORK/sf" seed-f 2 100 200 m2
expect_exit nonzero "$FERRY" --agent "$AGENT" diskprep --staging "$WORK/sf" --disk "$WORK/y1"
output_mentions "written for machine m2" || fail "another machine's staging not refused: $(cat "$ERR")"

# --- direct to device ------------------------------------------------------------------
log "direct-to-device: the staging directory is the disk"
make_staging "$WORK/sg" seed-g 5 200 400
expect_exit 0 "$FERRY" --agent "$AGENT" --json diskprep --staging "$WORK/sg" --disk "$WORK/sg"
[[ $(json_field "$OUT" direct) == true && $(json_field "$OUT" packs_copied) == 0 ]] ||
  fail "direct mode copied: $(cat "$OUT")"
check_shipped seed-g "$WORK/sg" "$WORK/sg"

assert_no_tokens_in_log
log "OK"
true
