#!/usr/bin/env bash
# object_storage.sh: ferry's initial backup and full restore on object storage (Azurite, s3rver)
# against ferry on a local directory and restic on the same s3rver, in one run (issue 10).
#
#   bench/object_storage.sh                        # 1G corpus, 3 runs
#   BENCH_SIZE=200M BENCH_RUNS=1 bench/object_storage.sh   # quick run
#
# Targets (BENCH_TARGETS, default all four, interleaved step by step, order rotated per run):
#   ferry-local  ferry, local directory repository
#   ferry-azure  ferry to Azurite (azure://, plain http on 127.0.0.1)
#   ferry-s3     ferry to s3rver over https (s3://…?endpoint=https://…, FERRY_S3_CA_FILE)
#   restic-s3    restic 0.14 to the same s3rver over https (--cacert), its own bucket
# s3rver runs with TLS only because restic's uploads to s3rver over plain http are stored
# corrupt (REFERENCE.md); ferry uses the same https endpoint so that both pay for TLS.
# Steps: init, initial backup, full restore (to a fresh directory, then compared with the corpus,
# untimed). Each step runs under /usr/bin/time (wall, user+sys CPU, peak RSS); the server's
# user+sys CPU during the step is read from /proc/PID/stat. Azurite and s3rver are node.js
# processes started from tests/servers/node_modules on the same cores as the client; they are
# stopped on exit. Results: bench/work/object_storage.md (also printed), raw rows in
# bench/work/object_storage.tsv, tool and server output in bench/work/object_storage-logs/.
# Knobs: FERRY, BENCH_SIZE (1G), BENCH_RUNS (3), BENCH_TARGETS, BENCH_SEED (1), BENCH_VERIFY
# (full|sizes|none), BENCH_DROP_CACHES (0), BENCH_TIMEOUT (3600), BENCH_KEEP (0), BENCH_WORK;
# see bench/README.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
FERRY=${FERRY:-$ROOT/build/src/cli/ferry}
SIZE=${BENCH_SIZE:-1G}
RUNS=${BENCH_RUNS:-3}
read -r -a TARGETS <<<"${BENCH_TARGETS:-ferry-local ferry-azure ferry-s3 restic-s3}"
SEED=${BENCH_SEED:-1}
VERIFY=${BENCH_VERIFY:-full}
STEP_TIMEOUT=${BENCH_TIMEOUT:-3600}
KEEP=${BENCH_KEEP:-0}
DROP_CACHES=${BENCH_DROP_CACHES:-0}
WORK=${BENCH_WORK:-$BENCH_DIR/work}
SERVERS=$ROOT/tests/servers/node_modules/.bin

RUN=$WORK/object_storage-run   # corpus, repositories, server data, restores: deleted at the end
DATA=$RUN/data
LOGS=$WORK/object_storage-logs
TSV=$WORK/object_storage.tsv
MD=$WORK/object_storage.md
META=$WORK/object_storage.meta
FERRY_BUCKET=ferry-bench
RESTIC_BUCKET=restic-bench
AZ_ACCOUNT=devstoreaccount1
# Azurite's well-known development key: published by Microsoft, not a secret.
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

export RESTIC_PASSWORD=ferry-bench-password
export FERRY_PASSWORD=ferry-bench-password
export RESTIC_CACHE_DIR=$RUN/home/restic-cache
export XDG_CACHE_HOME=$RUN/home/xdg-cache
export XDG_CONFIG_HOME=$RUN/home/config   # ferry's trust pins (repository IDs per location), not in ~
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER   # s3rver's fixed pair (restic)
export FERRY_S3_ACCESS_KEY_ID=S3RVER FERRY_S3_SECRET_ACCESS_KEY=S3RVER
export FERRY_S3_CA_FILE=$RUN/tls/cert.pem
unset FERRY_REPOSITORY FERRY_AGENT FERRY_PASSWORD_FILE RESTIC_REPOSITORY RESTIC_PASSWORD_FILE
unset FERRY_S3_CREDENTIALS_FILE FERRY_S3_SESSION_TOKEN AWS_SESSION_TOKEN

log() { printf '[object_storage %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer" ;; esac
case $VERIFY in full | sizes | none) ;; *) die "BENCH_VERIFY must be full, sizes or none" ;; esac
((${#TARGETS[@]})) || die "BENCH_TARGETS is empty"
for t in "${TARGETS[@]}"; do
    case $t in ferry-local | ferry-azure | ferry-s3 | restic-s3) ;;
    *) die "unknown target '$t' (ferry-local ferry-azure ferry-s3 restic-s3)" ;;
    esac
done
has_target() { local t; for t in "${TARGETS[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
command -v python3 >/dev/null || die "python3 is required"
command -v openssl >/dev/null || die "openssl is required (the s3rver certificate)"
pkgs=()
if has_target restic-s3 && ! command -v restic >/dev/null; then pkgs+=(restic); fi
if [[ ! -x /usr/bin/time ]]; then pkgs+=(time); fi
install_debian_packages "${pkgs[@]+"${pkgs[@]}"}"
if { has_target ferry-s3 || has_target restic-s3; } && [[ ! -x $SERVERS/s3rver ]]; then
    die "$SERVERS/s3rver is missing: run 'npm ci' in tests/servers (scripts/install-deps.sh does)"
fi
if has_target ferry-azure && [[ ! -x $SERVERS/azurite-blob ]]; then
    die "$SERVERS/azurite-blob is missing: run 'npm ci' in tests/servers"
fi
FERRY_OK=1
[[ -x $FERRY ]] || { log "ferry binary not found at $FERRY: its rows will be marked missing"; FERRY_OK=0; }

# ---------------------------------------------------------------------------- servers
S3_PID='' AZ_PID=''
stop_pid() {  # PID NAME: SIGTERM, SIGKILL after 10 s
    local pid=$1 i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "$2 (pid $pid) ignored SIGTERM: killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}
stop_servers() { stop_pid "$S3_PID" s3rver; S3_PID=; stop_pid "$AZ_PID" azurite; AZ_PID=; }
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
await_http() {  # PID URL NAME [CURL_ARGS...]: until URL answers anything (60 s) or PID died
    local pid=$1 url=$2 name=$3 i
    shift 3
    for ((i = 0; i < 600; i++)); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true) != 000 ]] && return 0
        kill -0 "$pid" 2>/dev/null || { log "$name exited at start"; return 1; }
        sleep 0.1
    done
    log "$name does not answer on $url after 60 s"
    return 1
}
CLK_TCK=$(getconf CLK_TCK)
proc_cpu() {  # PID: user+sys seconds of a running process, or "-"
    local stat
    if [[ -n $1 ]] && stat=$(cat "/proc/$1/stat" 2>/dev/null); then
        awk -v hz="$CLK_TCK" '{print ($12 + $13) / hz}' <<<"${stat##*) }"
    else
        echo -
    fi
}
proc_hwm_mib() {
    awk '/^VmHWM:/ {printf "%.0f\n", $2 / 1024; f = 1} END {if (!f) print "-"}' "/proc/$1/status" 2>/dev/null || echo -
}

# ---------------------------------------------------------------------------- work directory
move_aside_leftovers object_storage-trash "$RUN" "$LOGS"
mkdir -p "$RUN/home" "$RUN/times" "$RUN/tls" "$RUN/s3rver" "$RUN/azurite" "$LOGS"
size_bytes=$(python3 -c "import sys; sys.path.insert(0, '$BENCH_DIR'); import gen_dataset as g; print(g.parse_size('$SIZE'))")
warn_if_short_of_space $((size_bytes * (1 + 2 * ${#TARGETS[@]} * RUNS)))

# ---------------------------------------------------------------------------- steps
repo_of() {  # TARGET RUN: location for the tool
    case $1 in
    ferry-local) echo "$RUN/repo-ferry-local-$2" ;;
    ferry-azure) echo "azure://ferry-bench-run$2?account=$AZ_ACCOUNT&endpoint=$AZ_ENDPOINT" ;;
    ferry-s3) echo "s3://$FERRY_BUCKET/run$2?endpoint=$S3_URL" ;;
    restic-s3) echo "s3:$S3_URL/$RESTIC_BUCKET/run$2" ;;
    esac
}
server_pid_of() { case $1 in ferry-azure) echo "$AZ_PID" ;; ferry-s3 | restic-s3) echo "$S3_PID" ;; *) echo "" ;; esac; }
stored_bytes() {  # TARGET RUN: bytes the repository takes in its store (server files for the servers)
    case $1 in
    ferry-local) dir_bytes "$(repo_of "$1" "$2")" ;;
    ferry-azure) echo - ;;   # Azurite keeps blobs in extent files shared by containers
    ferry-s3) dir_bytes "$RUN/s3rver/data/$FERRY_BUCKET/run$2" ;;
    restic-s3) dir_bytes "$RUN/s3rver/data/$RESTIC_BUCKET/run$2" ;;
    esac
}
target_cmd() {  # TARGET STEP RUN: sets CMD
    local repo tgt=$RUN/restore-$1-$3
    repo=$(repo_of "$1" "$3")
    case $1/$2 in
    ferry-*/init) CMD=("$FERRY" -r "$repo" init) ;;
    ferry-*/initial) CMD=("$FERRY" -r "$repo" backup "$DATA") ;;
    ferry-*/restore) CMD=("$FERRY" -r "$repo" restore latest --target "$tgt") ;;
    restic-s3/init) CMD=(restic --cacert "$FERRY_S3_CA_FILE" -r "$repo" init) ;;
    restic-s3/initial) CMD=(restic --cacert "$FERRY_S3_CA_FILE" -r "$repo" backup "$DATA") ;;
    restic-s3/restore) CMD=(restic --cacert "$FERRY_S3_CA_FILE" -r "$repo" restore latest --target "$tgt") ;;
    esac
}
listing() { (cd "$1" && find . -printf '%y %m %s %T@ %P -> %l\n' | LC_ALL=C sort); }
verify_restore() {  # TARGET RUN
    local got=$RUN/restore-$1-$2/${DATA#/}
    [[ $VERIFY == none ]] && return 0
    if [[ ! -d $got ]]; then log "verify $1 run $2: $got does not exist"; return 1; fi
    if ! diff <(listing "$DATA") <(listing "$got") >"$LOGS/verify-$1-$2.diff"; then
        log "verify $1 run $2: names/types/modes/sizes/mtimes differ:"; head -n 10 "$LOGS/verify-$1-$2.diff" >&2; return 1
    fi
    if [[ $VERIFY == full ]] && ! diff -r --no-dereference -q "$DATA" "$got" >"$LOGS/verify-$1-$2.diff" 2>&1; then
        log "verify $1 run $2: content differs:"; head -n 10 "$LOGS/verify-$1-$2.diff" >&2; return 1
    fi
    rm -f "$LOGS/verify-$1-$2.diff"
}

declare -A DEAD=()
printf 'run\tstep\ttarget\tstatus\twall_s\tuser_s\tsys_s\tmaxrss_kib\tbytes\tstored_bytes\tserver_cpu_s\tload1\n' >"$TSV"
row() { local IFS=$'\t'; printf '%s\n' "$*" >>"$TSV"; }

run_step() {  # STEP TARGET RUN BYTES (called by phase, lib.sh)
    local step=$1 target=$2 r=$3 bytes=$4 tag tf lg rc status wall user sys rss spid cpu0 cpu1 scpu load1
    tag=$r-$step-$target
    tf=$RUN/times/$tag
    lg=$LOGS/$tag.log
    if [[ $target == ferry-* && $FERRY_OK == 0 ]]; then row "$r" "$step" "$target" missing - - - - "$bytes" - - -; return 0; fi
    if [[ -n ${DEAD[$target/$r]:-} ]]; then
        row "$r" "$step" "$target" "skipped(${DEAD[$target/$r]})" - - - - "$bytes" - - -
        return 0
    fi
    target_cmd "$target" "$step" "$r"
    spid=$(server_pid_of "$target")
    if [[ $step == restore ]]; then mkdir -p "$RUN/restore-$target-$r"; fi
    if [[ $DROP_CACHES == 1 ]]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
    load1=$(cut -d' ' -f1 /proc/loadavg)
    log "run $r/$RUNS  $step  $target  (load $load1)"
    cpu0=$(proc_cpu "$spid")
    if (cd "$RUN" && exec /usr/bin/time -f '%e %U %S %M' -o "$tf" \
        timeout -k 30 "$STEP_TIMEOUT" "${CMD[@]}" </dev/null >"$lg" 2>&1); then rc=0; else rc=$?; fi
    cpu1=$(proc_cpu "$spid")
    scpu=-
    if [[ $cpu0 != - && $cpu1 != - ]]; then scpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN{printf "%.2f", b - a}'); fi
    sync
    read -r wall user sys rss < <(tail -n1 "$tf" 2>/dev/null || echo "- - - -") || true
    [[ $wall =~ ^[0-9.]+$ ]] || { wall=-; user=-; sys=-; rss=-; }
    case $rc in 0) status=ok ;; 124 | 137) status="timeout(${STEP_TIMEOUT}s)" ;; *) status="failed(rc=$rc)" ;; esac
    if [[ $status != ok ]]; then
        log "  $target $step: $status; last lines of $lg:"
        tail -n 5 "$lg" | sed 's/^/    /' >&2 || true
        DEAD[$target/$r]="$step failed"
    elif [[ $step == restore ]] && ! verify_restore "$target" "$r"; then
        status=wrong-restore
    fi
    [[ $wall == - ]] || log "  $status  wall ${wall}s  cpu $(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')s  rss $((rss / 1024)) MiB  server cpu ${scpu}s"
    row "$r" "$step" "$target" "$status" "$wall" "$user" "$sys" "$rss" "$bytes" "$(stored_bytes "$target" "$r")" "$scpu" "$load1"
}

# ---------------------------------------------------------------------------- metadata, corpus
cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host=$(nproc) cores, ${cpu_model:-unknown CPU}, $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
    echo "fs=$(findmnt -n -o FSTYPE -T "$WORK" 2>/dev/null || echo unknown)"
    echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "size=$SIZE"
    echo "runs=$RUNS"
    echo "targets=${TARGETS[*]}"
    echo "seed=$SEED"
    echo "verify=$VERIFY"
    echo "drop_caches=$DROP_CACHES"
    if has_target restic-s3; then echo "restic_version=$(restic version | head -n1)"; fi
    echo "node_version=$(node --version 2>/dev/null || echo missing)"
    echo "s3rver_version=$(NODE_OPTIONS=--openssl-legacy-provider "$SERVERS/s3rver" --version 2>/dev/null || echo '?')"
    echo "azurite_version=$("$SERVERS/azurite-blob" --version 2>/dev/null || echo '?')"
    ferry_version_line
} >"$META"
generate_corpus
bytes0=$(data_bytes "$DATA")

# ---------------------------------------------------------------------------- start the servers
if has_target ferry-s3 || has_target restic-s3; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$RUN/tls/key.pem" -out "$RUN/tls/cert.pem" 2>"$LOGS/openssl.log"
    port=$(free_port)
    S3_URL=https://127.0.0.1:$port
    log "starting s3rver on $S3_URL (TLS, data $RUN/s3rver/data)"
    NODE_OPTIONS=--openssl-legacy-provider "$SERVERS/s3rver" -d "$RUN/s3rver/data" -a 127.0.0.1 -p "$port" \
        --key "$RUN/tls/key.pem" --cert "$RUN/tls/cert.pem" --silent \
        --configure-bucket "$FERRY_BUCKET" --configure-bucket "$RESTIC_BUCKET" \
        </dev/null >"$LOGS/s3rver.log" 2>&1 &
    S3_PID=$!
    await_http "$S3_PID" "$S3_URL/" s3rver --cacert "$RUN/tls/cert.pem" || { cat "$LOGS/s3rver.log" >&2; die "s3rver did not start"; }
fi
if has_target ferry-azure; then
    port=$(free_port)
    AZ_ENDPOINT=http://127.0.0.1:$port/$AZ_ACCOUNT
    export FERRY_AZURE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"
    log "starting Azurite on $AZ_ENDPOINT (data $RUN/azurite)"
    "$SERVERS/azurite-blob" --location "$RUN/azurite" --blobHost 127.0.0.1 --blobPort "$port" \
        --skipApiVersionCheck --loose --disableTelemetry </dev/null >"$LOGS/azurite.log" 2>&1 &
    AZ_PID=$!
    await_http "$AZ_PID" "$AZ_ENDPOINT?comp=list" azurite || { cat "$LOGS/azurite.log" >&2; die "Azurite did not start"; }
fi

CONTENDERS=("${TARGETS[@]}")
phase init 0
phase initial "$bytes0"
phase restore "$bytes0"
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"
{
    [[ -z $S3_PID ]] || echo "server_s3rver=s3rver: $(proc_cpu "$S3_PID") s CPU in all, peak RSS $(proc_hwm_mib "$S3_PID") MiB"
    [[ -z $AZ_PID ]] || echo "server_azurite=Azurite: $(proc_cpu "$AZ_PID") s CPU in all, peak RSS $(proc_hwm_mib "$AZ_PID") MiB"
} >>"$META"
stop_servers

# ---------------------------------------------------------------------------- report
python3 - "$TSV" "$META" "$BENCH_DIR" >"$MD" <<'PY'
import statistics, sys
sys.path.insert(0, sys.argv[3])
from report_common import f, load, problems

meta, rows = load(sys.argv[1], sys.argv[2])
targets = meta["targets"].split()
names = {"ferry-local": "ferry → local directory", "ferry-azure": "ferry → Azurite (http)",
         "ferry-s3": "ferry → s3rver (https)", "restic-s3": "restic → s3rver (https)"}

def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None

def cell(step, target):
    ok = [r for r in rows if r["step"] == step and r["target"] == target and r["status"] == "ok"]
    bad = sorted({r["status"] for r in rows if r["step"] == step and r["target"] == target and r["status"] != "ok"})
    if not ok:
        return None, (bad[0] if bad else "not run")
    def med(k):
        v = [num(r[k]) for r in ok if num(r[k]) is not None]
        return statistics.median(v) if v else None
    walls = [num(r["wall_s"]) for r in ok]
    return dict(wall=med("wall_s"), walls=walls, cpu=statistics.median(num(r["user_s"]) + num(r["sys_s"]) for r in ok),
                rss=med("maxrss_kib") / 1024, bytes=med("bytes"), stored=med("stored_bytes"), scpu=med("server_cpu_s"),
                load=[r["load1"] for r in ok], n=len(ok)), "; ".join(bad)

def mbs(c):
    return c["bytes"] / 1e6 / c["wall"] if c and c["wall"] else None

def ratio(step, a, b):
    ca, _ = cell(step, a)
    cb, _ = cell(step, b)
    return mbs(ca) / mbs(cb) if ca and cb and mbs(ca) and mbs(cb) else None

def verdict(v, goal):
    return "" if v is None else (" ✅" if v >= goal else " ❌")

out = []
p = out.append
size_mb = int(meta["data_bytes"]) / 1e6
p(f"# ferry on object storage (Azurite, s3rver) vs local vs restic on s3rver: {meta['size']} corpus")
p("")
p(f"- **When / where:** {meta['date']}; {meta['host']}; work dir on {meta['fs']}")
p(f"- **Load average** at start {meta['load_start']}, at end {meta.get('load_end', '?')}; the 1-minute load before "
  "each timed step is in object_storage.tsv (other work on the machine shows up in the wall times)")
p(f"- **Corpus:** {size_mb:,.0f} MB in {int(meta['data_files']):,} files, {int(meta['data_links'])} symlinks, "
  f"{int(meta['data_dirs']):,} directories (gen_dataset.py seed {meta['seed']})")
vers = [meta[k] for k in ("ferry_version", "restic_version") if k in meta]
p(f"- **Tools:** {'; '.join(vers)}; node {meta.get('node_version')}, s3rver {meta.get('s3rver_version')}, "
  f"Azurite {meta.get('azurite_version')}")
p("- **Targets:** " + "; ".join(f"`{t}` = {names[t]}" for t in targets) + ". The servers are node.js processes "
  "on 127.0.0.1, on the same 2 cores as the client. s3rver serves https only (a self-signed P-256 certificate; "
  "restic's uploads to s3rver over http are stored corrupt), so ferry and restic both pay for TLS; Azurite is http.")
p(f"- **Method:** {meta['runs']} run(s), each with its own repositories, median shown; targets interleaved step by "
  f"step, order rotated per run; {'page cache dropped before every step' if meta['drop_caches'] == '1' else 'warm page cache'}; "
  f"`sync` after every step (untimed); restores compared with the corpus (verify={meta['verify']}, untimed).")
p("- **Columns:** MB/s = corpus bytes ÷ wall (10^6 bytes); client CPU = user+sys of the tool (all threads); server "
  "CPU = user+sys of the server process during the step (/proc/PID/stat); CPU share = (client + server CPU) ÷ "
  "(2 cores × wall), near 100 % means the step was CPU-bound on this machine.")
p("")
p("## Goals")
p("")
p("| comparison | value | goal |")
p("| --- | ---: | --- |")
for step, label in (("initial", "initial backup"), ("restore", "full restore")):
    if "ferry-s3" in targets and "restic-s3" in targets:
        v = ratio(step, "ferry-s3", "restic-s3")
        p(f"| {label} throughput, ferry S3 ÷ restic S3 | {f(v, 2)}×{verdict(v, 1.5)} | ≥ 1.5× |")
for step, label in (("initial", "initial backup"), ("restore", "full restore")):
    for t, what in (("ferry-s3", "S3"), ("ferry-azure", "Azurite")):
        if t in targets and "ferry-local" in targets:
            v = ratio(step, t, "ferry-local")
            p(f"| {label} throughput, ferry {what} ÷ ferry local | {'–' if v is None else f'{v:.0%}'}{verdict(v, 0.7)} | ≥ 70 % |")
p("")
p("## Times")
p("")
p("| step | target | wall s (median) | runs | MB/s | client CPU s | server CPU s | CPU share | client peak RSS MiB | ÷ ferry local MB/s | ferry ÷ restic MB/s |")
p("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for step, label in (("init", "init"), ("initial", "initial backup"), ("restore", "full restore")):
    for t in targets:
        c, note = cell(step, t)
        if c is None:
            p(f"| {label} | {t} | **{note}** | | | | | | | | |")
            continue
        rate = f(mbs(c), 0) if step != "init" else ""
        share = ""
        if c["wall"]:
            share = f"{(c['cpu'] + (c['scpu'] or 0)) / (2 * c['wall']):.0%}"
        rel = f(ratio(step, t, "ferry-local"), 2) if step != "init" and t != "ferry-local" else ""
        vs = f(ratio(step, t, "restic-s3"), 2) if step != "init" and t == "ferry-s3" else ""
        walls = " ".join(f(w, 2) for w in c["walls"])
        p(f"| {label} | {t} | {f(c['wall'], 2)}{' (**' + note + '**)' if note else ''} | {walls} | {rate} | {f(c['cpu'], 2)} | "
          f"{f(c['scpu'], 2)} | {share} | {f(c['rss'], 0)} | {rel} | {vs} |")
p("")
stored = []
for t in targets:
    c, _ = cell("initial", t)
    if c and c["stored"]:
        stored.append(f"{t} {c['stored'] / 1e6:,.1f} MB ({c['stored'] / int(meta['data_bytes']):.3f} of the corpus)")
if stored:
    p("Stored after the initial backup (files under the repository or the server's bucket directory): " + "; ".join(stored) + ".")
    p("")
srv = [meta[k] for k in ("server_s3rver", "server_azurite") if k in meta]
if srv:
    p("Servers over the whole run (all steps, all targets): " + "; ".join(srv) + ".")
    p("")
bad = problems(rows, "target", targets, meta)
if bad:
    p("**Problems:** " + "; ".join(bad) + ". Output: bench/work/object_storage-logs/.")
    p("")
print("\n".join(out))
PY
cat "$MD"

status=0
if awk -F'\t' 'NR > 1 && $3 ~ /^restic/ && $4 != "ok" {bad = 1} END {exit !bad}' "$TSV"; then
    log "restic failed: see $LOGS"
    status=1
fi
finish_run "$status"
