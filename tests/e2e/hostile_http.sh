#!/usr/bin/env bash
# The vault's HTTP against a hostile client (docs/security.md, "A hostile network peer or
# HTTP client"): request smuggling in the body of a refused request, headers that trickle
# in or never end, oversize headers and bodies, a flood of slow connections during real
# backups, bad JSON on every JSON route of /vault/v1, error bodies that would show the
# vault's file paths, and a vault whose disk is full (507, the connection closed, the
# client stopping at once, nothing partial left).
#   hostile_http.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

MiB=$((1 << 20))

log "start the vault; vault prod, machine fs01 with one backup"
vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/a.json"
ADMIN=$(admin_token)
TOKEN_A=$(token_of "$WORK/a.json")
AUTH_ADMIN=(-H "Authorization: Bearer $ADMIN")
AUTH_A=(-H "Authorization: Bearer $TOKEN_A")
JSON=(-H 'Content-Type: application/json')
SRC=$WORK/src
make_tree "$SRC" --seed 61 --only-bulk --bulk-big 1 --bulk-big-mib 2 --bulk-small 30 --bulk-small-max-kib 16
expect_exit 0 "$FERRY" --agent "$WORK/a.json" init
expect_exit 0 "$FERRY" --agent "$WORK/a.json" backup "$SRC"

# exchange REQFILE: send REQFILE's bytes on one connection and read until the server
# closes it (bounded, for a broken server). The answer's bytes go to $WORK/answer; prints
# "closed" or "open" (the server kept the connection past the bound).
exchange() {
  python3 - "$VPORT" "$1" "$WORK/answer" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
try:
    s.sendall(open(sys.argv[2], "rb").read())
except OSError:
    pass  # the server stopped reading: what did it answer?
buf, state = b"", "open"
s.settimeout(60)
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            state = "closed"
            break
        buf += chunk
except socket.timeout:
    pass
except OSError:
    state = "closed"
open(sys.argv[3], "wb").write(buf)
print(state)
PY
}
# The request a smuggler hides in a body: create vault "smuggled" with the admin token.
inner_request() {
  printf 'POST /vault/v1/vaults HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n' "$ADMIN"
  printf 'Content-Type: application/json\r\nContent-Length: 20\r\n\r\n{"name": "smuggled"}'
}
inner_request >"$WORK/inner"
INNER_LEN=$(stat -c %s "$WORK/inner")
HEX64=$(printf 'x' | sha256sum | cut -d' ' -f1)
# answers: how many HTTP answers $WORK/answer holds (a JSON body ends without a newline)
answers() { grep -ao 'HTTP/1\.1 [0-9][0-9][0-9] ' "$WORK/answer" | wc -l; }
# smuggle DESC REQUEST-HEAD: REQUEST-HEAD (without the blank line) carries the inner
# request as its body; it must be answered, the connection closed, the inner one not run.
smuggle() {
  local desc=$1
  { printf '%s\r\nContent-Length: %d\r\n\r\n' "$2" "$INNER_LEN"; cat "$WORK/inner"; } >"$WORK/smuggle.req"
  local state
  state=$(exchange "$WORK/smuggle.req")
  [[ $state == closed ]] || soft_fail "$desc: the server kept the connection open after its answer"
  grep -qa '^HTTP/1.1 4' "$WORK/answer" || soft_fail "$desc: no 4xx answer: $(head -c 300 "$WORK/answer")"
  # (a POST's body is read whole before its handler runs: that connection may stay open)
  [[ $desc == POST* ]] || grep -qai '^Connection: close' "$WORK/answer" ||
    soft_fail "$desc: the answer does not say 'Connection: close'"
  [[ $(answers) -eq 1 ]] ||
    soft_fail "$desc: more than one answer on the connection: the body was parsed as a request"
  expect_http 404 "$desc: the smuggled request did not create a vault" GET /vault/v1/vaults/smuggled "${AUTH_ADMIN[@]}"
}

log "smuggling: a refused request's body is never parsed as the next request"
smuggle "PUT with an unknown token" \
  "$(printf 'PUT /vault/v1/repository/data/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s' "$HEX64" "$HEX64")"
smuggle "PUT without a token" "$(printf 'PUT /vault/v1/repository/data/%s HTTP/1.1\r\nHost: x' "$HEX64")"
smuggle "PUT of a bad object name" \
  "$(printf 'PUT /vault/v1/repository/data/nothex HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s' "$TOKEN_A")"
headers=$(printf 'PUT /vault/v1/repository/data/%s HTTP/1.1\r\nHost: x' "$HEX64")
for i in $(seq 70); do headers+=$(printf '\r\nX-H%d: 1' "$i"); done
smuggle "PUT with too many headers (refused before routing)" "$headers"
smuggle "POST with an unknown token" \
  "$(printf 'POST /vault/v1/seeds/j1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s' "$HEX64")"
# A GET with a body: httplib reads no body for GET, so the body would be the next request.
{ printf 'GET /vault/v1/version HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n' "$INNER_LEN"; cat "$WORK/inner"; } >"$WORK/get.req"
[[ $(exchange "$WORK/get.req") == closed ]] || soft_fail "GET with a body: the connection stayed open"
[[ $(answers) -eq 1 ]] || soft_fail "GET with a body: its body was answered as a request"
expect_http 404 "GET with a body: the smuggled request did not create a vault" GET /vault/v1/vaults/smuggled "${AUTH_ADMIN[@]}"
# Chunked and a Content-Length together (the classic CL.TE desync)
{
  printf 'POST /vault/v1/seeds/j1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n' "$HEX64"
  printf 'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
  cat "$WORK/inner"
} >"$WORK/clte.req"
exchange "$WORK/clte.req" >/dev/null
[[ $(answers) -le 1 ]] || soft_fail "CL.TE: the bytes after the chunked body were answered as a request"
expect_http 404 "CL.TE: the smuggled request did not create a vault" GET /vault/v1/vaults/smuggled "${AUTH_ADMIN[@]}"
# An honest client keeps its connection: two requests back to back are both answered.
printf 'GET /vault/v1/version HTTP/1.1\r\nHost: x\r\n\r\nGET /vault/v1/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$WORK/two.req"
exchange "$WORK/two.req" >/dev/null
[[ $(grep -ao 'HTTP/1.1 200 ' "$WORK/answer" | wc -l) -eq 2 ]] || soft_fail "two honest requests on one connection were not both answered"

log "slow and endless headers are cut off (10 s for a request's headers)"
python3 - "$VPORT" <<'PY' >"$WORK/slow.out"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
request = b"GET /vault/v1/version HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100 + b"\r\n\r\n"
# one byte every 2 s: each gap is inside every per-read timeout, the whole takes 300 s
for i, byte in enumerate(request):
    try:
        s.send(bytes([byte]))
    except OSError:
        print("cut after", i, "bytes"); sys.exit(0)
    s.settimeout(2)
    try:
        s.recv(4096)  # an answer (400) or the close
        if i < len(request) - 1:  # before the request was whole: it was cut off
            print("cut after", i, "bytes"); sys.exit(0)
        break
    except socket.timeout:
        pass
    except OSError:
        print("cut after", i, "bytes"); sys.exit(0)
print("never cut")
PY
grep -q '^cut after' "$WORK/slow.out" || soft_fail "headers at one byte every 2 s were never cut off: $(cat "$WORK/slow.out")"
log "  $(cat "$WORK/slow.out")"
python3 -c 'import sys; sys.stdout.buffer.write(b"GET /vault/v1/version HTTP/1.1\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(1000)) + b"\r\n")' >"$WORK/bigheaders.req"
exchange "$WORK/bigheaders.req" >/dev/null
grep -qa '^HTTP/1.1 200' "$WORK/answer" && soft_fail "1 MB of headers was answered 200"

log "oversize bodies are refused before they are read"
printf 'PUT /vault/v1/repository/data/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n' \
  "$HEX64" "$TOKEN_A" $((300 * MiB)) >"$WORK/bigput.req"
[[ $(exchange "$WORK/bigput.req") == closed ]] || soft_fail "a 300 MiB PUT announced without its body: the connection stayed open"
grep -qa '^HTTP/1.1 413' "$WORK/answer" || soft_fail "a 300 MiB PUT was not refused with 413: $(head -c 200 "$WORK/answer")"
printf 'POST /vault/v1/seeds/j1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{' \
  "$TOKEN_A" $((200 * MiB)) >"$WORK/bigjson.req"
[[ $(exchange "$WORK/bigjson.req") == closed ]] || soft_fail "a 200 MiB JSON body announced: the connection stayed open"
grep -qa '^HTTP/1.1 413' "$WORK/answer" || soft_fail "a 200 MiB JSON body was not refused with 413 before it was read: $(head -c 200 "$WORK/answer")"

log "bad JSON on every JSON route of /vault/v1: 400 naming the field, never 500"
# bad_json ROUTE AUTH FIELD BODY...: each BODY gets 400 with an error message naming FIELD
bad_json() {
  local route=$1 auth=$2 field=$3 body
  shift 3
  for body in "$@"; do
    expect_http 400 "POST $route with '$body'" POST "$route" -H "Authorization: Bearer $auth" "${JSON[@]}" --data-binary "$body"
    if [[ $_HTTP_MATCHED == 1 ]] && ! grep -q -- "$field" "$HTTP_BODY"; then
      soft_fail "POST $route with '$body': the error does not name '$field': $(head -c 300 "$HTTP_BODY")"
    fi
  done
}
bad_json /vault/v1/vaults "$ADMIN" name 'not json' '[]' '{}' '{"name": 5}' '{"name": null}' '{"name": ["x"]}' '{"name": "../x"}'
bad_json /vault/v1/vaults/prod/machines "$ADMIN" name 'not json' '[1]' '{}' '{"name": 5}' '{"name": {"a": 1}}' '{"name": "a/b"}'
SEED_OK='"storage_account": "acct", "container": "c1"'
bad_json /vault/v1/seeds/job1 "$TOKEN_A" packs 'not json' '{}' "{$SEED_OK}" "{$SEED_OK, \"packs\": \"x\"}" \
  "{$SEED_OK, \"packs\": [5]}" "{$SEED_OK, \"packs\": [{\"id\": 5, \"size\": 1}]}" \
  "{$SEED_OK, \"packs\": [{\"id\": \"$HEX64\", \"size\": -1}]}" "{$SEED_OK, \"packs\": [{\"id\": \"../x\", \"size\": 1}]}"
bad_json /vault/v1/seeds/job1 "$TOKEN_A" storage_account '{"storage_account": 5, "container": "c1", "packs": []}' \
  '{"storage_account": "../x", "container": "c1", "packs": []}'
bad_json /vault/v1/seeds/job1 "$TOKEN_A" container '{"storage_account": "a", "container": [1], "packs": []}'
bad_json /vault/v1/seeds/job1 "$TOKEN_A" since_ns "{$SEED_OK, \"packs\": [], \"since_ns\": \"x\"}" \
  "{$SEED_OK, \"packs\": [], \"since_ns\": 1.5}"
bad_json /vault/v1/seeds/job1 "$TOKEN_A" staging "{$SEED_OK, \"packs\": [], \"staging\": 7}"
grep -E ' 500$' "$VLOG" && soft_fail "the server answered 500 (lines above)"

log "error bodies never show the vault's file paths"
expect_http 404 "GET of an object that is not there" GET "/vault/v1/repository/data/$HEX64" "${AUTH_A[@]}"
grep -qF -- "$VDATA" "$HTTP_BODY" && soft_fail "a 404 body shows a server path: $(head -c 300 "$HTTP_BODY")"
expect_http 404 "HEAD of a key that is not there" GET "/vault/v1/repository/keys/$HEX64" "${AUTH_A[@]}"
grep -qF -- "$VDATA" "$HTTP_BODY" && soft_fail "a 404 body shows a server path: $(head -c 300 "$HTTP_BODY")"

log "a flood of 200 slow connections (a header byte every 2 s) while real backups run"
"$E2E/slow_flood.py" "$VPORT" 200 2 "$WORK/flood.status" &
FLOOD_PID=$!
vault_track_pid "$FLOOD_PID"
# wait until the flood holds its connections (the condition, not a time)
for ((i = 0; i < 3000; i++)); do
  [[ -s $WORK/flood.status ]] && [[ $(cut -d' ' -f2 "$WORK/flood.status") -ge 150 ]] && break
  sleep 0.1
done
log "  flood: $(cat "$WORK/flood.status" 2>/dev/null)"
python3 -c 'import os, sys; open(sys.argv[1], "wb").write(os.urandom(3 << 20))' "$SRC/during_flood.bin"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" backup "$SRC"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" restore latest --target "$WORK/restore"
compare_trees "$SRC" "$WORK/restore$SRC"
log "  flood while backing up: $(cat "$WORK/flood.status")"
kill "$FLOOD_PID" 2>/dev/null || true
{ wait "$FLOOD_PID"; } 2>/dev/null || true
vault_untrack_pid "$FLOOD_PID"
vault_server_alive || fail "the server died under the flood"

log "a full disk: 507 'the vault is out of space', the connection closed, the client stops at once"
vault_kill_server TERM
FULL=$WORK/full
mkdir -p "$FULL"
if ! mount -t tmpfs -o size=24m tmpfs "$FULL" 2>/dev/null; then
  log "  SKIP: cannot mount a tmpfs here (needs root)"
else
  VDATA_SAVED=$VDATA
  VDATA=$FULL/vault
  VPORT=""
  LOG_FROM=$(($(wc -l <"$VLOG") + 1))
  vault_start_server
  vault_setup small
  vault_register small fs02 "$WORK/b.json"
  TOKEN_B=$(token_of "$WORK/b.json")
  BIG=$WORK/big
  make_tree "$BIG" --seed 62 --only-bulk --bulk-big 4 --bulk-big-mib 10 --bulk-small 0
  expect_exit 0 "$FERRY" --agent "$WORK/b.json" init
  start=$SECONDS
  expect_exit nonzero "$FERRY" --agent "$WORK/b.json" backup "$BIG"
  took=$((SECONDS - start))
  grep -q 'the vault is out of space' "$ERR" || soft_fail "backup to a full vault does not say 'the vault is out of space': $(tail -3 "$ERR")"
  # The client's retry window is 120 s: a permanent error must end the backup long before.
  [[ $took -lt 90 ]] || soft_fail "backup to a full vault took $took s: it retried a permanent error"
  tail -n +"$LOG_FROM" "$VLOG" >"$WORK/full.log"
  grep -q ' 507$' "$WORK/full.log" || soft_fail "the server log shows no 507"
  grep -E ' 500$' "$WORK/full.log" && soft_fail "a full disk was answered 500 (lines above)"
  # A PUT refused mid-body closes its connection; the rest of the body is never parsed.
  python3 -c 'import os, sys; open(sys.argv[1], "wb").write(os.urandom(30 << 20))' "$WORK/obj30"
  OBJ=$(sha256sum "$WORK/obj30" | cut -d' ' -f1)
  { printf 'PUT /vault/v1/repository/data/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n' \
      "$OBJ" "$TOKEN_B" $((30 * MiB)); cat "$WORK/obj30"; } >"$WORK/full.req"
  [[ $(exchange "$WORK/full.req") == closed ]] || soft_fail "a PUT refused on a full disk: the connection stayed open"
  grep -qa '^HTTP/1.1 507' "$WORK/answer" || soft_fail "a PUT on a full disk was not answered 507: $(head -c 300 "$WORK/answer")"
  grep -qa 'the vault is out of space' "$WORK/answer" || soft_fail "the 507 does not say 'the vault is out of space'"
  grep -qai '^Connection: close' "$WORK/answer" || soft_fail "the 507 does not say 'Connection: close'"
  grep -qF -- "$FULL" "$WORK/answer" && soft_fail "the 507 shows a server path"
  [[ $(tail -n +"$LOG_FROM" "$VLOG" | grep -c ' 400$') -eq 0 ]] || soft_fail "the rest of a refused upload was parsed as requests (400s in the log)"
  strays=$(stray_files "$VDATA/repositories")
  [[ -z $strays ]] || soft_fail "partial files left on the full disk: $strays"
  [[ ! -e $VDATA/repositories/small/fs02/data/${OBJ:0:2}/$OBJ ]] || soft_fail "a partial object was stored"
  vault_kill_server TERM
  umount -l "$FULL" || true
  VDATA=$VDATA_SAVED
fi
