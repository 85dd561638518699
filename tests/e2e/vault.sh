#!/usr/bin/env bash
# The vault service end to end (docs/protocol.md): two machines backing up into one vault at
# the same time, isolation between their repositories, tokens and what each may do, verified
# and idempotent PUTs, incremental backups over the network, a server killed with SIGKILL in
# the middle of a backup, the protocol version check, and no token in the server's log.
#   vault.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

KiB=1024
MiB=$((1 << 20))
HEX64_RE='^[0-9a-f]{64}$'

# random_files DIR COUNT MIB SEED: COUNT files of MIB MiB of (seeded) random bytes
random_files() {
  python3 - "$@" <<'PY'
import os, random, sys
d, count, mib, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(d, exist_ok=True)
rng = random.Random(seed)
for i in range(count):
    with open(os.path.join(d, "r%03d.bin" % i), "wb") as f:
        for _ in range(mib):
            f.write(rng.randbytes(1 << 20))
PY
}

# run_bg NAME CMD...: run CMD in the background, output in $WORK/NAME.out/.err; pid in $BG_PID
run_bg() {
  local name=$1
  shift
  env --default-signal=INT,QUIT timeout -k 10 "${E2E_CMD_TIMEOUT:-300}" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
  BG_PID=$!
  vault_track_pid "$BG_PID"
}

# wait_bg PID NAME DESC: wait, require status 0 and no crash message
wait_bg() {
  local pid=$1 name=$2 desc=$3 rc=0
  { wait "$pid"; } 2>/dev/null || rc=$?
  vault_untrack_pid "$pid"
  if [[ $rc -ne 0 ]] || grep -Eq "$_CRASH_RE" "$WORK/$name.err"; then
    echo "----- $desc: exit status $rc; stderr (last 30 lines):" >&2
    tail -n 30 "$WORK/$name.err" >&2 || true
    echo "----- server log (last 30 lines):" >&2
    tail -n 30 "$VLOG" >&2 || true
    fail "$desc failed (status $rc)"
  fi
}

# first_object TOKEN KIND: name of the first object of KIND listed with TOKEN
first_object() {
  http GET "/vault/v1/repository/$2/" -H "Authorization: Bearer $1"
  [[ $HTTP_CODE == 200 ]] || fail "listing $2 answered $HTTP_CODE: $(head -c 300 "$HTTP_BODY")"
  python3 -c 'import json, sys; l = json.load(open(sys.argv[1])); print(l[0]["name"] if l else "")' "$HTTP_BODY"
}

listing_has() { # listing_has NAME: the last listing answer names NAME
  python3 -c 'import json, sys; sys.exit(0 if any(e["name"] == sys.argv[2] for e in json.load(open(sys.argv[1]))) else 1)' \
    "$HTTP_BODY" "$1"
}

# ---------------------------------------------------------------------------------------
log "start the vault; vaults prod and lab; machines fs01 and fs02 in prod"
vault_start_server
log "server at $VURL (data $VDATA)"
[[ -f $VDATA/admin.token ]] || fail "no $VDATA/admin.token"
[[ $(stat -c %a "$VDATA/admin.token") == 600 ]] || fail "admin.token has mode $(stat -c %a "$VDATA/admin.token")"
vault_setup prod lab
vault_register prod fs01 "$WORK/a.json" "$WORK/a-maint.json"
vault_register prod fs02 "$WORK/b.json" "$WORK/b-maint.json"
for f in a.json a-maint.json b.json b-maint.json; do note_token_file "$WORK/$f"; done
TA=$(token_of "$WORK/a.json")
TB=$(token_of "$WORK/b.json")
TA_MAINT=$(token_of "$WORK/a-maint.json")
TB_MAINT=$(token_of "$WORK/b-maint.json")
ADMIN=$(admin_token)
AUTH_A=(-H "Authorization: Bearer $TA")
AUTH_B=(-H "Authorization: Bearer $TB")
AUTH_A_MAINT=(-H "Authorization: Bearer $TA_MAINT")
AUTH_B_MAINT=(-H "Authorization: Bearer $TB_MAINT")
AUTH_ADMIN=(-H "Authorization: Bearer $ADMIN")
REPO_A=$VDATA/repositories/prod/fs01
REPO_B=$VDATA/repositories/prod/fs02

# ---------------------------------------------------------------------------------------
SRC_A=$WORK/src_a
SRC_B=$WORK/src_b
make_tree "$SRC_A" --seed 41 2>/dev/null
# B: bulk files plus 3 x 6 MiB of pure random data (cannot compress)
make_tree "$SRC_B" --seed 42 --only-bulk --bulk-big 4 --bulk-big-mib 8 --bulk-small 200 \
  --bulk-small-max-kib 64
random_files "$SRC_B/rand" 3 6 4242
RANDOM_B=$((3 * 6 * MiB))
TOTAL_B=$(find "$SRC_B" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
log "tree A: $(du -sb "$SRC_A" | cut -f1) bytes (every file kind); tree B: $TOTAL_B bytes in files"

log "init both repositories"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" init
expect_exit 0 "$FERRY" --agent "$WORK/b.json" init
[[ -f $REPO_A/config && -f $REPO_B/config ]] || fail "init stored no config under $VDATA/repositories/prod/"

log "fs01 and fs02 back up different trees at the same time"
run_bg backup_a "$FERRY" --agent "$WORK/a.json" backup --json "$SRC_A"
PID_A=$BG_PID
run_bg backup_b "$FERRY" --agent "$WORK/b.json" backup --json "$SRC_B"
PID_B=$BG_PID
wait_bg "$PID_A" backup_a "concurrent backup of fs01"
wait_bg "$PID_B" backup_b "concurrent backup of fs02"
for m in a b; do
  [[ $(json_field "$WORK/backup_$m.out" incomplete) == false ]] || fail "backup $m marked incomplete"
  log "backup $m: $(tail -n 1 "$WORK/backup_$m.out")"
done
SNAP_A=$(json_field "$WORK/backup_a.out" snapshot_id)
SNAP_B=$(json_field "$WORK/backup_b.out" snapshot_id)
SENT_B1=$(json_field "$WORK/backup_b.out" bytes_sent)

log "each machine restores its own tree, byte for byte; check --read-data passes"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" restore latest --target "$WORK/restore_a"
compare_trees "$SRC_A" "$WORK/restore_a$SRC_A" --no-sparse
expect_exit 0 "$FERRY" --agent "$WORK/b.json" restore latest --target "$WORK/restore_b"
compare_trees "$SRC_B" "$WORK/restore_b$SRC_B"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" check --read-data
expect_exit 0 "$FERRY" --agent "$WORK/b.json" check --read-data
expect_exit 0 "$FERRY" --agent "$WORK/a.json" snapshots --json
python3 -c 'import json, sys; a = json.load(open(sys.argv[1])); assert [s["id"] for s in a] == [sys.argv[2]], a' \
  "$OUT" "$SNAP_A" || fail "fs01 does not list exactly its snapshot $SNAP_A: $(head -c 1000 "$OUT")"
expect_exit 0 "$FERRY" --agent "$WORK/b.json" snapshots --json
python3 -c 'import json, sys; a = json.load(open(sys.argv[1])); assert [s["id"] for s in a] == [sys.argv[2]], a' \
  "$OUT" "$SNAP_B" || fail "fs02 does not list exactly its snapshot $SNAP_B: $(head -c 1000 "$OUT")"

log "vault show prod --json: 2 machines, 1 recovery point each, stored bytes = their objects"
expect_exit 0 "$FERRY" vault show prod --json
python3 - "$OUT" "$REPO_A" "$REPO_B" <<'PY' || fail "vault show prod --json is wrong: $(head -c 2000 "$OUT")"
import json, os, re, sys
out, repo_a, repo_b = sys.argv[1:]
report = json.loads(open(out).read())
assert report["name"] == "prod", report
machines = {m["name"]: m for m in report["machines"]}
assert sorted(machines) == ["fs01", "fs02"], sorted(machines)
for name, repo in (("fs01", repo_a), ("fs02", repo_b)):
    m = machines[name]
    assert m["recovery_points"] == 1, (name, m)
    assert m["stored_bytes"] > 0, (name, m)
    assert m["last_backup"], (name, m)
    size = count = 0
    for dirpath, _, files in os.walk(repo):
        for f in files:
            if f == "config" or re.fullmatch("[0-9a-f]{64}", f):
                size += os.path.getsize(os.path.join(dirpath, f))
                count += 1
    assert m["stored_bytes"] == size, "%s: stored_bytes %d, objects on disk hold %d" % (name, m["stored_bytes"], size)
    assert m["objects"] == count, "%s: objects %d, on disk %d" % (name, m["objects"], count)
PY

# ---------------------------------------------------------------------------------------
log "isolation: fs01 cannot see, list or overwrite fs02's objects"
B_SNAP_OBJ=$(first_object "$TB" snapshots)
B_DATA_OBJ=$(first_object "$TB" data)
[[ $B_SNAP_OBJ =~ $HEX64_RE && $B_DATA_OBJ =~ $HEX64_RE ]] || fail "fs02's listings name no objects"
[[ $B_SNAP_OBJ == "$SNAP_B" ]] || soft_fail "fs02's snapshot object is $B_SNAP_OBJ, the backup said $SNAP_B"
B_SNAP_FILE=$REPO_B/snapshots/$B_SNAP_OBJ
B_DATA_FILE=$REPO_B/data/${B_DATA_OBJ:0:2}/$B_DATA_OBJ
[[ -f $B_SNAP_FILE && -f $B_DATA_FILE ]] || fail "fs02's objects are not where expected: $B_SNAP_FILE $B_DATA_FILE"
B_SNAP_SHA=$(sha256_of_file "$B_SNAP_FILE")
B_DATA_SHA=$(sha256_of_file "$B_DATA_FILE")
# positive control: fs02 reads its own object
expect_http 200 "fs02 reads its own snapshot" GET "/vault/v1/repository/snapshots/$B_SNAP_OBJ" "${AUTH_B[@]}"
for kind_obj in "snapshots/$B_SNAP_OBJ" "data/$B_DATA_OBJ"; do
  expect_http 404 "fs01 GETs fs02's object" GET "/vault/v1/repository/$kind_obj" "${AUTH_A[@]}"
  [[ $HTTP_CODE == 2* ]] && soft_fail "fs01 read fs02's $kind_obj ($(wc -c <"$HTTP_BODY") bytes)"
  expect_http 404 "fs01 HEADs fs02's object" HEAD "/vault/v1/repository/$kind_obj" "${AUTH_A[@]}"
  expect_http 404 "fs01's maintenance token GETs fs02's object" GET "/vault/v1/repository/$kind_obj" "${AUTH_A_MAINT[@]}"
  expect_http "404|403" "fs01's maintenance token DELETEs fs02's object" DELETE "/vault/v1/repository/$kind_obj" "${AUTH_A_MAINT[@]}"
done
expect_http 200 "fs01 lists its snapshots" GET /vault/v1/repository/snapshots/ "${AUTH_A[@]}"
listing_has "$B_SNAP_OBJ" && soft_fail "fs01's snapshot listing holds fs02's snapshot $B_SNAP_OBJ"
listing_has "$SNAP_A" || soft_fail "fs01's snapshot listing lacks its own snapshot $SNAP_A: $(head -c 300 "$HTTP_BODY")"
expect_http 200 "fs01 lists its data" GET /vault/v1/repository/data/ "${AUTH_A[@]}"
listing_has "$B_DATA_OBJ" && soft_fail "fs01's data listing holds fs02's pack $B_DATA_OBJ"
head -c 4096 /dev/urandom >"$WORK/garbage"
expect_http 422 "fs01 PUTs garbage under fs02's snapshot name" PUT "/vault/v1/repository/snapshots/$B_SNAP_OBJ" \
  "${AUTH_A[@]}" -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/garbage" &&
  expect_error_code digest_mismatch "garbage PUT under fs02's snapshot name"
expect_http 422 "fs01 PUTs garbage under fs02's pack name" PUT "/vault/v1/repository/data/$B_DATA_OBJ" \
  "${AUTH_A[@]}" -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/garbage"
expect_http 404 "after the refused PUT, fs01 still has no such snapshot" HEAD "/vault/v1/repository/snapshots/$B_SNAP_OBJ" "${AUTH_A[@]}"
[[ -e $REPO_A/snapshots/$B_SNAP_OBJ ]] && soft_fail "the refused PUT stored $REPO_A/snapshots/$B_SNAP_OBJ"
[[ $(sha256_of_file "$B_SNAP_FILE") == "$B_SNAP_SHA" ]] || soft_fail "fs02's snapshot object changed"
[[ $(sha256_of_file "$B_DATA_FILE") == "$B_DATA_SHA" ]] || soft_fail "fs02's pack changed"
expect_http 200 "fs02 still reads its snapshot" HEAD "/vault/v1/repository/snapshots/$B_SNAP_OBJ" "${AUTH_B[@]}"

# ---------------------------------------------------------------------------------------
log "authentication and what each token may do"
BAD_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
for path in /vault/v1/repository/snapshots/ "/vault/v1/repository/snapshots/$B_SNAP_OBJ"; do
  expect_http 401 "no token" GET "$path" && expect_error_code unauthorized "no token"
  expect_http 401 "unknown token" GET "$path" -H "Authorization: Bearer $BAD_TOKEN" &&
    expect_error_code unauthorized "unknown token"
  expect_http 401 "token that is not 64 hex" GET "$path" -H "Authorization: Bearer ${TB:0:63}"
  expect_http 401 "token with another scheme" GET "$path" -H "Authorization: Basic $TB"
  expect_http 403 "admin token on the repository" GET "$path" "${AUTH_ADMIN[@]}" &&
    expect_error_code forbidden "admin token on the repository"
done
expect_http 401 "no token, PUT" PUT "/vault/v1/repository/locks/$(sha256_of_file "$WORK/garbage")" \
  --data-binary @"$WORK/garbage"
expect_http 401 "no token, admin endpoint" POST /vault/v1/vaults -H 'Content-Type: application/json' --data '{"name": "x1"}'
expect_http 401 "unknown token, admin endpoint" POST /vault/v1/vaults -H "Authorization: Bearer $BAD_TOKEN" --data '{"name": "x1"}'
for who in machine maintenance; do
  if [[ $who == machine ]]; then auth=("${AUTH_A[@]}"); else auth=("${AUTH_A_MAINT[@]}"); fi
  expect_http 403 "$who token creates a vault" POST /vault/v1/vaults "${auth[@]}" \
    -H 'Content-Type: application/json' --data '{"name": "x2"}' && expect_error_code forbidden "$who token creates a vault"
  expect_http 403 "$who token lists vaults" GET /vault/v1/vaults "${auth[@]}"
  expect_http 403 "$who token reads the vault report" GET /vault/v1/vaults/prod "${auth[@]}"
  expect_http 403 "$who token registers a machine" POST /vault/v1/vaults/prod/machines "${auth[@]}" \
    -H 'Content-Type: application/json' --data '{"name": "intruder"}'
  expect_http 403 "$who token issues a maintenance token" POST /vault/v1/vaults/prod/machines/fs02/maintenance-token "${auth[@]}" --data ''
done
expect_http 200 "admin lists vaults" GET /vault/v1/vaults "${AUTH_ADMIN[@]}"
python3 -c 'import json, sys; n = sorted(v["name"] for v in json.load(open(sys.argv[1]))); assert n == ["lab", "prod"], n' \
  "$HTTP_BODY" || soft_fail "a refused request created a vault: $(head -c 300 "$HTTP_BODY")"
expect_http 200 "admin reads the vault report" GET /vault/v1/vaults/prod "${AUTH_ADMIN[@]}"
python3 -c 'import json, sys; n = sorted(m["name"] for m in json.load(open(sys.argv[1]))["machines"]); assert n == ["fs01", "fs02"], n' \
  "$HTTP_BODY" || soft_fail "a refused request registered a machine: $(head -c 300 "$HTTP_BODY")"

log "machine tokens are append-only"
B_INDEX_OBJ=$(first_object "$TB" index)
B_KEY_OBJ=$(first_object "$TB" keys)
for kind_obj in "snapshots/$B_SNAP_OBJ" "data/$B_DATA_OBJ" "index/$B_INDEX_OBJ" "keys/$B_KEY_OBJ" config/config; do
  expect_http 403 "machine token DELETEs its $kind_obj" DELETE "/vault/v1/repository/$kind_obj" "${AUTH_B[@]}" &&
    expect_error_code forbidden "machine token DELETE of $kind_obj"
  expect_http 200 "$kind_obj still there after the refused DELETE" HEAD "/vault/v1/repository/$kind_obj" "${AUTH_B[@]}"
done
[[ $(sha256_of_file "$B_SNAP_FILE") == "$B_SNAP_SHA" ]] || soft_fail "fs02's snapshot changed after refused DELETE"
[[ $(sha256_of_file "$B_DATA_FILE") == "$B_DATA_SHA" ]] || soft_fail "fs02's pack changed after refused DELETE"
cp "$REPO_B/config" "$WORK/b-config"
printf 'not the config' >"$WORK/other-config"
expect_http 409 "machine token overwrites its config" PUT /vault/v1/repository/config/config "${AUTH_B[@]}" \
  --data-binary @"$WORK/other-config" && expect_error_code conflict "machine token overwrites its config"
expect_http 200 "machine token re-PUTs its config unchanged" PUT /vault/v1/repository/config/config "${AUTH_B[@]}" \
  --data-binary @"$WORK/b-config"
cmp -s "$REPO_B/config" "$WORK/b-config" || soft_fail "fs02's config changed"

log "locks: a machine token deletes the locks written with its process's key, the maintenance token any"
OWNER=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
OTHER=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
for who in machine maintenance; do
  if [[ $who == machine ]]; then auth=("${AUTH_A[@]}"); else auth=("${AUTH_A_MAINT[@]}"); fi
  head -c 200 /dev/urandom >"$WORK/lock"
  LOCK=$(sha256_of_file "$WORK/lock")
  expect_http 201 "$who token PUTs a lock" PUT "/vault/v1/repository/locks/$LOCK?owner_key=$OWNER" "${auth[@]}" --data-binary @"$WORK/lock"
  expect_http 200 "$who token HEADs its lock" HEAD "/vault/v1/repository/locks/$LOCK" "${auth[@]}"
  if [[ $who == machine ]]; then
    expect_http 403 "machine token DELETEs a lock without its key" DELETE "/vault/v1/repository/locks/$LOCK" "${auth[@]}"
    expect_http 403 "machine token DELETEs a lock with another process's key" DELETE "/vault/v1/repository/locks/$LOCK?owner_key=$OTHER" "${auth[@]}"
    grep -q "maintenance token" "$HTTP_BODY" || soft_fail "the refusal does not name the maintenance token"
  fi
  expect_http 204 "$who token DELETEs the lock" DELETE "/vault/v1/repository/locks/$LOCK?owner_key=$OWNER" "${auth[@]}"
  expect_http 404 "deleted lock is gone" HEAD "/vault/v1/repository/locks/$LOCK" "${auth[@]}"
  [[ -e $REPO_A/locks/$LOCK ]] && soft_fail "deleted lock still on disk: $REPO_A/locks/$LOCK"
done
expect_http 404 "maintenance token DELETEs a lock that does not exist" DELETE "/vault/v1/repository/locks/$LOCK" "${AUTH_A_MAINT[@]}"

# ---------------------------------------------------------------------------------------
log "integrity: a body that does not hash to its name is refused and leaves nothing"
head -c $((3 * MiB + 17)) /dev/urandom >"$WORK/blob"
BLOB=$(sha256_of_file "$WORK/blob")
WRONG=$(printf 'wrong' | sha256sum | cut -d' ' -f1)
for kind in data index snapshots keys locks; do
  expect_http 422 "PUT $kind with a body that is not its name" PUT "/vault/v1/repository/$kind/$WRONG" \
    "${AUTH_A[@]}" -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/blob" &&
    expect_error_code digest_mismatch "PUT $kind with a wrong digest"
  expect_http 404 "HEAD after the refused $kind PUT" HEAD "/vault/v1/repository/$kind/$WRONG" "${AUTH_A[@]}"
  expect_http 404 "HEAD $kind/<body's real digest> after the refused PUT" HEAD "/vault/v1/repository/$kind/$BLOB" "${AUTH_A[@]}"
done
# a flipped byte at the very end (the hash is checked over the whole body)
cp "$WORK/blob" "$WORK/blob_flipped"
printf '\x00' | dd of="$WORK/blob_flipped" bs=1 seek=$((3 * MiB + 16)) conv=notrunc status=none
expect_http 422 "PUT with the last byte changed" PUT "/vault/v1/repository/data/$BLOB" "${AUTH_A[@]}" \
  --data-binary @"$WORK/blob_flipped"
expect_http 404 "HEAD after the refused PUT" HEAD "/vault/v1/repository/data/$BLOB" "${AUTH_A[@]}"
strays=$(stray_files "$REPO_A")
[[ -z $strays ]] || soft_fail "refused PUTs left files under $REPO_A: $strays"
[[ -z $(find "$REPO_A" -name "$WRONG" -o -name "$BLOB") ]] || soft_fail "a refused PUT stored an object"

log "idempotent PUT (a scratch machine in vault lab): 201, then 200"
vault_register lab probe "$WORK/probe.json" "$WORK/probe-maint.json"
note_token_file "$WORK/probe.json"
note_token_file "$WORK/probe-maint.json"
AUTH_P=(-H "Authorization: Bearer $(token_of "$WORK/probe.json")")
REPO_P=$VDATA/repositories/lab/probe
expect_http 201 "first PUT of an object" PUT "/vault/v1/repository/data/$BLOB" "${AUTH_P[@]}" --data-binary @"$WORK/blob"
expect_http 200 "same PUT again" PUT "/vault/v1/repository/data/$BLOB" "${AUTH_P[@]}" --data-binary @"$WORK/blob"
expect_http 422 "PUT under the same name with other content" PUT "/vault/v1/repository/data/$BLOB" "${AUTH_P[@]}" \
  --data-binary @"$WORK/blob_flipped"
expect_http 200 "GET the object back" GET "/vault/v1/repository/data/$BLOB" "${AUTH_P[@]}"
cmp -s "$HTTP_BODY" "$WORK/blob" || soft_fail "GET returned other bytes than were PUT"
expect_http 200 "HEAD the object" HEAD "/vault/v1/repository/data/$BLOB" "${AUTH_P[@]}"
len=$(tr -d '\r' <"$HTTP_HEADERS" | awk -F': ' 'tolower($1) == "content-length" {print $2}' | tail -n 1)
[[ $len == $((3 * MiB + 17)) ]] || soft_fail "HEAD Content-Length '$len', expected $((3 * MiB + 17))"
expect_http 206 "GET a range" GET "/vault/v1/repository/data/$BLOB" "${AUTH_P[@]}" -H 'Range: bytes=1000-1999'
cmp -s "$HTTP_BODY" <(tail -c +1001 "$WORK/blob" | head -c 1000) || soft_fail "range bytes=1000-1999 returned other bytes"
grep -qi '^content-range: bytes 1000-1999/' "$HTTP_HEADERS" || soft_fail "206 without the right Content-Range: $(cat "$HTTP_HEADERS")"
expect_http 201 "first PUT of a config" PUT /vault/v1/repository/config/config "${AUTH_P[@]}" --data-binary @"$WORK/other-config"
expect_http 200 "same config again" PUT /vault/v1/repository/config/config "${AUTH_P[@]}" --data-binary @"$WORK/other-config"
head -c 0 /dev/null >"$WORK/empty"
EMPTY=$(sha256_of_file "$WORK/empty")
expect_http 201 "PUT an empty object" PUT "/vault/v1/repository/locks/$EMPTY" "${AUTH_P[@]}" --data-binary @"$WORK/empty"
expect_http 200 "PUT the empty object again" PUT "/vault/v1/repository/locks/$EMPTY" "${AUTH_P[@]}" --data-binary @"$WORK/empty"
strays=$(stray_files "$REPO_P")
[[ -z $strays ]] || soft_fail "PUTs left temp files under $REPO_P: $strays"

# ---------------------------------------------------------------------------------------
log "protocol version: Ferry-Protocol 0 gets 426 client_too_old"
expect_http 426 "old client on the repository" GET /vault/v1/repository/snapshots/ "${AUTH_A[@]}" -H 'Ferry-Protocol: 0' &&
  expect_error_code client_too_old "old client on the repository"
expect_http 426 "old client on an admin endpoint" GET /vault/v1/vaults "${AUTH_ADMIN[@]}" -H 'Ferry-Protocol: 0' &&
  expect_error_code client_too_old "old client on an admin endpoint"
expect_http 426 "old client PUTting" PUT "/vault/v1/repository/locks/$BLOB" "${AUTH_A[@]}" -H 'Ferry-Protocol: 0' \
  --data-binary @"$WORK/blob"
[[ -e $REPO_A/locks/$BLOB ]] && soft_fail "an old client's PUT was stored"
expect_http 200 "current client" GET /vault/v1/repository/snapshots/ "${AUTH_A[@]}" -H 'Ferry-Protocol: 1'
http GET /vault/v1/version
python3 -c 'import json, sys; v = json.load(open(sys.argv[1])); assert v["protocol"] == 1 and v["min_client_protocol"] == 1 and v["server"].startswith("ferry "), v' \
  "$HTTP_BODY" || soft_fail "GET /vault/v1/version: $(head -c 300 "$HTTP_BODY")"

# ---------------------------------------------------------------------------------------
log "incremental over the network: append 100 KiB to one file of fs02's tree"
[[ $SENT_B1 -ge $RANDOM_B && $SENT_B1 -ge $((TOTAL_B / 2)) ]] ||
  fail "first backup of fs02 sent $SENT_B1 bytes: less than its $RANDOM_B bytes of pure random data or half its $TOTAL_B bytes"
python3 -c 'import os, sys; open(sys.argv[1], "ab").write(os.urandom(100 * 1024))' "$SRC_B/rand/r001.bin"
CHANGED=$((100 * KiB))
sleep 2
expect_exit 0 "$FERRY" --agent "$WORK/b.json" backup --json "$SRC_B"
cp "$OUT" "$WORK/backup_b2.json"
SENT_B2=$(json_field "$WORK/backup_b2.json" bytes_sent)
log "backup 2 of fs02: $(tail -n 1 "$WORK/backup_b2.json")"
# An append rewrites the file's last chunk (512 KiB average, p99 under 1.9 MiB, 8 MiB at most
# with ferry's FastCDC); trees, index, snapshot and lock add well under 1 MiB.
BOUND=$((4 * MiB + 2 * CHANGED))
[[ $SENT_B2 -lt $BOUND ]] || fail "backup after a 100 KiB append sent $SENT_B2 bytes (bound $BOUND; first backup sent $SENT_B1)"
[[ $SENT_B2 -ge $CHANGED ]] || soft_fail "backup after a 100 KiB random append sent only $SENT_B2 bytes"
log "sent $SENT_B1 bytes first, $SENT_B2 after the change (bound $BOUND)"
expect_exit 0 "$FERRY" --agent "$WORK/b.json" restore latest --target "$WORK/restore_b2"
compare_trees "$SRC_B" "$WORK/restore_b2$SRC_B"

# ---------------------------------------------------------------------------------------
log "metadata cache: an unchanged re-backup reads no pack from the vault; check reads the vault"
export FERRY_CACHE_DIR=$WORK/cache_b
data_gets() { grep -c '^GET /vault/v1/repository/data/' "$VLOG" || true; }
expect_exit 0 "$FERRY" --agent "$WORK/b.json" backup "$SRC_B"  # fills the empty cache
GETS=$(data_gets)
expect_exit 0 "$FERRY" --agent "$WORK/b.json" backup "$SRC_B"
[[ $(data_gets) -eq $GETS ]] || fail "an unchanged re-backup with a full cache read $(($(data_gets) - GETS)) pack ranges from the vault"
expect_exit 0 "$FERRY" --agent "$WORK/b.json" --no-cache backup "$SRC_B"
[[ $(data_gets) -gt $GETS ]] || fail "--no-cache: the re-backup read no tree from the vault (is the count blind?)"
mapfile -t CACHED_PACKS < <(find "$FERRY_CACHE_DIR" -path '*/data/*' -type f)
[[ ${#CACHED_PACKS[@]} -ge 1 ]] || fail "no tree pack in the cache $FERRY_CACHE_DIR"
for f in "${CACHED_PACKS[@]}"; do
  [[ $(sha256_of_file "$f") == "$(basename "$f")" ]] || fail "cached pack $f does not match its name"
done
[[ -f $(dirname "$(dirname "$(dirname "${CACHED_PACKS[0]}")")")/CACHEDIR.TAG ]] || soft_fail "no CACHEDIR.TAG in the cache"
TREE_PACK=${CACHED_PACKS[0]}
VAULT_COPY=$REPO_B/data/$(basename "$(dirname "$TREE_PACK")")/$(basename "$TREE_PACK")
[[ -f $VAULT_COPY ]] || fail "cached tree pack is not in the vault at $VAULT_COPY"
# The vault's copy damaged, the cache's intact: check must see the damage.
cp "$VAULT_COPY" "$WORK/tree_pack.saved"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[40] ^= 1; open(sys.argv[1], "wb").write(b)' "$VAULT_COPY"
expect_exit nonzero "$FERRY" --agent "$WORK/b.json" check
grep -q "$(basename "$TREE_PACK")" "$ERR" "$OUT" || soft_fail "check's report does not name the damaged tree pack: $(head -c 600 "$ERR")"
cp "$WORK/tree_pack.saved" "$VAULT_COPY"
# The cache's copy damaged: it is fetched again, and restore is still exact.
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[40] ^= 1; open(sys.argv[1], "wb").write(b)' "$TREE_PACK"
expect_exit 0 "$FERRY" --agent "$WORK/b.json" restore latest --target "$WORK/restore_b_cache"
compare_trees "$SRC_B" "$WORK/restore_b_cache$SRC_B"
[[ $(sha256_of_file "$TREE_PACK") == "$(basename "$TREE_PACK")" ]] || soft_fail "the damaged cache entry was not repaired"
unset FERRY_CACHE_DIR

log "fs02 is intact after everything fs01 and the probes tried"
expect_exit 0 "$FERRY" --agent "$WORK/b.json" check --read-data
expect_exit 0 "$FERRY" --agent "$WORK/a.json" check --read-data
[[ $(sha256_of_file "$B_SNAP_FILE") == "$B_SNAP_SHA" ]] || soft_fail "fs02's first snapshot object changed"
expect_exit 0 "$FERRY" vault show prod --json
python3 -c '
import json, sys
m = {x["name"]: x for x in json.load(open(sys.argv[1]))["machines"]}
assert m["fs01"]["recovery_points"] == 1 and m["fs02"]["recovery_points"] == 5, m' "$OUT" ||
  soft_fail "vault show prod after fs02's five backups: $(head -c 1000 "$OUT")"

# ---------------------------------------------------------------------------------------
log "SIGKILL the server in the middle of a ~320 MiB backup, restart it: the backup finishes"
vault_register lab big "$WORK/big.json"
note_token_file "$WORK/big.json"
SRC_BIG=$WORK/src_big
random_files "$SRC_BIG" 40 8 777
expect_exit 0 "$FERRY" --agent "$WORK/big.json" init
PUTS_BEFORE=$(grep -c '^PUT /vault/v1/repository/data/' "$VLOG" || true)
run_bg backup_big "$FERRY" --agent "$WORK/big.json" backup --json "$SRC_BIG"
PID_BIG=$BG_PID
# Wait for the first pack to arrive (so the kill lands mid-backup), at most 60 s.
# Poll tightly: with four uploads in flight the whole backup takes about a second.
for ((i = 0; i < 3000; i++)); do
  n=$(grep -c '^PUT /vault/v1/repository/data/' "$VLOG" || true)
  [[ $n -gt $PUTS_BEFORE ]] && break
  kill -0 "$PID_BIG" 2>/dev/null || break
  sleep 0.02
done
kill -0 "$PID_BIG" 2>/dev/null || fail "the backup ended before the server could be killed: make the tree bigger"
PACKS_AT_KILL=$(($(grep -c '^PUT /vault/v1/repository/data/' "$VLOG" || true) - PUTS_BEFORE))
vault_kill_server KILL
log "server killed after $PACKS_AT_KILL of ~13 packs arrived; restarting in 2 s"
sleep 2
kill -0 "$PID_BIG" 2>/dev/null || {
  tail -n 20 "$WORK/backup_big.err" >&2
  fail "the backup gave up while the server was down (it should retry for 2 minutes)"
}
vault_start_server
wait_bg "$PID_BIG" backup_big "backup across a server restart"
log "backup across the restart: $(tail -n 1 "$WORK/backup_big.out")"
[[ $(json_field "$WORK/backup_big.out" incomplete) == false ]] || fail "backup across the restart marked incomplete"
expect_exit 0 "$FERRY" --agent "$WORK/big.json" check --read-data
expect_exit 0 "$FERRY" --agent "$WORK/big.json" restore latest --target "$WORK/restore_big"
compare_trees "$SRC_BIG" "$WORK/restore_big$SRC_BIG"
expect_exit 0 "$FERRY" --agent "$WORK/big.json" snapshots --json
python3 -c 'import json, sys; assert len(json.load(open(sys.argv[1]))) == 1' "$OUT" ||
  soft_fail "expected 1 snapshot after the restarted backup: $(head -c 1000 "$OUT")"
[[ -z $(ls -A "$VDATA/repositories/lab/big/locks") ]] || soft_fail "lock left behind after the restarted backup"
leftover=$(stray_files "$VDATA/repositories/lab/big")
[[ -z $leftover ]] || log "note: temp files left by the killed server: $(echo "$leftover" | wc -l)"
# A second backup of the same tree sends almost nothing.
expect_exit 0 "$FERRY" --agent "$WORK/big.json" backup --json "$SRC_BIG"
SENT_AGAIN=$(json_field "$OUT" bytes_sent)
[[ $SENT_AGAIN -lt $((2 * MiB)) ]] || soft_fail "unchanged re-backup after the restart sent $SENT_AGAIN bytes"

# ---------------------------------------------------------------------------------------
log "the server log never holds a token"
vault_server_alive || fail "the server died"
assert_no_tokens_in_log
grep -Eq "$_CRASH_RE" "$VLOG" && fail "crash message in the server log: $(grep -E "$_CRASH_RE" "$VLOG" | head -3)"
true
