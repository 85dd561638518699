#!/usr/bin/env bash
# prune.sh: `forget --keep-last 10 --prune` on a 30-day history, ferry vs restic 0.14 (issue 11).
#
#   bench/prune.sh                              # 512M corpus, 30 days, 3 prune runs
#   BENCH_SIZE=100M BENCH_DAYS=12 BENCH_KEEP_LAST=4 BENCH_RUNS=1 bench/prune.sh   # quick run
#
# 1. gen_dataset.py makes a corpus; each tool inits a local repository.
# 2. For each simulated day d = 1..BENCH_DAYS: (from day 2 on) gen_dataset.py --mutate --seed
#    1000+d --fraction BENCH_FRACTION changes the corpus, then each tool backs it up (untimed for
#    the comparison, but logged). Both tools see the same corpus every day.
# 3. For each run r = 1..BENCH_RUNS: each tool's repository, cache and (ferry) trust store are copied (cp -a, untimed)
#    and `forget --keep-last BENCH_KEEP_LAST --prune` runs on the copy under /usr/bin/time (wall,
#    user+sys CPU, peak RSS), the tools interleaved and the order rotated per run. Then, untimed,
#    `check` on the pruned copy and `du -sb` before and after.
# Both tools run with their defaults (max unused 5 %). The snapshots' times are the real ones
# (seconds apart); --keep-last does not look at times. Results: bench/work/prune.md (also
# printed), raw rows in bench/work/prune.tsv, tool output in bench/work/prune-logs/.
# Knobs: FERRY, BENCH_SIZE (512M), BENCH_DAYS (30), BENCH_KEEP_LAST (10), BENCH_FRACTION (0.02
# per day), BENCH_RUNS (3), BENCH_SEED (1), BENCH_TIMEOUT (3600), BENCH_KEEP (0), BENCH_WORK.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
FERRY=${FERRY:-$ROOT/build/src/cli/ferry}
SIZE=${BENCH_SIZE:-512M}
DAYS=${BENCH_DAYS:-30}
KEEP_LAST=${BENCH_KEEP_LAST:-10}
FRACTION=${BENCH_FRACTION:-0.02}
RUNS=${BENCH_RUNS:-3}
SEED=${BENCH_SEED:-1}
STEP_TIMEOUT=${BENCH_TIMEOUT:-3600}
KEEP=${BENCH_KEEP:-0}
WORK=${BENCH_WORK:-$BENCH_DIR/work}
TOOLS=(ferry restic)

RUN=$WORK/prune-run    # corpus, history repositories, pruned copies: deleted at the end
DATA=$RUN/data
LOGS=$WORK/prune-logs
TSV=$WORK/prune.tsv
MD=$WORK/prune.md
META=$WORK/prune.meta

export RESTIC_PASSWORD=ferry-bench-password
export FERRY_PASSWORD=ferry-bench-password
unset FERRY_REPOSITORY FERRY_AGENT FERRY_PASSWORD_FILE RESTIC_REPOSITORY RESTIC_PASSWORD_FILE
# ferry keeps what it knows of each repository (its ID per location, the objects it wrote and
# removed) in XDG_CONFIG_HOME/ferry/trust. Every repository directory below has its own (copied
# with it), so that a copy pruned in one run does not look rolled back to the next, and ~ is
# untouched.

log() { printf '[prune %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

for v in RUNS DAYS KEEP_LAST; do
    case ${!v} in '' | *[!0-9]* | 0) die "BENCH_$v must be a positive integer" ;; esac
done
((KEEP_LAST < DAYS)) || die "BENCH_KEEP_LAST ($KEEP_LAST) must be below BENCH_DAYS ($DAYS)"

# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
command -v python3 >/dev/null || die "python3 is required"
pkgs=()
command -v restic >/dev/null || pkgs+=(restic)
[[ -x /usr/bin/time ]] || pkgs+=(time)
install_debian_packages "${pkgs[@]+"${pkgs[@]}"}"
[[ -x $FERRY ]] || die "ferry binary not found at $FERRY (set FERRY=...)"
FERRY_OK=1

move_aside_leftovers prune-trash "$RUN" "$LOGS"
mkdir -p "$RUN/times" "$LOGS"
size_bytes=$(python3 -c "import sys; sys.path.insert(0, '$BENCH_DIR'); import gen_dataset as g; print(g.parse_size('$SIZE'))")
warn_if_short_of_space $((size_bytes * (2 + 2 * (RUNS + 1))))

# Each repository lives in a directory DIR: DIR/repo, the tools' cache DIR/cache, ferry's trust
# store DIR/config.
hist_dir() { echo "$RUN/history-$1"; }            # TOOL
run_dir() { echo "$RUN/prune-$1-$2"; }            # TOOL RUN
hist_repo() { echo "$RUN/history-$1/repo"; }      # TOOL
run_repo() { echo "$RUN/prune-$1-$2/repo"; }      # TOOL RUN
with_cache() {  # DIR CMD...: a tool command with its cache and configuration in DIR
    local dir=$1
    shift
    RESTIC_CACHE_DIR=$dir/cache XDG_CACHE_HOME=$dir/cache XDG_CONFIG_HOME=$dir/config "$@"
}
tool_cmd() {  # TOOL REPO ACTION: sets CMD
    case $1/$3 in
    ferry/init) CMD=("$FERRY" -r "$2" init) ;;
    ferry/backup) CMD=("$FERRY" -r "$2" backup "$DATA") ;;
    ferry/prune) CMD=("$FERRY" -r "$2" forget --keep-last "$KEEP_LAST" --prune) ;;
    ferry/check) CMD=("$FERRY" -r "$2" check) ;;
    ferry/snapshots) CMD=("$FERRY" -r "$2" snapshots) ;;
    restic/init) CMD=(restic -r "$2" init) ;;
    restic/backup) CMD=(restic -r "$2" backup "$DATA") ;;
    restic/prune) CMD=(restic -r "$2" forget --keep-last "$KEEP_LAST" --prune) ;;
    restic/check) CMD=(restic -r "$2" check) ;;
    restic/snapshots) CMD=(restic -r "$2" snapshots) ;;
    esac
}
untimed() {  # TOOL REPO DIR ACTION LOG: runs a tool command, dies on failure
    tool_cmd "$1" "$2" "$4"
    if ! (cd "$RUN" && with_cache "$3" timeout -k 30 "$STEP_TIMEOUT" "${CMD[@]}" </dev/null >>"$5" 2>&1); then
        tail -n 5 "$5" >&2
        die "$1 $4 failed (log: $5)"
    fi
}

# ---------------------------------------------------------------------------- metadata, corpus
cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host=$(nproc) cores, ${cpu_model:-unknown CPU}, $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
    echo "fs=$(findmnt -n -o FSTYPE -T "$WORK" 2>/dev/null || echo unknown)"
    echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "size=$SIZE"
    echo "days=$DAYS"
    echo "keep_last=$KEEP_LAST"
    echo "fraction=$FRACTION"
    echo "runs=$RUNS"
    echo "seed=$SEED"
    echo "restic_version=$(restic version | head -n1)"
    ferry_version_line
} >"$META"
generate_corpus

# ---------------------------------------------------------------------------- the history
for t in "${TOOLS[@]}"; do
    mkdir -p "$(hist_dir "$t")/cache" "$(hist_dir "$t")/config"
    untimed "$t" "$(hist_repo "$t")" "$(hist_dir "$t")" init "$LOGS/history-$t.log"
done
history_start=$SECONDS
declare -A BACKUP_S=([ferry]=0 [restic]=0)
for ((d = 1; d <= DAYS; d++)); do
    if ((d > 1)); then
        python3 "$BENCH_DIR/gen_dataset.py" "$DATA" --mutate --seed $((1000 + d)) --fraction "$FRACTION" \
            >>"$LOGS/mutate.log" 2>&1 || { tail -n 5 "$LOGS/mutate.log" >&2; die "mutation of day $d failed"; }
    fi
    line="day $d/$DAYS: $(($(data_bytes "$DATA") / 1000000)) MB;"
    for t in "${TOOLS[@]}"; do
        s=$(date +%s.%N)
        untimed "$t" "$(hist_repo "$t")" "$(hist_dir "$t")" backup "$LOGS/history-$t.log"
        e=$(date +%s.%N)
        BACKUP_S[$t]=$(awk -v a="${BACKUP_S[$t]}" -v s="$s" -v e="$e" 'BEGIN{printf "%.2f", a + e - s}')
        line+=" $t $(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.1f", e - s}') s, repo $(($(dir_bytes "$(hist_repo "$t")") / 1000000)) MB;"
    done
    log "$line"
done
sync
{
    echo "history_s=$((SECONDS - history_start))"
    echo "data_bytes_end=$(data_bytes "$DATA")"
    for t in "${TOOLS[@]}"; do
        echo "backups_s_$t=${BACKUP_S[$t]}"
        echo "before_bytes_$t=$(dir_bytes "$(hist_repo "$t")")"
        echo "before_files_$t=$(find "$(hist_repo "$t")" -type f | wc -l)"
    done
} >>"$META"

# ---------------------------------------------------------------------------- the prunes
printf 'run\tstep\ttool\tstatus\twall_s\tuser_s\tsys_s\tmaxrss_kib\tbefore_bytes\tafter_bytes\tsnapshots_after\tcheck\tload1\n' >"$TSV"
row() { local IFS=$'\t'; printf '%s\n' "$*" >>"$TSV"; }
log "copying the histories for $RUNS run(s) (untimed)"
for ((r = 1; r <= RUNS; r++)); do
    for t in "${TOOLS[@]}"; do
        cp -a "$(hist_dir "$t")" "$(run_dir "$t" "$r")"   # repository, cache, trust store
    done
done
sync
run_step() {  # STEP TOOL RUN BYTES (called by phase, lib.sh)
    local t=$2 r=$3 repo cache tf lg rc status wall user sys rss before after snaps check load1
    repo=$(run_repo "$t" "$r") cache=$(run_dir "$t" "$r")
    tf=$RUN/times/$r-$t lg=$LOGS/$r-prune-$t.log
    before=$(dir_bytes "$repo")
    tool_cmd "$t" "$repo" prune
    load1=$(cut -d' ' -f1 /proc/loadavg)
    log "run $r/$RUNS  forget --keep-last $KEEP_LAST --prune  $t  (load $load1)"
    if (cd "$RUN" && with_cache "$cache" /usr/bin/time -f '%e %U %S %M' -o "$tf" \
        timeout -k 30 "$STEP_TIMEOUT" "${CMD[@]}" </dev/null >"$lg" 2>&1); then rc=0; else rc=$?; fi
    sync
    read -r wall user sys rss < <(tail -n1 "$tf" 2>/dev/null || echo "- - - -") || true
    [[ $wall =~ ^[0-9.]+$ ]] || { wall=-; user=-; sys=-; rss=-; }
    case $rc in 0) status=ok ;; 124 | 137) status="timeout(${STEP_TIMEOUT}s)" ;; *) status="failed(rc=$rc)" ;; esac
    [[ $status == ok ]] || { log "  $t: $status; last lines of $lg:"; tail -n 5 "$lg" | sed 's/^/    /' >&2 || true; }
    after=$(dir_bytes "$repo")
    tool_cmd "$t" "$repo" check
    if (cd "$RUN" && with_cache "$cache" "${CMD[@]}" </dev/null >"$LOGS/$r-check-$t.log" 2>&1); then check=ok; else check="failed(rc=$?)"; fi
    tool_cmd "$t" "$repo" snapshots
    snaps=$(cd "$RUN" && with_cache "$cache" "${CMD[@]}" </dev/null 2>/dev/null | grep -cE '^[0-9a-f]{8} ' || true)
    log "  $status  wall ${wall}s  cpu $(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')s  rss $((rss / 1024)) MiB  $((before / 1000000)) -> $((after / 1000000)) MB  snapshots $snaps  check $check"
    row "$r" prune "$t" "$status" "$wall" "$user" "$sys" "$rss" "$before" "$after" "$snaps" "$check" "$load1"
}
CONTENDERS=("${TOOLS[@]}")
phase prune 0
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"

# ---------------------------------------------------------------------------- report
python3 - "$TSV" "$META" "$BENCH_DIR" >"$MD" <<'PY'
import statistics, sys
sys.path.insert(0, sys.argv[3])
from report_common import f, load, problems

meta, rows = load(sys.argv[1], sys.argv[2])
tools = ["ferry", "restic"]

def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None

def med(t, k):
    v = [num(r[k]) for r in rows if r["tool"] == t and r["status"] == "ok" and num(r[k]) is not None]
    return statistics.median(v) if v else None

def per_run(t, k, scale=1.0, d=2):
    return " ".join(f(num(r[k]) / scale if num(r[k]) is not None else None, d) for r in rows if r["tool"] == t)

def cpu(t):
    v = [num(r["user_s"]) + num(r["sys_s"]) for r in rows if r["tool"] == t and r["status"] == "ok"]
    return statistics.median(v) if v else None

def ratio(a, b):
    return a / b if a is not None and b else None

w = {t: med(t, "wall_s") for t in tools}
rss = {t: (med(t, "maxrss_kib") or 0) / 1024 or None for t in tools}
after = {t: med(t, "after_bytes") for t in tools}
before = {t: num(meta.get(f"before_bytes_{t}")) for t in tools}
speed = ratio(w["restic"], w["ferry"])
mem = ratio(rss["ferry"], rss["restic"])
size = ratio(after["ferry"], after["restic"])
ok = lambda c: "" if c is None else (" ✅" if c else " ❌")

out = []
p = out.append
p(f"# forget --keep-last {meta['keep_last']} --prune after {meta['days']} daily snapshots: ferry vs restic")
p("")
p(f"- **When / where:** {meta['date']}; {meta['host']}; work dir on {meta['fs']}")
p(f"- **Load average** at start {meta['load_start']}, at end {meta.get('load_end', '?')}; the 1-minute load before "
  "each prune is in the table (other work on the machine shows up in the wall times)")
p(f"- **History:** a {int(meta['data_bytes']) / 1e6:,.0f} MB corpus ({int(meta['data_files']):,} files, gen_dataset.py "
  f"seed {meta['seed']}), backed up once a day for {meta['days']} days, the corpus mutated before each day after the "
  f"first (gen_dataset.py --mutate, seeds 1002…, fraction {meta['fraction']} of the bytes a day: inserts, appends, "
  f"edits, new and deleted files); {int(meta['data_bytes_end']) / 1e6:,.0f} MB on the last day. Building it took "
  f"{meta['history_s']} s (the {meta['days']} backups: ferry {meta['backups_s_ferry']} s, restic {meta['backups_s_restic']} s).")
p(f"- **Tools:** {meta['ferry_version']}; {meta['restic_version']}. Local directory repositories, each tool's defaults "
  "(max unused 5 % for both).")
p(f"- **Method:** the history is built once; for each of {meta['runs']} run(s) each repository is copied with its "
  f"cache and ferry's trust store (untimed) and `forget --keep-last {meta['keep_last']} --prune` runs on the copy under /usr/bin/time, the tools "
  "interleaved, order rotated per run; warm page cache; then, untimed, `check` on the pruned copy. Peak RSS is the "
  "largest process's ru_maxrss. Sizes are `du -sb` of the repository directory, MB = 10^6 bytes.")
p("")
p("## Goals")
p("")
p("| comparison | value | goal |")
p("| --- | ---: | --- |")
p(f"| wall time, restic ÷ ferry | {f(speed, 2)}×{ok(None if speed is None else speed >= 2)} | ≥ 2× |")
p(f"| peak RSS, ferry ÷ restic | {f(mem, 2)}{ok(None if mem is None else mem <= 1)} | ≤ 1 |")
p(f"| repository after prune, ferry ÷ restic | {f(size, 3)}{ok(None if size is None else size <= 1)} | ≤ 1 |")
p("")
p("## Results (medians)")
p("")
p("| | ferry | restic | ferry ÷ restic |")
p("| --- | ---: | ---: | ---: |")
p(f"| wall s | {f(w['ferry'], 2)} | {f(w['restic'], 2)} | {f(ratio(w['ferry'], w['restic']), 2)} |")
p(f"| wall s per run | {per_run('ferry', 'wall_s')} | {per_run('restic', 'wall_s')} | |")
p(f"| CPU s (user+sys) | {f(cpu('ferry'), 2)} | {f(cpu('restic'), 2)} | {f(ratio(cpu('ferry'), cpu('restic')), 2)} |")
p(f"| peak RSS MiB | {f(rss['ferry'], 0)} | {f(rss['restic'], 0)} | {f(mem, 2)} |")
p(f"| repository before, MB | {f(before['ferry'] / 1e6 if before['ferry'] else None)} | {f(before['restic'] / 1e6 if before['restic'] else None)} | {f(ratio(before['ferry'], before['restic']), 3)} |")
p(f"| repository after, MB | {f(after['ferry'] / 1e6 if after['ferry'] else None)} | {f(after['restic'] / 1e6 if after['restic'] else None)} | {f(size, 3)} |")
fr = {t: (before[t] - after[t]) / 1e6 if before[t] and after[t] else None for t in tools}
p(f"| freed, MB | {f(fr['ferry'])} | {f(fr['restic'])} | |")
p(f"| files before | {meta.get('before_files_ferry')} | {meta.get('before_files_restic')} | |")
p(f"| snapshots after | {per_run('ferry', 'snapshots_after', d=0)} | {per_run('restic', 'snapshots_after', d=0)} | |")
p(f"| check after prune | {' '.join(r['check'] for r in rows if r['tool'] == 'ferry')} | {' '.join(r['check'] for r in rows if r['tool'] == 'restic')} | |")
p(f"| load average (1 min) before each run | {' '.join(r['load1'] for r in rows if r['tool'] == 'ferry')} | {' '.join(r['load1'] for r in rows if r['tool'] == 'restic')} | |")
p("")
bad = problems(rows, "tool", tools, meta)
if bad:
    p("**Problems:** " + "; ".join(bad) + ". Output: bench/work/prune-logs/.")
    p("")
print("\n".join(out))
PY
cat "$MD"
status=0
if awk -F'\t' 'NR > 1 && ($4 != "ok" || $12 != "ok") {bad = 1} END {exit !bad}' "$TSV"; then
    log "a prune or a check after it failed: see $LOGS"
    status=1
fi
finish_run "$status"
