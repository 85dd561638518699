#!/usr/bin/env bash
# The everyday read commands on a local repository and through a vault: `find` finds what
# find(1) on the source and `restic find` on the same tree find; `dump` writes a file's bytes
# exactly and a directory as a tar that unpacks to the source; `stats` gives the figures
# computed from the source (and restic's for the same tree); `cat` prints objects that parse
# and agree with `snapshots --json`; bad input is an error with the documented exit code.
#   everyday_browse.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

SRC=$WORK/src
make_tree "$SRC" --seed 5 2>/dev/null
mkdir -p "$SRC/etc/ssh" "$SRC/deep/a/b/etc"
echo "k=v" >"$SRC/etc/main.conf"
echo "Port 22" >"$SRC/etc/ssh/sshd.conf"
echo "x" >"$SRC/deep/a/b/etc/other.conf"
echo "CAPS" >"$SRC/deep/UPPER.CONF"
expect_exit 0 "$FERRY" init
expect_exit 0 "$FERRY" backup --json "$SRC" --tag first
FIRST=$(json_field "$OUT" snapshot_id)
echo "second" >"$SRC/etc/added.conf"
expect_exit 0 "$FERRY" backup --json "$SRC" --tag second
SECOND=$(json_field "$OUT" snapshot_id)

# restic 0.14 on the same tree, for the semantics ferry follows.
export RESTIC_REPOSITORY=$WORK/restic RESTIC_PASSWORD=restic-pw
restic init -q >/dev/null
restic backup -q "$SRC" >/dev/null

log "find: the same paths as find(1) and restic find, for several kinds of pattern"
paths_of_ferry() {  # ferry find --json output -> sorted paths of the latest snapshot
  python3 -c '
import json, sys
data = json.load(open(sys.argv[1]))
print("\n".join(sorted({m["path"] for r in data if r["snapshot"] == sys.argv[2] for m in r["matches"]})))' "$1" "$2"
}
paths_of_restic() {
  python3 -c '
import json, sys
data = json.load(open(sys.argv[1]))
print("\n".join(sorted({m["path"] for r in data for m in r["matches"]})))' "$1"
}
for pattern in '*.conf' 'etc/*.conf' "$SRC/etc" "$SRC/**/*.conf" 'ssh' '*.dat'; do
  expect_exit 0 "$FERRY" find --json "$pattern"
  paths_of_ferry "$OUT" "$SECOND" >"$WORK/ferry.paths"
  restic find --json "$pattern" >"$WORK/restic.json"
  paths_of_restic "$WORK/restic.json" >"$WORK/restic.paths"
  diff -u "$WORK/restic.paths" "$WORK/ferry.paths" >&2 ||
    fail "find '$pattern': ferry and restic find different paths"
done
# find(1): every *.conf below the source, and every entry below etc/.
(find "$SRC" -name '*.conf' | LC_ALL=C sort) >"$WORK/find.paths"
expect_exit 0 "$FERRY" find --json --snapshot "${SECOND:0:8}" '*.conf'
paths_of_ferry "$OUT" "$SECOND" | LC_ALL=C sort >"$WORK/ferry.paths"
diff -u "$WORK/find.paths" "$WORK/ferry.paths" >&2 || fail "find '*.conf' differs from find(1)"
(find "$SRC/etc" | LC_ALL=C sort) >"$WORK/find.paths"
expect_exit 0 "$FERRY" find --json --snapshot latest "$SRC/etc"
paths_of_ferry "$OUT" "$SECOND" | LC_ALL=C sort >"$WORK/ferry.paths"
diff -u "$WORK/find.paths" "$WORK/ferry.paths" >&2 || fail "find DIR differs from find(1) DIR"
# --newest 1 searches only the second snapshot; the first lacks added.conf.
expect_exit 0 "$FERRY" find added.conf
[[ $(grep -c "^Found matching entries in snapshot" "$OUT") == 1 ]] ||
  fail "added.conf is only in the second snapshot: $(cat "$OUT")"
expect_exit 0 "$FERRY" find --newest 1 --json main.conf
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [r["snapshot"] for r in d] == [sys.argv[2]], d' \
  "$OUT" "$SECOND" || fail "--newest 1 did not search only the newest snapshot"
expect_exit 0 "$FERRY" find --tag first --json main.conf
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [r["snapshot"] for r in d] == [sys.argv[2]], d' \
  "$OUT" "$FIRST" || fail "--tag first did not search only the first snapshot"
expect_exit 0 "$FERRY" find -i '*.conf'
grep -q "/deep/UPPER.CONF$" "$OUT" || fail "find -i does not ignore case"
expect_exit 0 "$FERRY" find -l main.conf
grep -q "^-rw-r--r-- .* $SRC/etc/main.conf$" "$OUT" || fail "find -l: $(cat "$OUT")"
expect_exit 0 "$FERRY" find 'no-such-name-*'
expect_exit 1 "$FERRY" find --snapshot deadbeef '*'

log "dump: a file byte for byte, a directory as a tar that unpacks to the source"
for file in etc/main.conf files/random-big files/zeros files/empty sparse/holes-end; do
  [[ -f "$SRC/$file" ]] || continue
  "$FERRY" dump latest "$SRC/$file" >"$WORK/dumped" || fail "dump $file failed"
  cmp "$SRC/$file" "$WORK/dumped" || fail "dump $file: bytes differ"
done
big=$(find "$SRC/files" -type f -size +1M | head -1)
[[ -n "$big" ]] || fail "make_tree made no file above 1 MiB"
"$FERRY" dump "${SECOND:0:8}" "$big" | cmp - "$big" || fail "dump of a multi-MiB file differs"
"$FERRY" dump latest "$SRC/etc" >"$WORK/etc.tar" || fail "dump of a directory failed"
mkdir "$WORK/untar"
tar -xf "$WORK/etc.tar" -C "$WORK/untar" || fail "the dumped tar does not unpack"
compare_trees "$SRC/etc" "$WORK/untar$SRC/etc"
# The tar names what restic's does for the same directory.
tar -tf "$WORK/etc.tar" | LC_ALL=C sort >"$WORK/ferry.tar.list"
restic dump latest "$SRC/etc" | tar -tf - | LC_ALL=C sort >"$WORK/restic.tar.list"
diff -u "$WORK/restic.tar.list" "$WORK/ferry.tar.list" >&2 || fail "tar entries differ from restic dump's"
expect_exit 1 "$FERRY" dump latest "$SRC/no/such/file"
grep -q "is not in the snapshot" "$ERR" || fail "dump of a missing path does not say so: $(cat "$ERR")"
expect_exit 1 "$FERRY" dump --json latest "$SRC/nope"
[[ ! -s "$OUT" ]] || fail "dump --json wrote an error into the data stream"

log "stats: figures computed from the source, and restic's"
expect_exit 0 "$FERRY" stats --json latest
python3 - "$OUT" "$SRC" <<'PY' || fail "stats restore-size differs from the source's figures"
import json, os, sys
stats = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
entries = 0; size = 0; seen = set()
root = sys.argv[2]
# Every entry of the snapshot: the source's entries and the directories above it.
parts = [p for p in root.split("/") if p]
entries += len(parts)
for dirpath, dirnames, filenames in os.walk(root):
    for name in dirnames + filenames:
        entries += 1
        st = os.lstat(os.path.join(dirpath, name))
        import stat
        if stat.S_ISREG(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in seen: continue
            seen.add(key); size += st.st_size
assert stats["mode"] == "restore-size" and stats["snapshots_count"] == 1, stats
assert stats["total_file_count"] == entries, (stats, entries)
assert stats["total_size"] == size, (stats, size)
PY
expect_exit 0 "$FERRY" stats --json --mode files-by-contents latest
python3 - "$OUT" "$SRC" <<'PY' || fail "stats files-by-contents differs from the source's distinct contents"
import hashlib, json, os, stat, sys
stats = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
contents = {}
for dirpath, dirnames, filenames in os.walk(sys.argv[2]):
    for name in filenames:
        path = os.path.join(dirpath, name)
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode): continue
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""): h.update(block)
        contents[h.hexdigest()] = st.st_size
assert stats["total_file_count"] == len(contents), (stats, len(contents))
assert stats["total_size"] == sum(contents.values()), (stats, sum(contents.values()))
PY
restic stats --json --mode files-by-contents latest >"$WORK/restic.stats"
python3 - "$OUT" "$WORK/restic.stats" <<'PY' || fail "files-by-contents total size differs from restic's"
import json, sys
ferry = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
restic = json.load(open(sys.argv[2]))
assert ferry["total_size"] == restic["total_size"], (ferry, restic)
PY
expect_exit 0 "$FERRY" stats --json --mode raw-data
python3 - "$OUT" <<'PY' || fail "stats raw-data is not sensible"
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert s["snapshots_count"] == 2 and s["total_blob_count"] > 0, s
assert s["total_uncompressed_size"] > s["total_size"] > 0, s   # the tree has compressible files
assert abs(s["compression_ratio"] - s["total_uncompressed_size"] / s["total_size"]) < 1e-9, s
PY
expect_exit 0 "$FERRY" stats --mode raw-data
grep -q "Compression Ratio" "$OUT" || fail "stats raw-data does not show the ratio: $(cat "$OUT")"
expect_exit 2 "$FERRY" stats --mode blobs-per-file

log "cat: decrypted objects that parse and agree with the listing"
expect_exit 0 "$FERRY" cat config
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert "id" in c and "chunker" in c or "version" in c, c' "$OUT" ||
  fail "cat config is not the config: $(cat "$OUT")"
expect_exit 0 "$FERRY" cat snapshot "${SECOND:0:8}"
python3 - "$OUT" "$SRC" <<'PY' || fail "cat snapshot does not hold the snapshot"
import json, sys
s = json.load(open(sys.argv[1]))
# Paths are byte strings (docs/format.md): {"path": text} when the bytes are UTF-8.
assert [p["path"] for p in s["paths"]] == [sys.argv[2]] and s["tags"] == ["second"], s
PY
TREE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree"])' "$OUT")
expect_exit 0 "$FERRY" cat tree "$TREE"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); assert t["nodes"], t' "$OUT" ||
  fail "cat tree is not a tree: $(head -c 300 "$OUT")"
expect_exit 0 "$FERRY" cat tree "latest:$SRC/etc"
grep -q '"main.conf"\|bWFpbi5jb25m' "$OUT" || fail "cat tree SNAPSHOT:PATH: $(head -c 300 "$OUT")"
INDEX=$(ls "$WORK/repo/index" | head -1)
expect_exit 0 "$FERRY" cat index "${INDEX:0:10}"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT" || fail "cat index is not JSON"
KEY=$(ls "$WORK/repo/keys" | head -1)
expect_exit 0 "$FERRY" cat key "$KEY"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT" || fail "cat key is not JSON"
expect_exit 2 "$FERRY" cat pack 00
expect_exit 1 "$FERRY" cat snapshot ffffffffff
expect_exit 1 "$FERRY" cat tree not-an-id

log "through a vault (--agent): find, dump, stats, cat"
source "$E2E/vault_lib.sh"
vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/a.json"
AGENT=(--agent "$WORK/a.json")
expect_exit 0 "$FERRY" "${AGENT[@]}" init
expect_exit 0 "$FERRY" "${AGENT[@]}" backup "$SRC"
expect_exit 0 "$FERRY" "${AGENT[@]}" find --json '*.conf'
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("\n".join(sorted(m["path"] for r in d for m in r["matches"])))' \
  "$OUT" | LC_ALL=C sort >"$WORK/vault.paths"
(find "$SRC" -name '*.conf' | LC_ALL=C sort) >"$WORK/find.paths"
diff -u "$WORK/find.paths" "$WORK/vault.paths" >&2 || fail "find through the vault differs"
"$FERRY" "${AGENT[@]}" dump latest "$big" | cmp - "$big" || fail "dump through the vault differs"
expect_exit 0 "$FERRY" "${AGENT[@]}" stats --json --mode raw-data
expect_exit 0 "$FERRY" "${AGENT[@]}" cat snapshot latest
exit 0
