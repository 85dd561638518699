#!/usr/bin/env bash
# Round trip: back up a tree holding every file kind, restore it, compare everything.
#   roundtrip.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

SRC=$WORK/src
make_tree "$SRC" --seed 11

log "init"
expect_exit 0 "$FERRY" init
[[ -f $FERRY_REPOSITORY/config ]] || fail "init created no config"
[[ $(ls "$FERRY_REPOSITORY/keys" | wc -l) -eq 1 ]] || fail "init should create exactly one key file"

log "backup"
expect_exit 0 "$FERRY" backup --json "$SRC"
cp "$OUT" "$WORK/backup1.json"
SNAP=$(json_field "$WORK/backup1.json" snapshot_id)
[[ $SNAP =~ ^[0-9a-f]{64}$ ]] || fail "summary snapshot_id '$SNAP' is not 64 hex digits"
[[ $(json_field "$WORK/backup1.json" message_type) == summary ]] || fail "last JSON line is not the summary"
[[ $(json_field "$WORK/backup1.json" incomplete) == false ]] || fail "backup marked incomplete"
[[ $(json_field "$WORK/backup1.json" warnings) == 0 ]] || { cat "$ERR" >&2; fail "backup reported warnings"; }
[[ $(json_field "$WORK/backup1.json" files_unmodified) == 0 ]] || fail "first backup has unmodified files"
[[ $(json_field "$WORK/backup1.json" files_changed) == 0 ]] || fail "first backup has changed files"
[[ $(json_field "$WORK/backup1.json" files_new) -gt 0 ]] || fail "first backup has no new files"
[[ $(json_field "$WORK/backup1.json" packs_written) -ge 1 ]] || fail "first backup wrote no packs"
DATA_ADDED=$(json_field "$WORK/backup1.json" data_added)
[[ $DATA_ADDED -gt 0 && $DATA_ADDED -le $(repo_size) ]] ||
  fail "data_added $DATA_ADDED is not within (0, repository size $(repo_size)]"
log "backup summary: $(tail -n 1 "$WORK/backup1.json")"

log "repository layout: objects named by their SHA-256, no locks or strays left"
python3 "$E2E/repo_tool.py" layout "$FERRY_REPOSITORY" || fail "repository layout is wrong"
[[ -z $(ls -A "$FERRY_REPOSITORY/locks" 2>/dev/null) ]] || fail "lock left behind after backup"
[[ $(ls "$FERRY_REPOSITORY/snapshots" | wc -l) -eq 1 ]] || fail "expected 1 snapshot object"

log "snapshots --json"
expect_exit 0 "$FERRY" snapshots --json
python3 - "$OUT" "$SRC" "$SNAP" <<'PY' || fail "snapshots --json output is wrong: $(head -c 2000 "$OUT")"
import json, re, sys
out, src, snap = sys.argv[1:]
arr = json.load(open(out))
assert isinstance(arr, list) and len(arr) == 1, "expected one snapshot, got %r" % (arr,)
s = arr[0]
for k in ("id", "short_id", "time", "hostname", "username", "paths", "tags", "tree", "parent", "incomplete"):
    assert k in s, "field %s missing" % k
assert s["id"] == snap, "id %s is not the backup's snapshot_id %s" % (s["id"], snap)
assert s["id"].startswith(s["short_id"]) and 0 < len(s["short_id"]) < 64, "short_id %r" % s["short_id"]
assert s["paths"] == [src], "paths %r, expected [%r]" % (s["paths"], src)
assert re.fullmatch("[0-9a-f]{64}", s["tree"]), "tree %r" % s["tree"]
assert s["incomplete"] is False, "incomplete %r" % s["incomplete"]
assert s["parent"] in (None, ""), "first snapshot has parent %r" % s["parent"]
assert s["tags"] in ([], None), "tags %r" % s["tags"]
PY

log "ls"
expect_exit 0 "$FERRY" ls latest "$SRC"
for name in files nested links hardlinks sparse special perms owners xattrs names times; do
  grep -q -- "$name" "$OUT" || fail "ferry ls latest $SRC does not list '$name': $(head -c 2000 "$OUT")"
done
expect_exit 0 "$FERRY" ls latest "$SRC/files"
for name in empty one_byte random_3m.bin compressible_5m.txt zeros_2m.bin; do
  grep -q -- "$name" "$OUT" || fail "ferry ls latest $SRC/files does not list '$name': $(head -c 2000 "$OUT")"
done

log "check"
expect_exit 0 "$FERRY" check
expect_exit 0 "$FERRY" check --read-data

log "restore everything"
T=$WORK/restore
expect_exit 0 "$FERRY" restore latest --target "$T"
compare_trees "$SRC" "$T$SRC" --no-sparse
log "sparse files restored sparse"
if ! python3 "$E2E/compare_tree.py" "$SRC" "$T$SRC" >"$WORK/sparse.out" 2>&1; then
  cat "$WORK/sparse.out" >&2
  soft_fail "restored sparse files are not sparse (B may allocate at most A's allocation + 1 MiB)"
fi
top=${SRC#/}
top=${top%%/*}
[[ $(ls -A "$T") == "$top" ]] || fail "restore target holds more than the path $SRC: $(ls -A "$T")"
log "restored root directory keeps its own metadata"
compare_trees "$SRC" "$T$SRC" --with-root --no-sparse

log "restore by ID prefix with --include SRC/nested: only that subtree"
T2=$WORK/restore_include
expect_exit 0 "$FERRY" restore "${SNAP:0:12}" --target "$T2" --include "$SRC/nested"
compare_trees "$SRC/nested" "$T2$SRC/nested" --with-root
extra=$(cd "$T2" && find . -mindepth 1 | while IFS= read -r p; do
  p=${p#.}
  case "$SRC/nested" in "$p" | "$p"/*) continue ;; esac # an ancestor directory
  case "$p" in "$SRC/nested"/*) continue ;; esac        # inside the subtree
  printf '%s\n' "$p"
done)
[[ -z "$extra" ]] || fail "--include restored entries outside $SRC/nested: $(echo "$extra" | head -20)"

log "restore into the same non-empty target without --overwrite: fails, changes nothing"
tree_fingerprint "$T" >"$WORK/before.fp"
expect_exit nonzero "$FERRY" restore latest --target "$T"
[[ -s $ERR ]] || fail "refused restore printed no message on stderr"
log "refusal message: $(head -n 3 "$ERR")"
tree_fingerprint "$T" >"$WORK/after.fp"
diff "$WORK/before.fp" "$WORK/after.fp" >&2 || fail "refused restore changed the target"

log "restore --overwrite over a damaged copy puts it back"
printf 'garbage' >"$T$SRC/files/small.txt"
chmod 0777 "$T$SRC/files/random_3m.bin"
rm "$T$SRC/files/one_byte"
rm -r "$T$SRC/nested/sub"
expect_exit 0 "$FERRY" restore latest --target "$T" --overwrite
compare_trees "$SRC" "$T$SRC" --with-root --no-sparse

log "backup left the source unchanged (a fresh tree from the same seed still matches it)"
make_tree "$WORK/src_again" --seed 11 >/dev/null
compare_trees "$WORK/src_again" "$SRC" --with-root
