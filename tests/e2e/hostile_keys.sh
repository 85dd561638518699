#!/usr/bin/env bash
# Hostile key files (docs/security.md, "Hostile key files"): anyone who may add objects can
# plant key files. A key file asking for 2 GiB of Argon2 memory made every command take 18 s
# and 2 GB; a bit-flipped one said "wrong password". Now each is named and ignored, before
# any Argon2 work (proved under `ulimit -v`, not by timing), wrong password (exit 12) means
# that an intact key failed to authenticate, and key list / key remove / check handle them.
#   hostile_keys.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

KEYS=$FERRY_REPOSITORY/keys

# plant_edited SRC FIELD JSON-VALUE: a copy of key file SRC with FIELD set, stored under its
# correct new name (what an append-only machine token can do); prints the name
plant_edited() {
  python3 - "$1" "$2" "$3" "$KEYS" <<'PY'
import hashlib, json, sys
src, field, value, keys = sys.argv[1:]
key = json.load(open(src))
key[field] = json.loads(value)
data = json.dumps(key, indent=2).encode()
name = hashlib.sha256(data).hexdigest()
open(f"{keys}/{name}", "wb").write(data)
print(name)
PY
}
# plant_junk BYTES: random bytes under their correct name; prints the name
plant_junk() {
  head -c "$1" /dev/urandom >"$WORK/junk"
  local name
  name=$(sha256sum "$WORK/junk" | cut -c1-64)
  cp "$WORK/junk" "$KEYS/$name"
  echo "$name"
}
# "${LIMITED[@]}" CMD...: CMD with 1 GiB of address space, far below the 2 GiB a planted key
# file asks for; ferry's own 64 MiB Argon2 (and its threads) fit with room to spare
LIMITED=(bash -c 'ulimit -v $((1024 * 1024)) && exec "$@"' limited)
stderr_has() { grep -qF -- "$1" "$ERR" || fail "stderr lacks '$1'"; }

SRC=$WORK/src
mkdir -p "$SRC"
echo "some data" >"$SRC/file"
expect_exit 0 "$FERRY" init
expect_exit 0 "$FERRY" backup "$SRC"
REAL=$(ls "$KEYS")
grep -q '"version": 2' "$KEYS/$REAL" || fail "init did not write a version 2 key file"

log "a key file asking for 2 GiB of Argon2 memory is refused by name, before any Argon2 work"
HUGE=$(plant_edited "$KEYS/$REAL" memlimit $((2 << 30)))
expect_exit 0 "${LIMITED[@]}" "$FERRY" snapshots
stderr_has "warning: key file $HUGE: Argon2 memory 2 GiB is beyond the 64 MiB ferry ever writes; ignored"
expect_exit 0 "${LIMITED[@]}" "$FERRY" restore latest --target "$WORK/r1"
cmp "$SRC/file" "$WORK/r1$SRC/file" || fail "restore with a planted key file restored other bytes"
echo "not the password" >"$WORK/wrong"
expect_exit 12 "${LIMITED[@]}" env FERRY_PASSWORD_FILE="$WORK/wrong" "$FERRY" snapshots
stderr_has "wrong password"
stderr_has "key file $HUGE: Argon2 memory 2 GiB"
OPS=$(plant_edited "$KEYS/$REAL" opslimit 100000)
expect_exit 0 "${LIMITED[@]}" "$FERRY" snapshots
stderr_has "key file $OPS: Argon2 opslimit 100000 is outside the 1–3 ferry ever writes"

log "a bit-flipped key file and junk say 'damaged', not 'wrong password'"
echo "second password" >"$WORK/pw2"
expect_exit 0 "$FERRY" key add --new-password-file "$WORK/pw2"
SECOND=$(ls "$KEYS" | grep -vxF -e "$REAL" -e "$HUGE" -e "$OPS")
python3 "$E2E/repo_tool.py" flip "$KEYS/$SECOND" >/dev/null
JUNK=$(plant_junk 300)
expect_exit 0 "$FERRY" snapshots
stderr_has "warning: key file $SECOND is damaged: its content does not match its name; ignored"
stderr_has "warning: key file $JUNK is damaged"
# The second password's only key file is damaged, the others are no key to it: wrong
# password, naming what was skipped.
expect_exit 12 env FERRY_PASSWORD_FILE="$WORK/pw2" "$FERRY" snapshots
stderr_has "key file $SECOND is damaged"

log "a key file of an unknown version is named"
FUTURE=$(plant_edited "$KEYS/$REAL" version 7)
expect_exit 0 "$FERRY" snapshots
stderr_has "key file $FUTURE: version 7 is unknown to this ferry"

log "key list shows damaged key files, check reports them, key remove removes them"
expect_exit 0 "$FERRY" key list
for name in "$SECOND" "$JUNK" "$HUGE" "$OPS" "$FUTURE"; do
  grep -q "^ ${name:0:8}  DAMAGED: key file $name" "$OUT" || fail "key list does not show $name as damaged"
done
grep -q "^\*${REAL:0:8}" "$OUT" || fail "key list does not mark the key in use"
expect_exit 0 "$FERRY" key list --json
python3 - "$OUT" "$REAL" <<'PY' || fail "key list --json is wrong: $(cat "$OUT")"
import json, sys
keys = json.load(open(sys.argv[1]))
assert len(keys) == 6, keys
assert [k["damaged"] for k in keys].count(True) == 5, keys
assert any(k["id"] == sys.argv[2] and k["current"] and k["version"] == 2 for k in keys), keys
PY
expect_exit 1 "$FERRY" check
for name in "$SECOND" "$JUNK" "$HUGE" "$OPS"; do
  grep -qF "ferry key remove $name" "$OUT" "$ERR" || fail "check does not report key file $name with its repair"
done
for name in "$SECOND" "$JUNK" "$HUGE" "$OPS" "$FUTURE"; do
  expect_exit 0 "$FERRY" key remove "${name:0:12}"
  [[ ! -e $KEYS/$name ]] || fail "key remove left $name"
done
expect_exit 1 "$FERRY" key remove "${REAL:0:12}"
stderr_has "last intact key"
expect_exit 0 "$FERRY" check
expect_exit 0 "$FERRY" snapshots
grep -q "warning: key file" "$ERR" && fail "warnings about key files that were removed"

log "when the only key file is damaged: exit 1 naming it, with any password"
python3 "$E2E/repo_tool.py" flip "$KEYS/$REAL" >/dev/null
expect_exit 1 "$FERRY" snapshots
stderr_has "key file $REAL is damaged: its content does not match its name"
expect_exit 1 env FERRY_PASSWORD_FILE="$WORK/wrong" "$FERRY" snapshots
stderr_has "key file $REAL is damaged"

