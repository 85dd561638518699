#!/usr/bin/env bash
# vault.sh: ferry backups to a local repository vs to a ferry vault over loopback, and restic over
# its REST protocol (rclone serve restic), on one generated corpus in one run.
#
#   bench/vault.sh                        # 2G corpus, one run
#   BENCH_SIZE=200M bench/vault.sh        # quick run
#
# Steps for each target: init, initial backup, unchanged re-backup, (mutate corpus once),
# incremental backup. Each step runs under /usr/bin/time (wall, user+sys CPU, peak RSS); the
# server's CPU time for the step is read from /proc. The targets are interleaved step by step.
# The incremental backups to the vault and to the REST server go through a counting TCP proxy
# (bench/tcp_count_proxy.py), which measures the bytes that cross the wire the same way for both
# tools; the other steps connect directly. Nothing is deleted between timed runs. Results:
# bench/work/vault-results.md (also printed to stdout), the raw rows in
# bench/work/vault-results.tsv, the tools' and servers' output in bench/work/vault-logs/.
# See bench/README.md for every knob.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
FERRY=${FERRY:-$ROOT/build/src/cli/ferry}
SIZE=${BENCH_SIZE:-2G}
RUNS=${BENCH_RUNS:-1}
read -r -a TARGETS <<<"${BENCH_TARGETS:-ferry-local ferry-vault restic-rest}"
SEED=${BENCH_SEED:-1}
MUTATE_SEED=${BENCH_MUTATE_SEED:-2}
FRACTION=${BENCH_FRACTION:-0.01}
STEP_TIMEOUT=${BENCH_TIMEOUT:-3600}
KEEP=${BENCH_KEEP:-0}                 # 1: keep corpus, repositories and server directories
DROP_CACHES=${BENCH_DROP_CACHES:-0}   # 1: drop the page cache before every timed step (root)
WORK=${BENCH_WORK:-$BENCH_DIR/work}

RUN=$WORK/vault-run    # corpus, repositories, server data, tool caches: deleted at the end
DATA=$RUN/data
VAULT_DATA=$RUN/vault-data   # ferry serve --data
REST_DATA=$RUN/rest-data     # rclone serve restic; run R's repository is /runR/
VAULT=bench
LOGS=$WORK/vault-logs
TSV=$WORK/vault-results.tsv
MD=$WORK/vault-results.md
META=$WORK/vault-results.meta

export RESTIC_PASSWORD=ferry-bench-password
export FERRY_PASSWORD=ferry-bench-password
export RESTIC_CACHE_DIR=$RUN/home/restic-cache
export RESTIC_PROGRESS_FPS=1                  # --json status lines once a second, like ferry's
export XDG_CACHE_HOME=$RUN/home/xdg-cache     # for ferry, should it keep a cache
export RCLONE_CONFIG=$RUN/home/rclone.conf    # serving a local directory needs no remotes
unset FERRY_REPOSITORY FERRY_AGENT FERRY_PASSWORD_FILE FERRY_SERVER FERRY_ADMIN_TOKEN FERRY_ADMIN_TOKEN_FILE
unset RESTIC_REPOSITORY RESTIC_PASSWORD_FILE

log() { printf '[vault %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer" ;; esac
((${#TARGETS[@]})) || die "BENCH_TARGETS is empty"
for t in "${TARGETS[@]}"; do
    case $t in ferry-local | ferry-vault | restic-rest | restic-local) ;;
    *) die "unknown target '$t' in BENCH_TARGETS (ferry-local ferry-vault restic-rest restic-local)" ;;
    esac
done
has_target() { local t; for t in "${TARGETS[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }
uses_restic() { has_target restic-rest || has_target restic-local; }
uses_ferry() { has_target ferry-local || has_target ferry-vault; }

# ---------------------------------------------------------------------------- prerequisites
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
command -v python3 >/dev/null || die "python3 is required"
pkgs=()
if uses_restic && ! command -v restic >/dev/null; then pkgs+=(restic); fi
if has_target restic-rest && ! command -v rclone >/dev/null; then pkgs+=(rclone); fi
if [[ ! -x /usr/bin/time ]]; then pkgs+=(time); fi
install_debian_packages "${pkgs[@]+"${pkgs[@]}"}"

FERRY_OK=1
if uses_ferry && [[ ! -x $FERRY ]]; then
    log "ferry binary not found at $FERRY (set FERRY=...): its rows will be marked missing"
    FERRY_OK=0
fi

# ---------------------------------------------------------------------------- servers
# Every server this script starts is recorded here and stopped on exit, by PID.
SERVE_PID=   # ferry serve
RCLONE_PID=  # rclone serve restic
PROXY_PID=   # tcp_count_proxy.py
stop_pid() {  # PID NAME: SIGTERM, then SIGKILL after 10 s
    local pid=$1 i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$2 (pid $pid) ignored SIGTERM: killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}
stop_servers() {
    stop_pid "$PROXY_PID" "counting proxy"; PROXY_PID=
    stop_pid "$SERVE_PID" "ferry serve"; SERVE_PID=
    stop_pid "$RCLONE_PID" "rclone serve restic"; RCLONE_PID=
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_ports() {  # N: N distinct free TCP ports on 127.0.0.1
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
wait_port() {  # PORT PID NAME: until something accepts on PORT (30 s), or PID died
    local i
    for ((i = 0; i < 300; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || { log "$3 exited before listening on port $1"; return 1; }
        sleep 0.1
    done
    log "$3 does not listen on port $1 after 30 s"
    return 1
}
proc_cpu() {  # PID: user+sys seconds of a running process, or "-"
    local stat
    if [[ -n $1 ]] && stat=$(cat "/proc/$1/stat" 2>/dev/null); then
        awk -v hz="$CLK_TCK" '{print ($12 + $13) / hz}' <<<"${stat##*) }"
    else
        echo -
    fi
}
proc_hwm_mib() {  # PID: peak RSS in MiB, or "-"
    awk '/^VmHWM:/ {printf "%.0f\n", $2 / 1024; found = 1} END {if (!found) print "-"}' "/proc/$1/status" 2>/dev/null || echo -
}
proxy_stats() {  # prints "NAME C2S S2C CONNECTIONS ACTIVE" per route
    local fd line
    exec {fd}<>"/dev/tcp/127.0.0.1/$CONTROL_PORT"
    printf 'stats\n' >&"$fd"
    while IFS= read -r -t 20 line <&"$fd"; do
        [[ $line == end ]] && break
        echo "$line"
    done
    exec {fd}>&-
}
proxy_route() {  # ROUTE: "C2S S2C CONNECTIONS" of one route
    proxy_stats | awk -v r="$1" '$1 == r {print $2, $3, $4; found = 1} END {if (!found) print "- - -"}'
}
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------- work directory
move_aside_leftovers vault-trash "$RUN" "$LOGS"
mkdir -p "$RUN/home" "$RUN/times" "$LOGS" "$VAULT_DATA" "$REST_DATA"

size_bytes=$(python3 -c "import sys; sys.path.insert(0, '$BENCH_DIR'); import gen_dataset as g; print(g.parse_size('$SIZE'))")
need=$((size_bytes * (2 + 2 * ${#TARGETS[@]} * RUNS / 3)))   # corpus + ~0.66x per repository
warn_if_short_of_space "$need"

# ---------------------------------------------------------------------------- helpers
summary_field() {  # LOG FIELD: FIELD of the last {"message_type": "summary"} line, or "-"
    python3 - "$1" "$2" <<'PY'
import json, sys
value = "-"
try:
    for line in open(sys.argv[1], errors="replace"):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("message_type") == "summary" and sys.argv[2] in obj:
            value = obj[sys.argv[2]]
except OSError:
    pass
print(value)
PY
}

read -r -a PORTS <<<"$(free_ports 5)"
VAULT_PORT=${PORTS[0]} REST_PORT=${PORTS[1]} VAULT_PROXY_PORT=${PORTS[2]} REST_PROXY_PORT=${PORTS[3]} CONTROL_PORT=${PORTS[4]}
VAULT_URL=http://127.0.0.1:$VAULT_PORT
REST_URL=http://127.0.0.1:$REST_PORT
agent_of() { echo "$RUN/agent-run$1.json"; }                 # direct to the vault
agent_proxy_of() { echo "$RUN/agent-run$1-proxy.json"; }     # the same machine, through the proxy
repo_of() {  # TARGET RUN: the directory that holds the repository's bytes
    case $1 in
    ferry-local) echo "$RUN/repo-ferry-local-$2" ;;
    ferry-vault) echo "$VAULT_DATA/repositories/$VAULT/run$2" ;;
    restic-rest) echo "$REST_DATA/run$2" ;;
    restic-local) echo "$RUN/repo-restic-local-$2" ;;
    esac
}
server_pid_of() {
    case $1 in ferry-vault) echo "$SERVE_PID" ;; restic-rest) echo "$RCLONE_PID" ;; *) echo "" ;; esac
}
via_proxy() { [[ $2 == incremental && ($1 == ferry-vault || $1 == restic-rest) ]]; }  # TARGET STEP

# target_cmd TARGET STEP RUN: sets CMD (array)
target_cmd() {
    local target=$1 step=$2 r=$3 agent url=$REST_URL
    agent=$(agent_of "$r")
    if via_proxy "$target" "$step"; then agent=$(agent_proxy_of "$r"); url=http://127.0.0.1:$REST_PROXY_PORT; fi
    case $target/$step in
    ferry-local/init) CMD=("$FERRY" -r "$(repo_of "$target" "$r")" init) ;;
    ferry-local/*) CMD=("$FERRY" --json -r "$(repo_of "$target" "$r")" backup "$DATA") ;;
    ferry-vault/init) CMD=("$FERRY" --agent "$agent" init) ;;
    ferry-vault/*) CMD=("$FERRY" --json --agent "$agent" backup "$DATA") ;;
    restic-rest/init) CMD=(restic -r "rest:$url/run$r/" init) ;;
    restic-rest/*) CMD=(restic --json -r "rest:$url/run$r/" backup "$DATA") ;;
    restic-local/init) CMD=(restic -r "$(repo_of "$target" "$r")" init) ;;
    restic-local/*) CMD=(restic --json -r "$(repo_of "$target" "$r")" backup "$DATA") ;;
    *) die "no command for $target/$step" ;;
    esac
}

declare -A DEAD=()   # "target/run" -> why later steps are skipped
printf 'run\tstep\ttarget\tstatus\twall_s\tuser_s\tsys_s\tmaxrss_kib\tbytes\trepo_bytes\tserver_cpu_s\tproxy\twire_c2s\twire_s2c\twire_conns\tbytes_sent\tdata_added\n' >"$TSV"
row() { local IFS=$'\t'; printf '%s\n' "$*" >>"$TSV"; }

# run_step STEP TARGET RUN BYTES: runs one timed step, appends a row to the TSV
run_step() {
    local step=$1 target=$2 r=$3 bytes=$4 tag tf lg rc status wall user sys rss spid cpu0 cpu1 scpu
    local proxy=no c2s=- s2c=- conns=- w0 a b c sent=- added=- route
    tag=$r-$step-$target
    tf=$RUN/times/$tag
    lg=$LOGS/$tag.log
    if [[ $target == ferry-* && $FERRY_OK == 0 ]]; then
        row "$r" "$step" "$target" missing - - - - "$bytes" - - - - - - - -
        return 0
    fi
    if [[ -n ${DEAD[$target/$r]:-} ]]; then
        row "$r" "$step" "$target" "skipped(${DEAD[$target/$r]})" - - - - "$bytes" - - - - - - - -
        return 0
    fi
    target_cmd "$target" "$step" "$r"
    spid=$(server_pid_of "$target")
    if via_proxy "$target" "$step"; then
        proxy=yes
        route=${target%%-*}   # ferry | restic
        w0=$(proxy_route "$route")
    fi
    if [[ $DROP_CACHES == 1 ]]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
    local via=
    if [[ $proxy == yes ]]; then via=" (through the counting proxy)"; fi
    log "run $r/$RUNS  $step  $target$via"
    cpu0=$(proc_cpu "$spid")
    if (cd "$RUN" && exec /usr/bin/time -f '%e %U %S %M' -o "$tf" \
        timeout -k 30 "$STEP_TIMEOUT" "${CMD[@]}" </dev/null >"$lg" 2>&1); then
        rc=0
    else
        rc=$?
    fi
    cpu1=$(proc_cpu "$spid")
    scpu=-
    if [[ $cpu0 != - && $cpu1 != - ]]; then scpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN{printf "%.2f", b - a}'); fi
    if [[ $proxy == yes ]]; then
        read -r c2s s2c conns <<<"$(proxy_route "$route")"
        read -r a b c <<<"$w0"
        c2s=$((c2s - a)) s2c=$((s2c - b)) conns=$((conns - c))
    fi
    sync   # untimed: don't leave one target's writeback to the next step
    read -r wall user sys rss < <(tail -n1 "$tf" 2>/dev/null || echo "- - - -") || true
    [[ $wall =~ ^[0-9.]+$ ]] || { wall=-; user=-; sys=-; rss=-; }
    case $rc in
    0) status=ok ;;
    124 | 137) status="timeout(${STEP_TIMEOUT}s)" ;;
    3) status="incomplete(rc=3)" ;;
    *) status="failed(rc=$rc)" ;;
    esac
    if [[ $step != init ]]; then
        added=$(summary_field "$lg" data_added)
        if [[ $target == ferry-vault ]]; then sent=$(summary_field "$lg" bytes_sent); fi
    fi
    if [[ $status != ok ]]; then
        log "  $target $step: $status; last lines of $lg:"
        tail -n 5 "$lg" | sed 's/^/    /' >&2 || true
        DEAD[$target/$r]="$step failed"
    fi
    if [[ $wall != - ]]; then
        log "  $status  wall ${wall}s  cpu $(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')s  rss $((rss / 1024)) MiB  server cpu ${scpu}s${via:+  sent $c2s B}"
    fi
    row "$r" "$step" "$target" "$status" "$wall" "$user" "$sys" "$rss" "$bytes" "$(dir_bytes "$(repo_of "$target" "$r")")" \
        "$scpu" "$proxy" "$c2s" "$s2c" "$conns" "$sent" "$added"
}

# ---------------------------------------------------------------------------- corpus
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
    echo "mutate_seed=$MUTATE_SEED"
    echo "fraction=$FRACTION"
    echo "drop_caches=$DROP_CACHES"
    if uses_restic; then echo "restic_version=$(restic version | head -n1)"; fi
    if has_target restic-rest; then echo "rclone_version=$(rclone version 2>/dev/null | head -n1)"; fi
    echo "python_version=$(python3 --version 2>&1)"
    if uses_ferry; then ferry_version_line; fi
} >"$META"

generate_corpus
bytes0=$(data_bytes "$DATA")

# ---------------------------------------------------------------------------- start the servers
if has_target ferry-vault && [[ $FERRY_OK == 1 ]]; then
    log "starting ferry serve on $VAULT_URL (data $VAULT_DATA)"
    "$FERRY" serve --data "$VAULT_DATA" --listen "127.0.0.1:$VAULT_PORT" </dev/null >"$LOGS/serve-ferry.log" 2>&1 &
    SERVE_PID=$!
    vault_ok=1
    wait_port "$VAULT_PORT" "$SERVE_PID" "ferry serve" || vault_ok=0
    for ((i = 0; i < 100 && vault_ok; i++)); do [[ -s $VAULT_DATA/admin.token ]] && break; sleep 0.1; done
    if ((vault_ok)) && [[ -s $VAULT_DATA/admin.token ]] &&
        FERRY_SERVER=$VAULT_URL FERRY_ADMIN_TOKEN_FILE=$VAULT_DATA/admin.token \
            "$FERRY" vault create "$VAULT" </dev/null >"$LOGS/vault-create.log" 2>&1; then
        for ((r = 1; r <= RUNS; r++)); do
            if FERRY_SERVER=$VAULT_URL FERRY_ADMIN_TOKEN_FILE=$VAULT_DATA/admin.token \
                "$FERRY" machine register --vault "$VAULT" --name "run$r" --out "$(agent_of "$r")" \
                </dev/null >"$LOGS/machine-register-run$r.log" 2>&1; then
                python3 - "$(agent_of "$r")" "$(agent_proxy_of "$r")" "http://127.0.0.1:$VAULT_PROXY_PORT" <<'PY'
import json, os, sys
creds = json.load(open(sys.argv[1]))
creds["server"] = sys.argv[3]
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(creds, f)
PY
            else
                log "ferry machine register run$r failed:"; sed 's/^/    /' "$LOGS/machine-register-run$r.log" >&2
                DEAD[ferry-vault/$r]="register failed"
            fi
        done
    else
        log "ferry serve or ferry vault create failed: the ferry-vault rows are skipped"
        tail -n 5 "$LOGS/serve-ferry.log" "$LOGS/vault-create.log" 2>/dev/null | sed 's/^/    /' >&2 || true
        for ((r = 1; r <= RUNS; r++)); do DEAD[ferry-vault/$r]="serve failed"; done
    fi
fi
if has_target restic-rest; then
    log "starting rclone serve restic on $REST_URL (data $REST_DATA)"
    rclone serve restic --addr "127.0.0.1:$REST_PORT" "$REST_DATA" </dev/null >"$LOGS/serve-rclone.log" 2>&1 &
    RCLONE_PID=$!
    if ! wait_port "$REST_PORT" "$RCLONE_PID" "rclone serve restic"; then
        tail -n 5 "$LOGS/serve-rclone.log" | sed 's/^/    /' >&2 || true
        for ((r = 1; r <= RUNS; r++)); do DEAD[restic-rest/$r]="serve failed"; done
    fi
fi
if has_target ferry-vault || has_target restic-rest; then
    log "starting the counting proxy: vault=$VAULT_PROXY_PORT->$VAULT_PORT rest=$REST_PROXY_PORT->$REST_PORT"
    rm -f "$RUN/proxy.ready"
    python3 "$BENCH_DIR/tcp_count_proxy.py" --route "ferry=$VAULT_PROXY_PORT:$VAULT_PORT" \
        --route "restic=$REST_PROXY_PORT:$REST_PORT" --control "$CONTROL_PORT" \
        --ready-file "$RUN/proxy.ready" --parent-pid $$ --max-seconds $((STEP_TIMEOUT * RUNS * 4 + 600)) \
        </dev/null >"$LOGS/proxy.log" 2>&1 &
    PROXY_PID=$!
    for ((i = 0; i < 100; i++)); do [[ -s $RUN/proxy.ready ]] && break; kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
    [[ -s $RUN/proxy.ready ]] || { cat "$LOGS/proxy.log" >&2; die "the counting proxy did not start"; }
fi

CONTENDERS=("${TARGETS[@]}")  # phase (lib.sh) runs them interleaved

# ---------------------------------------------------------------------------- the benchmark
phase init 0
phase initial "$bytes0"
phase unchanged "$bytes0"

mutate_corpus
bytes1=$(data_bytes "$DATA")

phase incremental "$bytes1"
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"
{
    if [[ -n $SERVE_PID ]]; then
        echo "serve_ferry=ferry serve: $(proc_cpu "$SERVE_PID") s CPU in all, peak RSS $(proc_hwm_mib "$SERVE_PID") MiB"
    fi
    if [[ -n $RCLONE_PID ]]; then
        echo "serve_rclone=rclone serve restic: $(proc_cpu "$RCLONE_PID") s CPU in all, peak RSS $(proc_hwm_mib "$RCLONE_PID") MiB"
    fi
    if [[ -n $PROXY_PID ]]; then echo "proxy_cpu=$(proc_cpu "$PROXY_PID")"; fi
} >>"$META"
stop_servers

# ---------------------------------------------------------------------------- report
python3 - "$TSV" "$META" "$BENCH_DIR" >"$MD" <<'PY'
import statistics, sys

sys.path.insert(0, sys.argv[3])
from report_common import f, header_lines, load, problems

meta, rows = load(sys.argv[1], sys.argv[2])
targets = meta["targets"].split()
steps = [("init", "init"), ("initial", "initial backup"), ("unchanged", "unchanged re-backup"),
         ("incremental", "incremental backup (after mutation)")]
data_bytes = int(meta["data_bytes"])

def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None

def cell(step, target):
    rs = [r for r in rows if r["step"] == step and r["target"] == target]
    ok = [r for r in rs if r["status"] == "ok"]
    bad = [r["status"] for r in rs if r["status"] != "ok"]
    if not ok:
        return None, (bad[0] if bad else "not run")
    def med(k):
        vals = [num(r[k]) for r in ok]
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None
    c = dict(wall=med("wall_s"), cpu=statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in ok),
             rss=med("maxrss_kib") / 1024, bytes=med("bytes"), repo=med("repo_bytes"), scpu=med("server_cpu_s"),
             c2s=med("wire_c2s"), s2c=med("wire_s2c"), conns=med("wire_conns"), sent=med("bytes_sent"),
             added=med("data_added"), proxy=ok[0]["proxy"] == "yes", n=len(ok))
    return c, ("; ".join(sorted(set(bad))) if bad else "")

def mb(x, d=1):
    return "–" if x is None else f"{x / 1e6:,.{d}f}"

def mbs(c):
    return c["bytes"] / 1e6 / c["wall"] if c and c["wall"] else None

def growth(step, target):
    prev = {"initial": "init", "unchanged": "initial", "incremental": "unchanged"}.get(step)
    a, _ = cell(prev, target) if prev else (None, "")
    b, _ = cell(step, target)
    return None if not a or not b else b["repo"] - a["repo"]

names = {"ferry-local": "ferry → local directory", "ferry-vault": "ferry → vault (loopback)",
         "restic-rest": "restic → rclone serve restic (loopback)", "restic-local": "restic → local directory"}

out = []
p = out.append
p(f"# ferry vault vs local repository vs restic REST: {meta['size']} corpus")
p("")
out.extend(header_lines(meta))
vers = [meta[k] for k in ("ferry_version", "restic_version", "rclone_version") if k in meta]
p(f"- **Tools:** {'; '.join(vers)}")
p("- **Targets:** " + "; ".join(f"`{t}` = {names[t]}" for t in targets) + ". Servers listen on 127.0.0.1 "
  "and run on the same 2 cores as the client. ferry's vault writes each object with fsync (as the local "
  "repository does); rclone's local backend does not fsync.")
p(f"- **Method:** {meta['runs']} run(s), median shown; targets interleaved step by step (order rotated per run); "
  f"{'page cache dropped before every step' if meta['drop_caches'] == '1' else 'warm page cache'}; "
  "`sync` after every step (not timed); nothing deleted until the end. The incremental backups to the vault "
  "and to the REST server go through a counting TCP proxy (`bench/tcp_count_proxy.py`, Python asyncio), so "
  "their wall times include the proxy; all other steps connect directly.")
p("- **Columns:** wall = elapsed seconds; client CPU = user+sys seconds of the backup command (all threads); "
  "server CPU = user+sys seconds the server process used during the step (from /proc); RSS = client peak "
  "resident set; MB/s = corpus bytes ÷ wall (10^6 bytes).")
p("")

# headline
p("## Goals")
p("")
p("| comparison | value | goal |")
p("| --- | ---: | --- |")
def tput_ratio(step, a, b):
    ca, _ = cell(step, a)
    cb, _ = cell(step, b)
    return (mbs(ca) / mbs(cb)) if ca and cb and mbs(ca) and mbs(cb) else None
def wall_ratio(step, a, b):
    ca, _ = cell(step, a)
    cb, _ = cell(step, b)
    return (ca["wall"] / cb["wall"]) if ca and cb and cb["wall"] else None
def verdict(v, goal):
    return "" if v is None else (" ✅" if v >= goal else " ❌")
if "ferry-vault" in targets and "ferry-local" in targets:
    v = tput_ratio("initial", "ferry-vault", "ferry-local")
    p(f"| initial backup throughput, ferry vault ÷ ferry local | {f(v, 2)}{verdict(v, 0.8)} | ≥ 0.8 |")
if "ferry-vault" in targets and "restic-rest" in targets:
    v = tput_ratio("initial", "ferry-vault", "restic-rest")
    p(f"| initial backup throughput, ferry vault ÷ restic REST | {f(v, 2)}×{verdict(v, 2.0)} | ≥ 2× |")
if "ferry-vault" in targets and "ferry-local" in targets:
    v = wall_ratio("unchanged", "ferry-vault", "ferry-local")
    p(f"| unchanged re-backup wall time, ferry vault ÷ ferry local | {f(v, 2)} | (below 1 = vault faster) |")
if "ferry-vault" in targets and "restic-rest" in targets:
    v = wall_ratio("unchanged", "ferry-vault", "restic-rest")
    p(f"| unchanged re-backup wall time, ferry vault ÷ restic REST | {f(v, 2)} | (below 1 = ferry faster) |")
    cf, _ = cell("incremental", "ferry-vault")
    cr, _ = cell("incremental", "restic-rest")
    v = cf["c2s"] / cr["c2s"] if cf and cr and cf["c2s"] is not None and cr["c2s"] else None
    p(f"| bytes sent for the incremental backup (measured by the proxy), ferry ÷ restic | {f(v, 2)} | (below 1 = ferry sends less) |")
p("")

p("## Times")
p("")
p("| step | target | wall s | client CPU s | server CPU s | client peak RSS MiB | MB/s | ÷ ferry local MB/s |")
p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for step, label in steps:
    local, _ = cell(step, "ferry-local")
    for t in targets:
        c, note = cell(step, t)
        if c is None:
            p(f"| {label} | {t} | **{note}** | – | – | – | – | |")
            continue
        rate = f(mbs(c), 0) if step != "init" else ""
        rel = ""
        if step != "init" and t != "ferry-local" and local and mbs(local) and mbs(c):
            rel = f"{mbs(c) / mbs(local):.2f}"
        wall = f(c["wall"], 2) + (f" (**{note}**)" if note else "") + (" ᵖ" if c["proxy"] else "")
        p(f"| {label} | {t} | {wall} | {f(c['cpu'], 2)} | {f(c['scpu'], 2)} | {f(c['rss'], 0)} | {rate} | {rel} |")
p("")
p("ᵖ through the counting proxy.")
p("")

p("## Bytes")
p("")
p("MB = 10^6 bytes. *On the wire* is what the counting proxy forwarded (HTTP requests, headers and bodies "
  "included), measured identically for both tools; it is measured for the incremental backup only. "
  "*ferry bytes_sent* is ferry's own count of request bodies (`backup --json` summary). *Data added* is "
  "each tool's own report (`data_added`: after compression for ferry, before compression for restic 0.14). "
  "*Repository growth* is `du -sb` of the repository directory (the server's directory for vault and REST) "
  "before and after the step. Every repository has its own secret chunker seed, so the same mutation "
  "yields different chunk boundaries and a somewhat different incremental size in each repository, even "
  "for the same tool (compare ferry-local with ferry-vault); on a small corpus this spread is large next to "
  "the mutation.")
p("")
p("| step | target | on the wire client→server MB | server→client MB | connections | ferry bytes_sent MB | data added MB | repository growth MB |")
p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for step, label in steps[1:]:
    for t in targets:
        c, note = cell(step, t)
        if c is None:
            p(f"| {label} | {t} | **{note}** | | | | | |")
            continue
        wire = (mb(c["c2s"], 2), mb(c["s2c"], 2), f(c["conns"], 0)) if c["proxy"] else ("", "", "")
        p(f"| {label} | {t} | {wire[0]} | {wire[1]} | {wire[2]} | {mb(c['sent'], 2)} | {mb(c['added'], 2)} | {mb(growth(step, t), 2)} |")
p("")
sizes = []
for t in targets:
    c, _ = cell("incremental", t)
    if c:
        sizes.append(f"{t} {mb(c['repo'])} MB ({c['repo'] / data_bytes:.3f} of the corpus)")
if sizes:
    p("Repository size after the incremental: " + "; ".join(sizes) + ".")
    p("")
srv = [meta[k] for k in ("serve_ferry", "serve_rclone") if k in meta]
if srv:
    p("Servers over the whole run: " + "; ".join(srv) + f". The proxy used {meta.get('proxy_cpu', '?')} s CPU.")
    p("")
failed = problems(rows, "target", targets, meta)
if failed:
    p("**Problems:** " + "; ".join(failed) + ". Tool and server output: bench/work/vault-logs/.")
    p("")
print("\n".join(out))
PY
cat "$MD"

# ---------------------------------------------------------------------------- exit status, cleanup
status=0
if awk -F'\t' 'NR > 1 && $3 ~ /^restic/ && $4 != "ok" {bad = 1} END {exit !bad}' "$TSV"; then
    log "restic failed: see $LOGS"
    status=1
fi
finish_run "$status"
