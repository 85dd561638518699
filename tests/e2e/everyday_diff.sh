#!/usr/bin/env bash
# ferry diff lists exactly the paths that changed between two snapshots, with restic's
# markers, and the same lines as `restic diff` on the same two states of the tree; --metadata
# adds metadata-only changes; --json is one change per line and a statistics object; the
# figures agree with the changes; bad snapshots are errors.
#   everyday_diff.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

SRC=$WORK/src
make_tree "$SRC" --seed 7 2>/dev/null
mkdir -p "$SRC/work/old-dir/sub"
echo "to be removed" >"$SRC/work/gone.txt"
echo "stays" >"$SRC/work/keep.txt"
echo "version 1" >"$SRC/work/change.txt"
echo "in the old dir" >"$SRC/work/old-dir/sub/f"
echo "a file that becomes a directory" >"$SRC/work/retyped"
echo "mode only" >"$SRC/work/chmod.txt"
export RESTIC_REPOSITORY=$WORK/restic RESTIC_PASSWORD=restic-pw
restic init -q >/dev/null
expect_exit 0 "$FERRY" init
expect_exit 0 "$FERRY" backup --json "$SRC"
A=$(json_field "$OUT" snapshot_id)
restic backup -q "$SRC" >/dev/null

log "mutate: add, remove, modify, retype, chmod"
rm "$SRC/work/gone.txt"
rm -r "$SRC/work/old-dir"
echo "version 2, longer" >"$SRC/work/change.txt"
mkdir -p "$SRC/work/new-dir/inner"
echo "new" >"$SRC/work/new-dir/inner/n.txt"
echo "added" >"$SRC/work/added.txt"
rm "$SRC/work/retyped"
mkdir "$SRC/work/retyped"
chmod 0600 "$SRC/work/chmod.txt"
expect_exit 0 "$FERRY" backup --json "$SRC"
B=$(json_field "$OUT" snapshot_id)
restic backup -q "$SRC" >/dev/null

W=$SRC/work
cat >"$WORK/expected" <<EXP
+    $W/added.txt
M    $W/change.txt
-    $W/gone.txt
+    $W/new-dir/
+    $W/new-dir/inner/
+    $W/new-dir/inner/n.txt
-    $W/old-dir/
-    $W/old-dir/sub/
-    $W/old-dir/sub/f
T    $W/retyped/
EXP
expect_exit 0 "$FERRY" diff "${A:0:8}" "${B:0:8}"
grep -E '^[-+MTU?]+ +/' "$OUT" >"$WORK/ferry.changes"
diff -u "$WORK/expected" "$WORK/ferry.changes" >&2 || fail "diff does not list exactly the mutated paths"
head -1 "$OUT" | grep -q "^comparing snapshot ${A:0:8} to ${B:0:8}:" || fail "diff header: $(head -1 "$OUT")"
grep -q "^Files: *2 new, *2 removed, *1 changed" "$OUT" || fail "diff file counts: $(cat "$OUT")"
grep -q "^Dirs: *2 new, *2 removed" "$OUT" || fail "diff dir counts: $(cat "$OUT")"

log "the same lines as restic diff on the same two states"
read -r r1 r2 < <(restic snapshots --json |
  python3 -c 'import json,sys; s=json.load(sys.stdin); print(s[0]["short_id"], s[1]["short_id"])')
restic diff "$r1" "$r2" | grep -E '^[-+MTU?]+ +/' >"$WORK/restic.changes"
diff -u "$WORK/restic.changes" "$WORK/ferry.changes" >&2 || fail "ferry diff and restic diff list different changes"

log "--metadata adds the chmod (and the directories whose times changed)"
expect_exit 0 "$FERRY" diff --metadata "$A" "$B"
grep -q "^U    $W/chmod.txt$" "$OUT" || fail "--metadata does not list the chmod: $(cat "$OUT")"
grep -q "^U    $W/$" "$OUT" || fail "--metadata does not list the changed directory"
expect_exit 0 "$FERRY" diff "$A" "$B"
! grep -q "chmod.txt" "$OUT" || fail "a metadata-only change is listed without --metadata"

log "--json: one change per line, then the statistics"
expect_exit 0 "$FERRY" diff --json "$A" "$B"
python3 - "$OUT" "$WORK/expected" "$A" "$B" <<'PY' || fail "diff --json is not as documented"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
changes = [l for l in lines if l["message_type"] == "change"]
expected = [l.rstrip("\n") for l in open(sys.argv[2])]
got = ["%-5s%s" % (c["modifier"], c["path"]) for c in changes]
assert got == expected, (got, expected)
stats = lines[-1]
assert stats["message_type"] == "statistics", stats
assert stats["source_snapshot"] == sys.argv[3] and stats["target_snapshot"] == sys.argv[4], stats
assert stats["changed_files"] == 1 and stats["added"]["files"] == 2 and stats["removed"]["files"] == 2, stats
assert stats["added"]["data_blobs"] >= 3 and stats["added"]["bytes"] > 0, stats
assert stats["removed"]["data_blobs"] >= 2, stats
PY

log "a snapshot with itself: nothing; bad IDs: errors"
expect_exit 0 "$FERRY" diff --json "$B" "$B"
[[ $(grep -c '"change"' "$OUT" || true) == 0 ]] || fail "a snapshot differs from itself"
expect_exit 1 "$FERRY" diff "$A" ffffffffff
grep -q "no snapshot matches" "$ERR" || fail "a missing snapshot is not named: $(cat "$ERR")"
expect_exit 2 "$FERRY" diff "$A"
exit 0
