#!/usr/bin/env bash
# compare.sh: side-by-side benchmark of ferry, restic and borg on a generated corpus.
#
#   bench/compare.sh                      # 2G corpus, one run
#   BENCH_SIZE=200M bench/compare.sh      # quick run
#
# Steps for each tool: init, initial backup, unchanged re-backup, (mutate corpus once),
# incremental backup, full restore to a fresh directory, check --read-data. Each step
# runs under /usr/bin/time (wall, user+sys CPU, peak RSS). The tools are interleaved step by step.
# Nothing is deleted between timed runs. Results: bench/work/results.md (also printed to stdout),
# the raw rows in bench/work/results.tsv, the tools' output in bench/work/logs/.
# See bench/README.md for every knob.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
FERRY=${FERRY:-$ROOT/build/src/cli/ferry}
SIZE=${BENCH_SIZE:-2G}
RUNS=${BENCH_RUNS:-1}
read -r -a TOOLS <<<"${BENCH_TOOLS:-ferry restic borg}"
SEED=${BENCH_SEED:-1}
MUTATE_SEED=${BENCH_MUTATE_SEED:-2}
FRACTION=${BENCH_FRACTION:-0.01}
STEP_TIMEOUT=${BENCH_TIMEOUT:-3600}
VERIFY=${BENCH_VERIFY:-full}          # full | sizes | none
KEEP=${BENCH_KEEP:-0}                 # 1: keep corpus, repositories and restores
DROP_CACHES=${BENCH_DROP_CACHES:-0}   # 1: drop the page cache before every timed step (root)
WORK=${BENCH_WORK:-$BENCH_DIR/work}

RUN=$WORK/run          # corpus, repositories, restores, tool caches: deleted at the end
DATA=$RUN/data
LOGS=$WORK/logs
TSV=$WORK/results.tsv
MD=$WORK/results.md
META=$WORK/results.meta

export RESTIC_PASSWORD=ferry-bench-password
export BORG_PASSPHRASE=ferry-bench-password
export FERRY_PASSWORD=ferry-bench-password
export BORG_BASE_DIR=$RUN/home/borg           # borg's cache, config and security dirs
export RESTIC_CACHE_DIR=$RUN/home/restic-cache
export XDG_CACHE_HOME=$RUN/home/xdg-cache     # for ferry, should it keep a cache
export BORG_DISPLAY_PASSPHRASE=no
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=no

log() { printf '[compare %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer" ;; esac
case $VERIFY in full | sizes | none) ;; *) die "BENCH_VERIFY must be full, sizes or none" ;; esac
((${#TOOLS[@]})) || die "BENCH_TOOLS is empty"
for t in "${TOOLS[@]}"; do
    case $t in ferry | restic | borg) ;; *) die "unknown tool '$t' in BENCH_TOOLS" ;; esac
done
has_tool() { local t; for t in "${TOOLS[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }

# ---------------------------------------------------------------------------- prerequisites
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"
command -v python3 >/dev/null || die "python3 is required"
pkgs=()
if has_tool restic && ! command -v restic >/dev/null; then pkgs+=(restic); fi
if has_tool borg && ! command -v borg >/dev/null; then pkgs+=(borgbackup); fi
if [[ ! -x /usr/bin/time ]]; then pkgs+=(time); fi
install_debian_packages "${pkgs[@]+"${pkgs[@]}"}"

FERRY_OK=1
if has_tool ferry && [[ ! -x $FERRY ]]; then
    log "ferry binary not found at $FERRY (set FERRY=...): its rows will be marked missing"
    FERRY_OK=0
fi

# ---------------------------------------------------------------------------- work directory
move_aside_leftovers trash "$RUN" "$LOGS"
mkdir -p "$RUN/home" "$RUN/times" "$LOGS"

size_bytes=$(python3 -c "import sys; sys.path.insert(0, '$BENCH_DIR'); import gen_dataset as g; print(g.parse_size('$SIZE'))")
need=$((size_bytes * (2 + 4 * RUNS)))   # corpus + per run: 3 restores + 3 repositories (~1x)
warn_if_short_of_space "$need"

# ---------------------------------------------------------------------------- helpers
listing() {  # what must survive a backup/restore round trip: names, types, modes, sizes, mtimes, links
    (cd "$1" && find . -mindepth 1 \( -type d -printf '%P d %m\n' \) -o \
        \( -type l -printf '%P l -> %l\n' \) -o -printf '%P %y %m %s %T@\n' | LC_ALL=C sort)
}
verify_restore() {  # TOOL RUN: is the restored tree identical to the corpus?
    local got=$RUN/restore-$1-$2/${DATA#/}
    if [[ $VERIFY == none ]]; then return 0; fi
    if [[ ! -d $got ]]; then log "verify $1 run $2: $got does not exist"; return 1; fi
    if ! cmp -s <(listing "$DATA") <(listing "$got"); then
        log "verify $1 run $2: names/types/modes/sizes/mtimes differ:"
        diff <(listing "$DATA") <(listing "$got") | head -n 10 >&2 || true
        return 1
    fi
    if [[ $VERIFY == full ]] && ! diff -r --no-dereference -q "$DATA" "$got" >"$LOGS/verify-$1-$2.diff" 2>&1; then
        log "verify $1 run $2: content differs:"
        head -n 10 "$LOGS/verify-$1-$2.diff" >&2
        return 1
    fi
    rm -f "$LOGS/verify-$1-$2.diff"
}

repo_of() { echo "$RUN/repo-$1-$2"; }
# tool_cmd TOOL STEP RUN: sets CMD (array) and CWD for one step
tool_cmd() {
    local tool=$1 step=$2 r=$3 repo tgt
    repo=$(repo_of "$tool" "$r")
    tgt=$RUN/restore-$tool-$r
    CWD=$RUN
    case $tool/$step in
    ferry/init) CMD=("$FERRY" -r "$repo" init) ;;
    ferry/initial | ferry/unchanged | ferry/incremental) CMD=("$FERRY" -r "$repo" backup "$DATA") ;;
    ferry/restore) CMD=("$FERRY" -r "$repo" restore latest --target "$tgt") ;;
    ferry/check) CMD=("$FERRY" -r "$repo" check --read-data) ;;
    restic/init) CMD=(restic -r "$repo" init) ;;
    restic/initial | restic/unchanged | restic/incremental) CMD=(restic -r "$repo" backup "$DATA") ;;
    restic/restore) CMD=(restic -r "$repo" restore latest --target "$tgt") ;;
    restic/check) CMD=(restic -r "$repo" check --read-data) ;;
    borg/init) CMD=(borg init --encryption=repokey "$repo") ;;
    borg/initial | borg/unchanged | borg/incremental)
        CMD=(borg create --stats --compression lz4 "$repo::$step" "$DATA") ;;
    borg/restore) CMD=(borg extract "$repo::incremental"); CWD=$tgt ;;   # extracts into the cwd
    borg/check) CMD=(borg check --verify-data "$repo") ;;
    *) die "no command for $tool/$step" ;;
    esac
}

declare -A DEAD=()   # "tool/run" -> why later steps are skipped
printf 'run\tstep\ttool\tstatus\twall_s\tuser_s\tsys_s\tmaxrss_kib\tbytes\trepo_bytes\n' >"$TSV"
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$TSV"; }

# run_step STEP TOOL RUN BYTES: runs one timed step, appends a row to the TSV
run_step() {
    local step=$1 tool=$2 r=$3 bytes=$4 tag tf lg rc status wall user sys rss repo
    tag=$r-$step-$tool
    tf=$RUN/times/$tag
    lg=$LOGS/$tag.log
    repo=$(repo_of "$tool" "$r")
    if [[ $tool == ferry && $FERRY_OK == 0 ]]; then
        row "$r" "$step" "$tool" missing - - - - "$bytes" -
        return 0
    fi
    if [[ -n ${DEAD[$tool/$r]:-} ]]; then
        row "$r" "$step" "$tool" "skipped(${DEAD[$tool/$r]})" - - - - "$bytes" -
        return 0
    fi
    tool_cmd "$tool" "$step" "$r"
    if [[ $step == restore ]]; then mkdir -p "$RUN/restore-$tool-$r"; fi
    if [[ $DROP_CACHES == 1 ]]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
    log "run $r/$RUNS  $step  $tool"
    if (cd "$CWD" && exec /usr/bin/time -f '%e %U %S %M' -o "$tf" \
        timeout -k 30 "$STEP_TIMEOUT" "${CMD[@]}" </dev/null >"$lg" 2>&1); then
        rc=0
    else
        rc=$?
    fi
    sync   # untimed: don't leave one tool's writeback to the next step
    read -r wall user sys rss < <(tail -n1 "$tf" 2>/dev/null || echo "- - - -") || true
    [[ $wall =~ ^[0-9.]+$ ]] || { wall=-; user=-; sys=-; rss=-; }
    case $rc in
    0) status=ok ;;
    124 | 137) status="timeout(${STEP_TIMEOUT}s)" ;;
    3) status="incomplete(rc=3)" ;;
    *) status="failed(rc=$rc)" ;;
    esac
    if [[ $status != ok ]]; then
        log "  $tool $step: $status; last lines of $lg:"
        tail -n 5 "$lg" | sed 's/^/    /' >&2 || true
        if [[ $step != restore ]]; then DEAD[$tool/$r]="$step failed"; fi
    elif [[ $step == restore ]] && ! verify_restore "$tool" "$r"; then
        status=mismatch
    fi
    if [[ $wall != - ]]; then
        log "  $status  wall ${wall}s  cpu $(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')s  rss $((rss / 1024)) MiB"
    fi
    row "$r" "$step" "$tool" "$status" "$wall" "$user" "$sys" "$rss" "$bytes" "$(dir_bytes "$repo")"
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
    echo "tools=${TOOLS[*]}"
    echo "seed=$SEED"
    echo "mutate_seed=$MUTATE_SEED"
    echo "fraction=$FRACTION"
    echo "verify=$VERIFY"
    echo "drop_caches=$DROP_CACHES"
    if has_tool restic; then echo "restic_version=$(restic version | head -n1)"; fi
    if has_tool borg; then echo "borg_version=$(borg --version | head -n1)"; fi
    if has_tool ferry; then ferry_version_line; fi
} >"$META"

generate_corpus
bytes0=$(data_bytes "$DATA")

CONTENDERS=("${TOOLS[@]}")  # phase (lib.sh) runs them interleaved

# ---------------------------------------------------------------------------- the benchmark
phase init 0
phase initial "$bytes0"
phase unchanged "$bytes0"

mutate_corpus
bytes1=$(data_bytes "$DATA")

phase incremental "$bytes1"
phase restore "$bytes1"
phase check 0
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"

# ---------------------------------------------------------------------------- report
python3 - "$TSV" "$META" "$BENCH_DIR" >"$MD" <<'PY'
import statistics, sys

sys.path.insert(0, sys.argv[3])
from report_common import f, header_lines, load, problems

meta, rows = load(sys.argv[1], sys.argv[2])
tools = meta["tools"].split()
steps = [("init", "init"), ("initial", "initial backup"), ("unchanged", "unchanged re-backup"),
         ("incremental", "incremental backup (after mutation)"), ("restore", "full restore"),
         ("check", "check --read-data")]

def cell(step, tool):
    rs = [r for r in rows if r["step"] == step and r["tool"] == tool]
    ok = [r for r in rs if r["status"] in ("ok", "mismatch")]  # a mismatch is timed, but flagged
    bad = [r["status"] for r in rs if r["status"] != "ok"]
    if not ok:
        return None, (bad[0] if bad else "not run")
    med = lambda k: statistics.median(float(r[k]) for r in ok)
    c = dict(wall=med("wall_s"), cpu=statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in ok),
             rss=med("maxrss_kib") / 1024, bytes=med("bytes"), repo=med("repo_bytes"), n=len(ok))
    return c, ("; ".join(sorted(set(bad))) if bad else "")

def ratio(a, b):
    return "–" if not a or not b else f"{a / b:.2f}"

out = []
p = out.append
p(f"# ferry vs restic vs borg: {meta['size']} corpus")
p("")
out.extend(header_lines(meta))
vers = [meta[k] for k in ("ferry_version", "restic_version", "borg_version") if k in meta]
p(f"- **Tools:** {'; '.join(vers)}")
p("- **Settings:** ferry defaults (zstd, AES-256-GCM); restic defaults (repository v2, zstd `auto`); "
  "borg `--encryption=repokey --compression lz4`. Same password for all tools, given in environment variables.")
p(f"- **Method:** {meta['runs']} run(s), median shown; tools interleaved step by step (order rotated "
  f"per run); {'page cache dropped before every step' if meta['drop_caches'] == '1' else 'warm page cache (the corpus was just written, 24 GB RAM)'}; "
  "`sync` after every step (not timed); nothing deleted until the end. "
  f"Restores checked against the corpus (verify={meta['verify']}).")
p("- **Columns:** wall = elapsed seconds; CPU = user+sys seconds (all threads and children); "
  "RSS = peak resident set of the largest process; MB/s = corpus bytes / wall (10^6 bytes) for "
  "backups and restore, repository bytes / wall for check. Ratios are ferry ÷ other "
  "(below 1 means ferry is faster or leaner).")
p("")
p("| step | tool | wall s | CPU s | peak RSS MiB | MB/s | ferry/restic wall | ferry/restic CPU | ferry/borg wall | ferry/borg CPU |")
p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for step, label in steps:
    cells = {t: cell(step, t) for t in tools}
    for t in tools:
        c, note = cells[t]
        if c is None:
            p(f"| {label} | {t} | **{note}** | – | – | – | | | | |")
            continue
        if step in ("initial", "unchanged", "incremental", "restore"):
            mbs = f(c["bytes"] / 1e6 / c["wall"], 0) if c["wall"] > 0 else "–"
        elif step == "check":
            mbs = f(c["repo"] / 1e6 / c["wall"], 0) if c["wall"] > 0 else "–"
        else:
            mbs = ""
        rat = ["", "", "", ""]
        if t == "ferry":
            for i, other in enumerate(("restic", "borg")):
                oc = cells.get(other, (None, ""))[0]
                if oc:
                    rat[2 * i] = ratio(c["wall"], oc["wall"])
                    rat[2 * i + 1] = ratio(c["cpu"], oc["cpu"])
        wall = f(c["wall"], 2) + (f" (**{note}**)" if note else "")
        p(f"| {label} | {t} | {wall} | {f(c['cpu'], 2)} | {f(c['rss'], 0)} | {mbs} | " + " | ".join(rat) + " |")
p("")
p("Repository size (`du -sb`, MB = 10^6 bytes):")
p("")
p("| tool | after initial | after unchanged | after incremental | initial ÷ corpus | added by incremental | ferry ÷ tool (after incremental) |")
p("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
sizes = {}
for t in tools:
    vals = []
    for step in ("initial", "unchanged", "incremental"):
        c, _ = cell(step, t)
        vals.append(c["repo"] if c else None)
    sizes[t] = vals
for t in tools:
    a, b, c = sizes[t]
    mb = lambda x: "–" if x is None else f"{x / 1e6:,.1f}"
    frac = "–" if a is None else f"{a / int(meta['data_bytes']):.3f}"
    added = "–" if a is None or c is None or b is None else f"{(c - b) / 1e6:,.1f}"
    fr = sizes.get("ferry", [None] * 3)[2]
    rel = "" if t == "ferry" else ratio(fr, c)
    p(f"| {t} | {mb(a)} | {mb(b)} | {mb(c)} | {frac} | {added} | {rel} |")
p("")
failed = problems(rows, "tool", tools, meta,
                  missing=lambda t: f"ferry: binary {meta.get('ferry_version', 'missing')}" if t == "ferry" else f"{t}: missing")
if failed:
    p("**Problems:** " + "; ".join(failed) + ". Tool output: bench/work/logs/.")
    p("")
print("\n".join(out))
PY
cat "$MD"

# ---------------------------------------------------------------------------- exit status, cleanup
status=0
if awk -F'\t' 'NR > 1 && ($3 == "restic" || $3 == "borg") && $4 != "ok" {bad = 1} END {exit !bad}' "$TSV"; then
    log "restic or borg failed: see $LOGS"
    status=1
fi
finish_run "$status"
