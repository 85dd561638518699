# shellcheck shell=bash
# Helpers shared by compare.sh and vault.sh. Source after defining log() and
# die() and the variables WORK, RUN, KEEP and MD; phase and mutate_corpus also use
# run_step, CONTENDERS, RUNS, DATA, LOGS, META, MUTATE_SEED and FRACTION; the corpus
# and version helpers ROOT, FERRY, FERRY_OK, SIZE and SEED.

# install_debian_packages PKG...: apt-get install what is missing (as root).
install_debian_packages() {
    (($#)) || return 0
    [[ $(id -u) == 0 ]] || die "missing $*: run as root or: sudo apt-get install -y $*"
    log "installing $* from Debian"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y "$@" >&2; then
        apt-get update >&2
        apt-get install -y "$@" >&2
    fi
}

# move_aside_leftovers TRASH_NAME DIR...: a previous run's leftovers are moved
# into $WORK/TRASH_NAME.$$ (cheap) and deleted only after this run's timings
# (finish_run): a large rm -rf makes file creation slow for minutes on this
# machine (see REFERENCE.md). Sets TRASH.
move_aside_leftovers() {
    local name=$1 old
    shift
    mkdir -p "$WORK"
    TRASH=$WORK/$name.$$
    for old in "$@" "$WORK/$name".*; do
        if [[ -e $old && $old != "$TRASH" ]]; then mkdir -p "$TRASH"; mv "$old" "$TRASH/"; fi
    done
}

# warn_if_short_of_space NEED_BYTES
warn_if_short_of_space() {
    local avail
    avail=$(($(df --output=avail -B1 "$WORK" | tail -n1)))
    if ((avail < $1)); then
        log "warning: $((avail >> 20)) MiB free in $WORK, this run may need about $(($1 >> 20)) MiB"
    fi
}

data_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d\n", s}'; }

# ferry_version_line: the "ferry_version=…" line of $META: version, commit (marked
# when src/ has uncommitted changes) and when the binary $FERRY was built.
ferry_version_line() {
    if [[ $FERRY_OK != 1 ]]; then
        echo "ferry_version=missing ($FERRY)"
        return
    fi
    local v c dirty
    v=$(timeout 10 "$FERRY" --version </dev/null 2>/dev/null | head -n1 || true)
    c=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")
    dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no -- src 2>/dev/null | head -n1)
    echo "ferry_version=${v:-ferry} (${c}${dirty:+ + uncommitted changes in src/}, binary built $(date -u -r "$FERRY" '+%Y-%m-%d %H:%M UTC'))"
}

# generate_corpus: $SIZE of gen_dataset.py output (seed $SEED) in $DATA; its
# size and counts go to $META.
generate_corpus() {
    log "generating a $SIZE corpus (seed $SEED) in $DATA"
    python3 "$BENCH_DIR/gen_dataset.py" "$DATA" --size "$SIZE" --seed "$SEED" 2>&1 | tee "$LOGS/gen.log" >&2
    sync
    {
        echo "data_bytes=$(data_bytes "$DATA")"
        echo "data_files=$(find "$DATA" -type f | wc -l)"
        echo "data_links=$(find "$DATA" -type l | wc -l)"
        echo "data_dirs=$(find "$DATA" -type d | wc -l)"
    } >>"$META"
}

# phase STEP BYTES: run_step STEP NAME RUN BYTES (the script's) for every run and
# every name in the script's CONTENDERS array, interleaved, with the order rotated
# from run to run (A B C, B C A, ...) so that no tool always runs first.
phase() {
    local r i n=${#CONTENDERS[@]}
    for ((r = 1; r <= RUNS; r++)); do
        for ((i = 0; i < n; i++)); do run_step "$1" "${CONTENDERS[((i + r - 1) % n)]}" "$r" "$2"; done
    done
}

# mutate_corpus: changes $DATA once (gen_dataset.py --mutate, $MUTATE_SEED,
# $FRACTION) and records the new size and what changed in $META.
mutate_corpus() {
    log "mutating the corpus (seed $MUTATE_SEED, fraction $FRACTION)"
    python3 "$BENCH_DIR/gen_dataset.py" "$DATA" --mutate --seed "$MUTATE_SEED" --fraction "$FRACTION" 2>&1 |
        tee "$LOGS/mutate.log" >&2
    sync
    echo "data_bytes_mutated=$(data_bytes "$DATA")" >>"$META"
    echo "mutation=$(sed -n 's/^gen_dataset: mutated [^:]*: *//p' "$LOGS/mutate.log" | head -n1)" >>"$META"
}
dir_bytes() { if [[ -e $1 ]]; then du -sb "$1" | cut -f1; else echo 0; fi; }

# finish_run STATUS: keep or remove $RUN, empty the trash, exit with STATUS.
finish_run() {
    if [[ $KEEP == 1 ]]; then
        log "keeping $RUN (BENCH_KEEP=1)"
    elif [[ $1 == 0 ]]; then
        log "cleaning up $RUN"
        rm -rf "$RUN"
    else
        log "keeping $RUN for inspection (a step failed); the next run removes it"
    fi
    if [[ -e $TRASH ]]; then rm -rf "$TRASH"; fi
    log "results: $MD"
    exit "$1"
}
