#!/usr/bin/env bash
# Crash consistency: kill -9 a running backup at various moments; the next backup must
# succeed, check must pass, every object must still be named by its SHA-256, and the final
# restore must match the source. Also SIGINT/SIGTERM: exit 130 and a usable repository.
#   crash.sh PATH-TO-FERRY
# The kill delays adapt to the machine: a first, timed full backup (into a scratch
# repository) gives T, and the first backup of a fresh repository is killed after
# 0.1, 0.25, 0.4, 0.55 and 0.7 x T (and after the fixed 0.3, 1 and 2 s when they are < T).
# CRASH_DELAYS="0.3 1 2" overrides the list.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

SRC=$WORK/src
# ~300 MiB: 16 x 16 MiB (half random, half compressible) + 1500 small files of 1 B..64 KiB
make_tree "$SRC" --seed 41 --only-bulk --bulk-big 16 --bulk-big-mib 16 --bulk-small 1500 --bulk-small-max-kib 64
log "source: $(du -sb "$SRC" | cut -f1) bytes"

# objects under their final names must be complete (atomic writes); temp files may remain
layout_ok() {
  python3 "$E2E/repo_tool.py" layout "$FERRY_REPOSITORY" --allow-stray >"$WORK/layout.out" 2>&1 ||
    { cat "$WORK/layout.out" >&2; fail "after $1: an object's bytes do not match its name (torn write?)"; }
  log "  $(grep '^layout:' "$WORK/layout.out")"
  grep '^stray' "$WORK/layout.out" | head -n 3 | sed "s/^/[$TEST_NAME]     /" || true
}

# interrupt_backup DELAY SIGNAL: start a backup, send SIGNAL after DELAY seconds.
# Sets KILLED=1 if the signal reached a running backup, and BG_RC.
interrupt_backup() {
  local delay=$1 sig=$2 pid
  bg_start pid "$FERRY" backup "$SRC"
  sleep "$delay"
  if kill -0 "$pid" 2>/dev/null && kill -s "$sig" "$pid" 2>/dev/null; then
    KILLED=1
  else
    KILLED=0
  fi
  bg_wait "$pid"
  if [[ $KILLED == 1 ]]; then
    log "  backup got SIG$sig after ${delay}s, exit status $BG_RC"
  else
    log "  NOTE: backup finished (status $BG_RC) before SIG$sig at ${delay}s: this round tests nothing"
  fi
  if grep -Eq "$_CRASH_RE" "$WORK/bg.err"; then
    cat "$WORK/bg.err" >&2
    fail "interrupted backup printed a crash message"
  fi
}

recover() {
  local t0=$SECONDS
  layout_ok "$1"
  expect_exit 0 "$FERRY" backup --json "$SRC"
  log "  backup after $1: exit 0 in $((SECONDS - t0))s; $(tail -n 1 "$OUT")"
  [[ $(json_field "$OUT" incomplete) == false ]] || fail "backup after $1 is incomplete"
  expect_exit 0 "$FERRY" check
  layout_ok "the recovery backup"
}

add_data() { # add_data NAME MiB: new random data, so the next backup has work to do
  python3 -c 'import random,sys; open(sys.argv[1],"wb").write(random.Random(sys.argv[1]).randbytes(int(sys.argv[2])<<20))' \
    "$SRC/bulk/$1" "$2"
}

now() { date +%s.%N; }
fmul() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a * b }'; }
flt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

log "timing two full backups into scratch repositories (the faster one counts)"
T_FULL=""
for i in 1 2; do
  chmod -R u+rwx "$FERRY_REPOSITORY" 2>/dev/null || true
  rm -rf "$FERRY_REPOSITORY"
  expect_exit 0 "$FERRY" init   # a deliberate re-init: it re-pins the path (docs/cli.md, "ferry trust")
  t0=$(now)
  expect_exit 0 "$FERRY" backup "$SRC"
  t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
  [[ -z $T_FULL ]] || flt "$t" "$T_FULL" && T_FULL=$t
done
SRC_MIB=$(($(du -sb "$SRC" | cut -f1) >> 20))
log "full backup of $SRC_MIB MiB took ${T_FULL}s"
# seconds a backup of N MiB of new data is expected to take
est_secs() { awk -v t="$T_FULL" -v n="$1" -v s="$SRC_MIB" 'BEGIN { printf "%.3f", t * n / s }'; }

if [[ -n ${CRASH_DELAYS:-} ]]; then
  DELAYS=$CRASH_DELAYS
else
  DELAYS=""
  for d in 0.3 1 2; do flt "$d" "$T_FULL" && DELAYS+=" $d"; done
  fracs="0.1 0.25 0.4 0.55 0.7"
  flt 20 "$T_FULL" && fracs="0.1 0.5 0.9" # a slow machine: fewer rounds
  for f in $fracs; do DELAYS+=" $(fmul "$f" "$T_FULL")"; done
fi

KILLS=0
for delay in $DELAYS; do
  log "round: kill -9 the first backup of a fresh repository after ${delay}s"
  chmod -R u+rwx "$FERRY_REPOSITORY" 2>/dev/null || true
  rm -rf "$FERRY_REPOSITORY"
  expect_exit 0 "$FERRY" init   # a deliberate re-init: it re-pins the path (docs/cli.md, "ferry trust")
  interrupt_backup "$delay" KILL
  [[ $KILLED == 1 ]] && KILLS=$((KILLS + 1))
  recover "kill -9 at ${delay}s"
done

log "round: two kill -9 in a row during incremental backups (96 MiB new data, then 96 MiB more)"
add_data new_1.bin 96
interrupt_backup "$(fmul 0.4 "$(est_secs 96)")" KILL
[[ $KILLED == 1 ]] && KILLS=$((KILLS + 1))
add_data new_2.bin 96
interrupt_backup "$(fmul 0.7 "$(est_secs 192)")" KILL
[[ $KILLED == 1 ]] && KILLS=$((KILLS + 1))
recover "two kills in a row"

for sig in INT TERM; do
  log "round: SIG$sig during a backup (96 MiB new data) -> exit 130"
  add_data "new_$sig.bin" 96
  interrupt_backup "$(fmul 0.4 "$(est_secs 96)")" "$sig"
  if [[ $KILLED == 1 && $BG_RC != 130 && $BG_RC != 0 ]]; then
    cat "$WORK/bg.err" >&2
    fail "backup interrupted by SIG$sig exited $BG_RC, expected 130"
  fi
  [[ $KILLED == 1 && $BG_RC == 0 ]] && log "  NOTE: SIG$sig arrived too late to interrupt (status 0)"
  recover "SIG$sig"
  [[ -z $(ls -A "$FERRY_REPOSITORY/locks" 2>/dev/null) ]] || fail "lock left behind after SIG$sig and a clean backup"
done

[[ $KILLS -gt 0 ]] || fail "no kill -9 hit a running backup: the source is too small for this machine"

log "final: all snapshots complete, check --read-data, restore latest, compare"
expect_exit 0 "$FERRY" snapshots --json
python3 - "$OUT" <<'PY' || fail "snapshots after crashes: $(head -c 3000 "$OUT")"
import json, sys
arr = json.load(open(sys.argv[1]))
assert arr, "no snapshots"
bad = [s["id"] for s in arr if s.get("incomplete")]
assert not bad, "incomplete snapshots: %r" % bad
PY
expect_exit 0 "$FERRY" check --read-data
expect_exit 0 "$FERRY" restore latest --target "$WORK/restore"
compare_trees "$SRC" "$WORK/restore$SRC" --with-root
