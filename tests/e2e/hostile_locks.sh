#!/usr/bin/env bash
# Hostile and stale locks (issue 9): an unreadable lock object (what any machine token can
# upload) blocked backup, restore and check, and nothing said how to clear it.
#   hostile_locks.sh PATH-TO-FERRY   (FERRY_HOSTILE_REPO: the ferry_hostile_repo helper)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
HOSTILE=${FERRY_HOSTILE_REPO:?set FERRY_HOSTILE_REPO to the ferry_hostile_repo binary}

SRC=$WORK/src
mkdir -p "$SRC"
echo "some data" >"$SRC/file"
expect_exit 0 "$FERRY" init
expect_exit 0 "$FERRY" backup "$SRC"

log "a junk lock object under its correct name"
head -c 300 /dev/urandom >"$WORK/junk"
JUNK=$(sha256sum "$WORK/junk" | cut -c1-64)
mkdir -p "$FERRY_REPOSITORY/locks"
cp "$WORK/junk" "$FERRY_REPOSITORY/locks/$JUNK"
expect_exit 0 "$FERRY" backup "$SRC"
grep -q "warning: lock $JUNK cannot be read" "$ERR" || fail "backup does not name the unreadable lock"
grep -q "ferry unlock --remove-all" "$ERR" || fail "the warning does not say how to remove it"
expect_exit 0 "$FERRY" restore latest --target "$WORK/r1"
expect_exit 0 "$FERRY" check
[[ -e $FERRY_REPOSITORY/locks/$JUNK ]] || fail "a shared operation removed the unreadable lock"

log "unlock keeps it until 30 minutes after this machine first saw it"
expect_exit 0 "$FERRY" unlock
grep -q "kept lock ${JUNK:0:8}.*cannot be read" "$OUT" || fail "unlock does not say it keeps the unreadable lock"
[[ -e $FERRY_REPOSITORY/locks/$JUNK ]] || fail "unlock removed an unreadable lock first seen just now"
SEEN=$(ls "$XDG_CACHE_HOME"/ferry/locks/*.json) || fail "the first sighting was not remembered"
grep -q "$JUNK" "$SEEN" || fail "the first sighting does not name the lock"
# An hour ago, as far as this machine remembers.
python3 - "$SEEN" "$JUNK" <<'PY'
import json, sys, time
path, lock = sys.argv[1:]
seen = json.load(open(path))
seen[lock] = time.time_ns() - 3600 * 10**9
json.dump(seen, open(path, "w"))
PY
expect_exit 0 "$FERRY" unlock
grep -q "removed lock ${JUNK:0:8}" "$OUT" || fail "unlock did not remove the unreadable lock seen an hour ago"
[[ ! -e $FERRY_REPOSITORY/locks/$JUNK ]] || fail "the unreadable lock is still there"

log "unlock --remove-all removes an unreadable lock at once"
cp "$WORK/junk" "$FERRY_REPOSITORY/locks/$JUNK"
expect_exit 0 "$FERRY" unlock --remove-all
[[ ! -e $FERRY_REPOSITORY/locks/$JUNK ]] || fail "unlock --remove-all left the unreadable lock"

log "a live exclusive lock of another host: exit 11, and the message names ferry unlock"
"$HOSTILE" "$FERRY_REPOSITORY" lock exclusive elsewhere.example 4242 0 >/dev/null || fail "could not write the lock"
expect_exit 11 "$FERRY" backup "$SRC"
grep -q "elsewhere.example" "$ERR" || fail "the locked message does not name the holder"
grep -q "ferry unlock" "$ERR" || fail "the locked message does not name ferry unlock"
expect_exit 0 "$FERRY" unlock
grep -q "kept exclusive lock .*elsewhere.example.*live" "$OUT" || fail "unlock does not keep the live lock"
expect_exit 11 "$FERRY" backup "$SRC"
expect_exit 0 "$FERRY" unlock --remove-all
grep -q "removed exclusive lock .*elsewhere.example" "$OUT" || fail "unlock --remove-all does not name what it removed"
expect_exit 0 "$FERRY" backup "$SRC"

log "a stale lock (not refreshed for an hour) goes with a plain unlock"
"$HOSTILE" "$FERRY_REPOSITORY" lock exclusive elsewhere.example 4242 3600 >/dev/null || fail "could not write the lock"
expect_exit 0 "$FERRY" unlock
grep -q "removed exclusive lock .*stale: not refreshed for over 30 minutes" "$OUT" ||
  fail "unlock does not remove the stale lock"
[[ -z $(ls -A "$FERRY_REPOSITORY/locks") ]] || fail "locks are left: $(ls "$FERRY_REPOSITORY/locks")"

log "on a vault: a machine token removes only the locks of its own process"
source "$E2E/vault_lib.sh"  # unsets FERRY_REPOSITORY
vault_start_server
vault_setup prod
vault_register prod m1 "$WORK/m.json" "$WORK/m-maint.json"
VREPO=$VDATA/repositories/prod/m1
expect_exit 0 "$FERRY" --agent "$WORK/m.json" init
expect_exit 0 "$FERRY" --agent "$WORK/m.json" backup "$SRC"
[[ -z $(ls -A "$VREPO/locks" 2>/dev/null) ]] || fail "backup could not release its own lock on the vault"
# Another process's live exclusive lock (a prune elsewhere), as the vault stores it.
"$HOSTILE" "$VREPO" lock exclusive elsewhere.example 4242 0 >/dev/null || fail "could not write the lock"
expect_exit 11 "$FERRY" --agent "$WORK/m.json" backup "$SRC"
grep -q "ferry unlock" "$ERR" || fail "the locked message does not name ferry unlock"
expect_exit 1 "$FERRY" --agent "$WORK/m.json" unlock --remove-all
grep -q "maintenance token" "$ERR" || fail "unlock with the machine token does not say it needs the maintenance token"
[[ -n $(ls -A "$VREPO/locks") ]] || fail "the machine token removed another process's lock"
expect_exit 0 "$FERRY" --agent "$WORK/m-maint.json" unlock --remove-all
grep -q "removed exclusive lock .*elsewhere.example" "$OUT" || fail "the maintenance token did not remove the lock"
expect_exit 0 "$FERRY" --agent "$WORK/m.json" backup "$SRC"

log "hostile locks: ok"
