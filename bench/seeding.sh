#!/usr/bin/env bash
# seeding.sh: diskprep and datacenter ingest throughput against `cp` of the same
# packs to the same place, measured in the same run.
#
#   bench/seeding.sh                       # 1 GiB of 16 MiB packs, 3 interleaved runs
#   BENCH_SIZE_MIB=256 BENCH_RUNS=1 bench/seeding.sh
#
# Each run: fresh staging (random 16 MiB packs named by their SHA-256, as an offline
# backup leaves them), then, with the page cache dropped before each timed step:
#   cp      cp -r staging/data → disk dir, then sync (the copy must be durable to ship)
#   diskprep  the same packs → another disk dir: copy, fdatasync, O_DIRECT read-back and
#           SHA-256 of every pack, signed manifest, import job creation
#   read    the disk's copy read back alone with O_DIRECT (6 streams of 2 MiB reads, as
#           diskprep does): what the verification must cost on this device at least
#   cp      cp -r disk/data → container dir, then sync
#   ingest  datacenter ingest of that disk into the storage container (verify manifest
#           and every pack's SHA-256 while copying)
# Staging, disks and container are directories on the same filesystem (one device),
# so both sides pay for reads and writes of the same disk. Results: bench/work/seeding.md.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
FERRY=${FERRY:-$ROOT/build/src/cli/ferry}
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
RUNS=${BENCH_RUNS:-3}
WORK=${BENCH_WORK:-$BENCH_DIR/work}/seeding
MD=$BENCH_DIR/work/seeding.md
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK"
server_pid=
trap '[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'; }
cp_sync() { cp -r "$1" "$2" && sync; }
read_direct() { find "$1" -type f -print0 | xargs -0 -P 6 -I{} dd if={} of=/dev/null bs=2M iflag=direct status=none; }
fmt() { printf '%.2f' "$1"; }               # seconds and ratios: 2 decimals, leading 0
fmt_all() { local t out=(); for t in "$@"; do out+=("$(fmt "$t")"); done; echo "${out[*]}"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$FERRY" serve --data "$WORK/vault" --listen "127.0.0.1:$port" >serve.log 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/vault/v1/version" >/dev/null && break; sleep 0.1; done
export FERRY_SERVER=http://127.0.0.1:$port FERRY_ADMIN_TOKEN_FILE=$WORK/vault/admin.token
export FERRY_SIGNING_KEY=$WORK/signing-key.json
"$FERRY" -q vault create bench
"$FERRY" -q machine register --vault bench --name m --out agent.json
"$FERRY" -q datacenter operator-token --out operator.token

make_staging() {  # DIR JOB
  python3 - "$1" "$2" "$port" "$SIZE_MIB" <<'PY'
import hashlib, json, os, sys
d, job, port, mib = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(d)
info = {"format": 1, "job": job, "storage_account": "acct", "container": "cont",
        "repository": "0" * 64, "server": f"http://127.0.0.1:{port}", "vault": "bench", "machine": "m"}
open(os.path.join(d, "staging.json"), "w").write(json.dumps(info))
for i in range(mib // 16):
    data = os.urandom(16 << 20)
    name = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(d, "data", name[:2]), exist_ok=True)
    open(os.path.join(d, "data", name[:2], name), "wb").write(data)
PY
}

declare -a T_CP1 T_PREP T_READ T_CP2 T_INGEST
for ((run = 1; run <= RUNS; run++)); do
  job=bench-$run-$$
  make_staging "$WORK/staging-$run" "$job"
  mkdir -p "disk-cp-$run" "disk-$run" "container-cp-$run"
  drop_caches
  T_CP1+=("$(seconds cp_sync "staging-$run/data" "disk-cp-$run/")")
  drop_caches
  T_PREP+=("$(seconds "$FERRY" --agent agent.json -q diskprep --staging "staging-$run" --disk "disk-$run")")
  drop_caches
  T_READ+=("$(seconds read_direct "disk-$run/data")")
  "$FERRY" --agent agent.json -q job ship "$job" --carrier X --tracking "T-$job"
  drop_caches
  T_CP2+=("$(seconds cp_sync "disk-$run/data" "container-cp-$run/")")
  drop_caches
  T_INGEST+=("$(seconds "$FERRY" -q datacenter ingest "$job" --disk "disk-$run" \
    --operator-token-file operator.token --storage-root "$WORK/storage")")
  echo "run $run: cp $(fmt "${T_CP1[-1]}") s, diskprep $(fmt "${T_PREP[-1]}") s," \
    "read-back alone $(fmt "${T_READ[-1]}") s," \
    "cp $(fmt "${T_CP2[-1]}") s, ingest $(fmt "${T_INGEST[-1]}") s" >&2
  rm -rf "staging-$run" "disk-cp-$run" "disk-$run" "container-cp-$run" "$WORK/storage"
  sleep 5
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
m_cp1=$(median "${T_CP1[@]}") m_prep=$(median "${T_PREP[@]}") m_read=$(median "${T_READ[@]}")
m_cp2=$(median "${T_CP2[@]}") m_ingest=$(median "${T_INGEST[@]}")
rate() { awk -v n="$SIZE_MIB" -v t="$1" 'BEGIN {printf "%.1f\n", n / t}'; }
ratio() { fmt "$(awk -v a="$1" -v b="$2" 'BEGIN {printf "%.6f\n", a / b}')"; }
{
  echo "## Seeding throughput ($(date -u +%Y-%m-%d), $(nproc) cores, ${SIZE_MIB} MiB of 16 MiB packs, median of $RUNS)"
  echo
  echo "| step | ferry | cp + sync | ferry throughput / cp's |"
  echo "| --- | --- | --- | --- |"
  echo "| diskprep (copy + O_DIRECT read-back + SHA-256 + sign) | $(fmt "$m_prep") s ($(rate "$m_prep") MiB/s) | $(fmt "$m_cp1") s ($(rate "$m_cp1") MiB/s) | $(ratio "$m_cp1" "$m_prep") |"
  echo "| read-back alone (O_DIRECT, 6 streams) | $(fmt "$m_read") s ($(rate "$m_read") MiB/s) | | |"
  echo "| ingest (verify manifest + SHA-256 while copying) | $(fmt "$m_ingest") s ($(rate "$m_ingest") MiB/s) | $(fmt "$m_cp2") s ($(rate "$m_cp2") MiB/s) | $(ratio "$m_cp2" "$m_ingest") |"
  echo
  echo "Ceiling for diskprep ÷ cp when staging and disk share one device whose reads and writes" \
    "share its bandwidth: cp ÷ (cp + read-back alone) = $(ratio "$m_cp1" "$(awk -v a="$m_cp1" -v b="$m_read" 'BEGIN {print a + b}')")."
  echo
  echo "Per run (s): cp $(fmt_all "${T_CP1[@]}"); diskprep $(fmt_all "${T_PREP[@]}");" \
    "read-back alone $(fmt_all "${T_READ[@]}");" \
    "cp $(fmt_all "${T_CP2[@]}"); ingest $(fmt_all "${T_INGEST[@]}")"
} | tee "$MD"
