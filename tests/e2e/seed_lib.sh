# Helpers for tests of disk preparation and ingest against a real vault (source after
# vault_lib.sh, vault_setup prod and vault_register prod m1 "$WORK/m1.json"):
#   make_staging DIR JOB COUNT MIN_KIB MAX_KIB   staging.json and COUNT random packs
#   prepare JOB MAX_PER_DISK DISK...             diskprep onto the disks, then ship the job
#   job_json JOB / job_state JOB                 the job as the machine sees it
#   drive_field JOB DRIVE_ID FIELD               one field of one drive (JSON unless a string)
#   drive_id_of DISK / first_pack DISK           a prepared disk's drive ID / first pack file
# make_staging DIR JOB COUNT MIN_KIB MAX_KIB: staging.json and COUNT random packs.
make_staging() {
  python3 - "$@" "$VURL" <<'PY'
import hashlib, json, os, random, sys
d, job, count, lo, hi, server = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
os.makedirs(d, exist_ok=True)
json.dump({"format": 1, "job": job, "storage_account": "acct", "container": "box-" + job,
           "repository": "ab" * 32, "server": server, "vault": "prod", "machine": "m1"},
          open(os.path.join(d, "staging.json"), "w"))
rng = random.Random(job)
for _ in range(count):
    data = os.urandom(rng.randint(lo, hi) * 1024)
    h = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(d, "data", h[:2]), exist_ok=True)
    open(os.path.join(d, "data", h[:2], h), "wb").write(data)
PY
}

# prepare JOB MAX_PER_DISK DISK...: diskprep onto the disks, then ship the job.
prepare() {
  local job=$1 max=$2 disks=() d
  shift 2
  for d in "$@"; do mkdir -p "$d"; disks+=(--disk "$d"); done
  expect_exit 0 "$FERRY" --agent "$WORK/m1.json" diskprep --staging "$WORK/staging-$job" \
    --signing-key "$WORK/signing-key.json" --max-per-disk "$max" -y "${disks[@]}"
  expect_exit 0 "$FERRY" --agent "$WORK/m1.json" job ship "$job" --carrier DHL \
    --tracking "T-$job"
}

job_json() { "$FERRY" --agent "$WORK/m1.json" --json job show "$1"; }
job_state() { job_json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
drive_field() {  # JOB DRIVE_ID FIELD → JSON of the field
  job_json "$1" | python3 -c '
import json, sys
job = json.load(sys.stdin)
d = [d for d in job["drives"] if d["drive_id"] == sys.argv[1]][0]
v = d[sys.argv[2]]
print(v if isinstance(v, str) else json.dumps(v))' "$2" "$3"
}
drive_id_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["drive_id"])' "$1/ferry-disk.json"; }
first_pack() { find "$1/data" -type f -name '????????????????????????????????????????????????????????????????' | sort | head -n 1; }

