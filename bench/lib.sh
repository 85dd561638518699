# shellcheck shell=bash
# Helpers shared by compare.sh and vault.sh. Source after defining log() and
# die() and the variables WORK, RUN, KEEP and MD.

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
