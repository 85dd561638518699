#!/usr/bin/env bash
# Hostile trees (issue 9): a snapshot 20,000 directories deep (it crashed ls, check and
# restore with SIGSEGV), a damaged tree and a damaged file among good ones (one aborted the
# whole restore and left a full-size file of holes), a file larger than the target's space.
#   hostile_trees.sh PATH-TO-FERRY   (FERRY_HOSTILE_REPO: the ferry_hostile_repo helper)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
HOSTILE=${FERRY_HOSTILE_REPO:?set FERRY_HOSTILE_REPO to the ferry_hostile_repo binary}

expect_exit 0 "$FERRY" init

log "a snapshot whose tree is 20,000 levels deep"
DEEP=$("$HOSTILE" "$FERRY_REPOSITORY" deep-tree 20000) || fail "could not write the deep tree"
expect_exit 3 "$FERRY" ls "$DEEP"
grep -q "nested deeper than 2048 levels" "$ERR" || fail "ls does not say the tree is too deep"
[[ $(wc -l <"$OUT") -eq 2048 ]] || fail "ls listed $(wc -l <"$OUT") entries, not the 2048 levels it may"
expect_exit 1 "$FERRY" check
output_mentions "nested deeper than 2048 levels" || fail "check does not report the tree that is too deep"
expect_exit 3 "$FERRY" restore "$DEEP" --target "$WORK/deep"
grep -q "not restored: .*nested deeper than 2048 levels" "$ERR" ||
  fail "restore does not name the directory nested too deep"
[[ -d $WORK/deep/d/d/d/d ]] || fail "restore did not restore the levels it could"

log "a damaged tree and a damaged file among good entries"
SRC=$WORK/src
make_tree "$SRC" --seed 9
expect_exit 0 "$FERRY" backup "$SRC"
DAMAGED=$("$HOSTILE" "$FERRY_REPOSITORY" damaged latest) || fail "could not write the damaged snapshot"
expect_exit 3 "$FERRY" restore "$DAMAGED" --target "$WORK/r1"
grep -q "^warning: /broken-dir: not restored: its directory listing cannot be read" "$ERR" ||
  fail "restore does not name the damaged directory and why"
grep -q "^warning: /broken-file: not restored: " "$ERR" || fail "restore does not name the damaged file"
grep -q "the restore is incomplete: 2 entries could not be restored" "$ERR" ||
  fail "restore does not end with what it could not restore"
compare_trees "$SRC" "$WORK/r1$SRC" --with-root
[[ ! -e $WORK/r1/broken-file ]] || fail "a failed file was left behind, looking restored"
[[ -z $(find "$WORK/r1" -name '.ferry-restore-*') ]] || fail "temporary files were left behind"
expect_exit 3 "$FERRY" restore "$DAMAGED" --target "$WORK/r2" --json
[[ $(json_field "$OUT" incomplete) == true ]] || fail "restore --json does not say incomplete"
python3 -c 'import json,sys; f=json.loads(sys.argv[1]); assert len(f)==2, f' "$(json_field "$OUT" failures)" ||
  fail "restore --json does not list the two failures"
expect_exit 3 "$FERRY" ls "$DAMAGED"
grep -q "/broken-dir: not listed" "$ERR" || fail "ls does not name the directory it cannot list"
grep -q "$SRC/files" "$OUT" || fail "ls stopped at the damaged directory"

log "a file larger than the target's free space"
HUGE=$("$HOSTILE" "$FERRY_REPOSITORY" huge-file $((1 << 50))) || fail "could not write the huge file"
expect_exit 1 "$FERRY" restore "$HUGE" --target "$WORK/r3"
grep -q "not enough space to restore into $WORK/r3: the files need $((1 << 50)) bytes" "$ERR" ||
  fail "restore does not refuse for space with both numbers: $(cat "$ERR")"
grep -Eq "has [0-9]+ bytes .* available" "$ERR" || fail "restore does not say what is available"
[[ ! -e $WORK/r3 ]] || fail "restore wrote something although it lacks the space"

log "hostile trees: ok"
