#!/usr/bin/env bash
# Wrong passwords, missing repositories, bad command lines, double init, and a damaged
# repository (packs, index, snapshot, config): ferry must fail cleanly and say what is wrong.
#   bad_input.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

RT="python3 $E2E/repo_tool.py"
SRC=$WORK/src
make_tree "$SRC" --seed 31 --only-bulk --bulk-big 2 --bulk-big-mib 6 --bulk-small 40
expect_exit 0 "$FERRY" init
expect_exit 0 "$FERRY" backup "$SRC"
GOOD=$WORK/good
cp -a "$FERRY_REPOSITORY" "$GOOD"

# ---------------------------------------------------------------------------------------
log "wrong password -> 12, message mentions the password"
printf 'not the password\n' >"$WORK/wrong"
for cmd in "snapshots" "check" "ls latest $SRC" "backup $SRC" "restore latest --target $WORK/r_wrong"; do
  # shellcheck disable=SC2086
  expect_exit 12 env FERRY_PASSWORD_FILE="$WORK/wrong" "$FERRY" $cmd
  output_mentions password || fail "'$cmd' with a wrong password does not mention the password: $(cat "$ERR")"
done
[[ ! -e $WORK/r_wrong ]] || [[ -z $(ls -A "$WORK/r_wrong") ]] || fail "restore with a wrong password wrote files"
expect_exit 12 env -u FERRY_PASSWORD_FILE FERRY_PASSWORD=wrong "$FERRY" snapshots
expect_exit 12 "$FERRY" snapshots --password-file "$WORK/wrong"

log "password sources: file without newline, extra lines, FERRY_PASSWORD, --password-file"
printf 'correct horse battery staple' >"$WORK/pw_nonl"
printf 'correct horse battery staple\nsecond line\n' >"$WORK/pw_lines"
expect_exit 0 env FERRY_PASSWORD_FILE="$WORK/pw_nonl" "$FERRY" snapshots
expect_exit 0 env FERRY_PASSWORD_FILE="$WORK/pw_lines" "$FERRY" snapshots
expect_exit 0 env -u FERRY_PASSWORD_FILE FERRY_PASSWORD='correct horse battery staple' "$FERRY" snapshots
expect_exit 0 env -u FERRY_PASSWORD_FILE "$FERRY" --password-file "$WORK/pw_nonl" snapshots
log "no password source and no TTY: fails, does not hang"
expect_exit nonzero env -u FERRY_PASSWORD_FILE -u FERRY_PASSWORD "$FERRY" snapshots

# ---------------------------------------------------------------------------------------
log "missing repository -> 10"
[[ ! -e /nonexistent ]] || fail "/nonexistent exists on this machine"
for repo in /nonexistent "$WORK/no/such/repo"; do
  expect_exit 10 env FERRY_REPOSITORY="$repo" "$FERRY" snapshots
  expect_exit 10 env FERRY_REPOSITORY="$repo" "$FERRY" check
  expect_exit 10 env FERRY_REPOSITORY="$repo" "$FERRY" backup "$SRC"
  expect_exit 10 env FERRY_REPOSITORY="$repo" "$FERRY" restore latest --target "$WORK/r_missing"
  expect_exit 10 "$FERRY" --repo "$repo" snapshots
  expect_exit 10 "$FERRY" snapshots -r "$repo"
done
[[ ! -e /nonexistent && ! -e $WORK/no ]] || fail "commands on a missing repository created it"

# ---------------------------------------------------------------------------------------
log "bad command line -> 2"
expect_exit 2 "$FERRY" frobnicate
expect_exit 2 "$FERRY" backup --no-such-option "$SRC"
expect_exit 2 "$FERRY" restore latest
expect_exit 2 "$FERRY" backup
expect_exit 2 "$FERRY" ls

# ---------------------------------------------------------------------------------------
log "init twice: fails, existing repository untouched"
tree_fingerprint "$FERRY_REPOSITORY" >"$WORK/repo_before.fp"
expect_exit nonzero "$FERRY" init
[[ -s $ERR ]] || fail "second init printed no message"
tree_fingerprint "$FERRY_REPOSITORY" >"$WORK/repo_after.fp"
diff "$WORK/repo_before.fp" "$WORK/repo_after.fp" >&2 || fail "second init changed the repository"
expect_exit nonzero env FERRY_PASSWORD_FILE="$WORK/wrong" "$FERRY" init
tree_fingerprint "$FERRY_REPOSITORY" >"$WORK/repo_after2.fp"
diff "$WORK/repo_before.fp" "$WORK/repo_after2.fp" >&2 || fail "second init (other password) changed the repository"
expect_exit 0 "$FERRY" snapshots --json
[[ $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT") == 1 ]] ||
  fail "repository lost its snapshot after a second init"

# ---------------------------------------------------------------------------------------
DMG=$WORK/damaged
fresh_copy() {
  chmod -R u+rwx "$DMG" 2>/dev/null || true
  rm -rf "$DMG" "$WORK/r_damaged"
  cp -a "$GOOD" "$DMG"
}
F=(env FERRY_REPOSITORY="$DMG" "$FERRY")   # ferry on the damaged copy

log "an undamaged copy of the repository checks clean"
fresh_copy
expect_exit 0 "${F[@]}" check --read-data

mapfile -t PACKS < <($RT objects "$DMG" data)
[[ ${#PACKS[@]} -ge 1 ]] || fail "no packs in the repository"
LARGEST_PACK=${PACKS[0]#"$DMG"/}
SMALLEST_PACK=${PACKS[-1]#"$DMG"/}
INDEX=$($RT objects "$DMG" index | head -n 1)
INDEX=${INDEX#"$DMG"/}
SNAPSHOT=$($RT objects "$DMG" snapshots | head -n 1)
SNAPSHOT=${SNAPSHOT#"$DMG"/}
[[ -n $INDEX && -n $SNAPSHOT ]] || fail "repository has no index or snapshot object"
log "packs: ${#PACKS[@]} (largest $(stat -c %s "$DMG/$LARGEST_PACK") bytes), index $INDEX, snapshot $SNAPSHOT"

# damage NAME OBJECT CHECKS... -- ACTION...
#   copies the good repository, applies ACTION (a repo_tool.py command) to OBJECT, then for each
#   of CHECKS ("check" or "check --read-data") asserts: status 1 (damage found), no crash, and
#   the object's ID (file name) in the output. For config damage any non-zero status is taken.
damage() {
  local name=$1 obj=$2
  shift 2
  local checks=()
  while [[ $1 != -- ]]; do checks+=("$1"); shift; done
  shift
  log "damage: $name ($obj)"
  fresh_copy
  $RT "$1" "$DMG/$obj" "${@:2}" >/dev/null || fail "could not damage $obj"
  local id
  id=$(basename "$obj")
  local c
  for c in "${checks[@]}"; do
    # shellcheck disable=SC2086
    if [[ $id == config ]]; then
      expect_exit nonzero "${F[@]}" $c
    else
      expect_exit 1 "${F[@]}" $c
    fi
    output_mentions "$id" || {
      cat "$OUT" "$ERR" >&2
      fail "'ferry $c' on a repository with $name does not name the damaged object $id"
    }
  done
  # nothing else may crash on it either
  expect_no_crash "${F[@]}" snapshots
  expect_no_crash "${F[@]}" ls latest "$SRC"
}

# restore_fails ID: a full restore from the damaged copy must fail with a clear message
restore_fails() {
  local id=$1
  expect_exit nonzero "${F[@]}" restore latest --target "$WORK/r_damaged"
  [[ -s $ERR ]] || fail "failed restore printed nothing on stderr"
  grep -Eiq -- "$id|corrupt|damage|integrity|authenticat|mac|checksum|hash|decrypt|invalid|mismatch|truncat" "$ERR" ||
    fail "restore failure message is not clear: $(head -n 5 "$ERR")"
  log "restore failed as it should: $(grep -Ei -- "$id|corrupt|damage|integrity|authenticat|mac|checksum|hash|decrypt|invalid|mismatch|truncat" "$ERR" | head -n 1)"
}

# restore_fails_or_correct ID: when the damage spares every blob (only the pack's header or
# trailer is hit; restore locates blobs through the index), restore may succeed, but then
# what it restored must be exactly the source; otherwise it must fail clearly.
restore_fails_or_correct() {
  local id=$1 rc=0
  timeout -k 10 "${E2E_CMD_TIMEOUT:-300}" "${F[@]}" restore latest --target "$WORK/r_damaged" \
    >"$OUT" 2>"$ERR" </dev/null || rc=$?
  LAST_RC=$rc
  LAST_CMD="ferry restore latest (damaged $id)"
  assert_no_crash
  if [[ $rc -eq 0 ]]; then
    compare_trees "$SRC" "$WORK/r_damaged$SRC" --with-root >/dev/null
    log "restore succeeded (blobs intact) and restored the source exactly"
  else
    restore_fails "$id"
  fi
}

damage "one bit flipped in the middle of a pack" "$LARGEST_PACK" "check --read-data" -- flip
restore_fails "$(basename "$LARGEST_PACK")"

damage "one bit flipped in the middle of the smallest pack" "$SMALLEST_PACK" "check --read-data" -- flip

damage "pack truncated by 100 bytes" "$LARGEST_PACK" "check" "check --read-data" -- truncate 100
restore_fails_or_correct "$(basename "$LARGEST_PACK")"

damage "pack truncated to half its size" "$LARGEST_PACK" "check" "check --read-data" -- \
  truncate "$(($(stat -c %s "$GOOD/$LARGEST_PACK") / 2))"
restore_fails "$(basename "$LARGEST_PACK")"

damage "pack trailer header length 0x7fffffff" "$LARGEST_PACK" "check" "check --read-data" -- trailer 0x7fffffff
restore_fails_or_correct "$(basename "$LARGEST_PACK")"

damage "pack trailer header length 0" "$SMALLEST_PACK" "check" "check --read-data" -- trailer 0

damage "one bit flipped in an index file" "$INDEX" "check" "check --read-data" -- flip

damage "one bit flipped in a snapshot file" "$SNAPSHOT" "check" "check --read-data" -- flip

damage "config truncated to half" config "check" "check --read-data" -- truncate "$(($(stat -c %s "$GOOD/config") / 2))"

damage "config truncated to nothing" config "check" "check --read-data" -- truncate "$(stat -c %s "$GOOD/config")"

log "damage: a pack is missing"
fresh_copy
rm "$DMG/$LARGEST_PACK"
for c in "check" "check --read-data"; do
  # shellcheck disable=SC2086
  expect_exit 1 "${F[@]}" $c
  output_mentions "$(basename "$LARGEST_PACK")" || fail "'ferry $c' does not name the missing pack"
done
expect_exit nonzero "${F[@]}" restore latest --target "$WORK/r_damaged"
[[ -s $ERR ]] || fail "restore with a missing pack printed nothing on stderr"

log "the good repository is still good"
expect_exit 0 env FERRY_REPOSITORY="$GOOD" "$FERRY" check --read-data

log "a storage location of an unknown scheme is refused, naming the schemes this ferry knows"
expect_exit nonzero env FERRY_REPOSITORY="ftp://example.com/repo" "$FERRY" init
grep -q "no backend for 'ftp://'" "$ERR" || fail "unknown scheme: $(cat "$ERR")"
grep -q "local:PATH" "$ERR" || fail "unknown scheme: the error does not name the known schemes"
expect_exit nonzero env FERRY_REPOSITORY="Bad Scheme://x" "$FERRY" init
grep -q "not a scheme name" "$ERR" || fail "malformed scheme: $(cat "$ERR")"
expect_exit 0 env FERRY_REPOSITORY="local:$WORK/via-local-scheme" "$FERRY" init
[[ -f $WORK/via-local-scheme/config ]] || fail "local:PATH did not create the repository at PATH"
