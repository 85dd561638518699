#!/usr/bin/env bash
# Hostile repository objects (docs/security.md, "Hostile repository objects"): a machine token is
# append-only, but it can still add objects under their correct SHA-256 names. Junk and
# bit-flipped objects of every kind are planted with curl through a real vault; snapshots,
# restore of a good snapshot (byte for byte) and backup must go on, warning about each planted
# object by name, with the documented exit codes; check must report each with its repair, and
# `ferry repair` with the maintenance token must leave check clean. Then the same for one
# flipped bit in an old snapshot of a local repository.
#   hostile_objects.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

# plant TOKEN KIND FILE: PUT FILE under its SHA-256 name; prints the name
plant() {
  local token=$1 kind=$2 file=$3 name
  name=$(sha256_of_file "$file")
  http PUT "/vault/v1/repository/$kind/$name" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$file"
  [[ $HTTP_CODE == 201 ]] || fail "planting $kind/$name answered $HTTP_CODE: $(head -c 300 "$HTTP_BODY")"
  echo "$name"
}

# flipped_copy SRC DST: DST is SRC with the lowest bit of its middle byte flipped
flipped_copy() {
  cp "$1" "$2"
  python3 "$E2E/repo_tool.py" flip "$2" >/dev/null
}

junk() { # junk FILE BYTES
  head -c "$2" /dev/urandom >"$1"
}

# warned NAME: the last command's stderr has a warning naming NAME
warned() {
  grep -Eq "warning: .*$1" "$ERR"
}

vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/a.json" "$WORK/a-maint.json"
TOKEN=$(token_of "$WORK/a.json")
REPO=$VDATA/repositories/prod/fs01
AGENT=(--agent "$WORK/a.json")

SRC=$WORK/src
make_tree "$SRC" --seed 7 2>/dev/null
expect_exit 0 "$FERRY" "${AGENT[@]}" init
expect_exit 0 "$FERRY" "${AGENT[@]}" backup --json "$SRC"
SNAP1=$(json_field "$OUT" snapshot_id)
cp -a "$SRC" "$WORK/src_at_snap1"
echo "changed after the first backup" >"$SRC/new_file.txt"
expect_exit 0 "$FERRY" "${AGENT[@]}" backup --json "$SRC"
SNAP2=$(json_field "$OUT" snapshot_id)

log "plant junk and bit-flipped objects of every kind with the machine token"
first_file() { find "$REPO/$1" -type f | sort | head -n 1; }
junk "$WORK/j.snap" 400
flipped_copy "$REPO/snapshots/$SNAP1" "$WORK/f.snap"
JUNK_SNAP=$(plant "$TOKEN" snapshots "$WORK/j.snap")
FLIP_SNAP=$(plant "$TOKEN" snapshots "$WORK/f.snap")
junk "$WORK/j.index" 600
flipped_copy "$(first_file index)" "$WORK/f.index"
JUNK_INDEX=$(plant "$TOKEN" index "$WORK/j.index")
FLIP_INDEX=$(plant "$TOKEN" index "$WORK/f.index")
junk "$WORK/j.pack" 5000
flipped_copy "$(first_file data)" "$WORK/f.pack"
JUNK_PACK=$(plant "$TOKEN" data "$WORK/j.pack")
FLIP_PACK=$(plant "$TOKEN" data "$WORK/f.pack")
junk "$WORK/j.key" 300
flipped_copy "$(first_file keys)" "$WORK/f.key"
JUNK_KEY=$(plant "$TOKEN" keys "$WORK/j.key")
FLIP_KEY=$(plant "$TOKEN" keys "$WORK/f.key")
# The config is not content-addressed: a machine token cannot replace it.
junk "$WORK/j.config" 300
CONFIG_BEFORE=$(sha256_of_file "$REPO/config")
expect_http 409 "replacing the config with a machine token" PUT /vault/v1/repository/config/config \
  -H "Authorization: Bearer $TOKEN" --data-binary "@$WORK/j.config"
[[ $(sha256_of_file "$REPO/config") == "$CONFIG_BEFORE" ]] || fail "the config changed"
log "planted snapshots $JUNK_SNAP $FLIP_SNAP, index $JUNK_INDEX $FLIP_INDEX, packs $JUNK_PACK $FLIP_PACK, keys $JUNK_KEY $FLIP_KEY"

log "snapshots: the good ones, a warning per planted snapshot, exit 3 (partial list)"
expect_exit 3 "$FERRY" "${AGENT[@]}" snapshots
for s in "$SNAP1" "$SNAP2"; do grep -q "^${s:0:8} " "$OUT" || soft_fail "snapshot ${s:0:8} not listed"; done
for s in "$JUNK_SNAP" "$FLIP_SNAP"; do warned "snapshot $s" || soft_fail "no warning names snapshot $s"; done
grep -q "ferry repair snapshots" "$ERR" || soft_fail "the warning does not name 'ferry repair snapshots'"
expect_exit 3 "$FERRY" "${AGENT[@]}" --no-cache snapshots --json
python3 -c 'import json, sys; ids = {s["id"] for s in json.load(open(sys.argv[1]))}; assert ids == set(sys.argv[2:]), ids' \
  "$OUT" "$SNAP1" "$SNAP2" || soft_fail "snapshots --json (no cache) does not list exactly the good snapshots"
grep -q '"message_type":"damaged_object"' "$ERR" || soft_fail "snapshots --json: no damaged_object line on stderr"

log "restore of the older snapshot is byte-exact; the planted indexes are named"
expect_exit 0 "$FERRY" "${AGENT[@]}" restore "${SNAP1:0:12}" --target "$WORK/r1"
compare_trees "$WORK/src_at_snap1" "$WORK/r1$SRC" --no-sparse
for i in "$JUNK_INDEX" "$FLIP_INDEX"; do warned "index $i" || soft_fail "restore: no warning names index $i"; done

log "backup still works"
echo "after the attack" >"$SRC/after.txt"
expect_exit 0 "$FERRY" "${AGENT[@]}" backup --json "$SRC"
SNAP3=$(json_field "$OUT" snapshot_id)
expect_exit 0 "$FERRY" "${AGENT[@]}" restore "${SNAP3:0:12}" --target "$WORK/r3"
compare_trees "$SRC" "$WORK/r3$SRC" --no-sparse

log "check reports each planted snapshot, index and pack with its repair"
expect_exit 1 "$FERRY" "${AGENT[@]}" check
for s in "$JUNK_SNAP" "$FLIP_SNAP"; do
  grep -q "snapshot $s is damaged.*ferry repair snapshots" "$ERR" || soft_fail "check does not report snapshot $s"
done
for i in "$JUNK_INDEX" "$FLIP_INDEX"; do
  grep -q "index $i is damaged.*ferry repair index" "$ERR" || soft_fail "check does not report index $i"
done
for p in "$JUNK_PACK" "$FLIP_PACK"; do
  grep -q "pack $p is damaged.*ferry repair packs $p" "$ERR" || soft_fail "check does not report pack $p"
done
grep -q "^to repair: ferry repair index" "$ERR" || soft_fail "check does not say to run 'ferry repair index'"
# Not the flipped copy: stored under its own name, it may still be a well-formed key file that
# no password opens, which nothing can tell from another user's key.
grep -q "key file $JUNK_KEY is damaged.*ferry key remove $JUNK_KEY" "$ERR" \
  || soft_fail "check does not report key file $JUNK_KEY"
cp "$ERR" "$WORK/check-before-repair.err"

log "repair with the machine token is refused by the vault, naming the maintenance token; nothing is lost"
expect_exit nonzero "$FERRY" "${AGENT[@]}" repair snapshots --forget
grep -q "maintenance token" "$ERR" || soft_fail "repair with a machine token: the error does not name the maintenance token"
[[ -f $REPO/snapshots/$SNAP1 && -f $REPO/snapshots/$JUNK_SNAP ]] || fail "a refused repair removed snapshots"

log "repair index, packs, snapshots with the maintenance token; then check is clean"
MAINT=(--agent "$WORK/a-maint.json")
expect_exit 0 "$FERRY" "${MAINT[@]}" repair index --dry-run
for i in "$JUNK_INDEX" "$FLIP_INDEX"; do [[ -f $REPO/index/$i ]] || fail "repair index --dry-run removed index $i"; done
expect_exit 0 "$FERRY" "${MAINT[@]}" repair index
for i in "$JUNK_INDEX" "$FLIP_INDEX"; do [[ ! -e $REPO/index/$i ]] || soft_fail "repair index left damaged index $i"; done
grep -q "pack $JUNK_PACK" "$ERR" || soft_fail "repair index does not warn about the junk pack $JUNK_PACK"
expect_exit 0 "$FERRY" "${MAINT[@]}" repair packs "$JUNK_PACK" "$FLIP_PACK"
for p in "$JUNK_PACK" "$FLIP_PACK"; do [[ ! -e $REPO/data/${p:0:2}/$p ]] || soft_fail "repair packs left pack $p"; done
expect_exit 0 "$FERRY" "${MAINT[@]}" repair snapshots --forget --json
python3 -c 'import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
removed = {l["id"] for l in lines if l.get("message_type") == "removed_damaged"}
assert removed == set(sys.argv[2:]), removed' "$OUT" "$JUNK_SNAP" "$FLIP_SNAP" \
  || soft_fail "repair snapshots did not remove exactly the planted snapshots"
# Planted key files are not repair's: check names 'ferry key remove' for them (hostile_keys.sh).
for k in "$JUNK_KEY" "$FLIP_KEY"; do expect_exit 0 "$FERRY" "${MAINT[@]}" key remove "$k"; done
expect_exit 0 "$FERRY" "${AGENT[@]}" check --read-data
expect_exit 0 "$FERRY" "${AGENT[@]}" --no-cache snapshots --json
python3 -c 'import json, sys; ids = {s["id"] for s in json.load(open(sys.argv[1]))}; assert ids == set(sys.argv[2:]), ids' \
  "$OUT" "$SNAP1" "$SNAP2" "$SNAP3" || soft_fail "after repair, snapshots are not exactly the three good ones"
expect_exit 0 "$FERRY" "${AGENT[@]}" restore "${SNAP1:0:12}" --target "$WORK/r1-repaired"
compare_trees "$WORK/src_at_snap1" "$WORK/r1-repaired$SRC" --no-sparse

# ---------------------------------------------------------------------------------------
log "local repository: one flipped bit in an old snapshot"
export FERRY_REPOSITORY=$WORK/local
LSRC=$WORK/lsrc
make_tree "$LSRC" --seed 8 2>/dev/null
expect_exit 0 "$FERRY" init
expect_exit 0 "$FERRY" backup --json "$LSRC"
OLD=$(json_field "$OUT" snapshot_id)
echo "second" >"$LSRC/second.txt"
expect_exit 0 "$FERRY" backup --json "$LSRC"
NEW=$(json_field "$OUT" snapshot_id)
python3 "$E2E/repo_tool.py" flip "$FERRY_REPOSITORY/snapshots/$OLD" >/dev/null
expect_exit 3 "$FERRY" snapshots
grep -q "^${NEW:0:8} " "$OUT" || soft_fail "local: snapshot ${NEW:0:8} not listed"
warned "snapshot $OLD is damaged" || soft_fail "local: no warning names snapshot $OLD"
expect_exit 0 "$FERRY" restore latest --target "$WORK/lr"
compare_trees "$LSRC" "$WORK/lr$LSRC"
echo "third" >"$LSRC/third.txt"
expect_exit 0 "$FERRY" backup "$LSRC"
expect_exit 1 "$FERRY" check
grep -q "snapshot $OLD is damaged.*ferry repair snapshots" "$ERR" || soft_fail "local: check does not report snapshot $OLD"

log "local: repair snapshots removes the damaged one; check is clean, the others restore"
expect_exit 0 "$FERRY" repair snapshots
[[ ! -e $FERRY_REPOSITORY/snapshots/$OLD ]] || soft_fail "local: repair snapshots left the damaged snapshot $OLD"
expect_exit 0 "$FERRY" check
expect_exit 0 "$FERRY" restore "${NEW:0:12}" --target "$WORK/lr2"
compare_trees "$WORK/lr$LSRC" "$WORK/lr2$LSRC"
