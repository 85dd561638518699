# shellcheck shell=bash disable=SC2154
# Helpers for the vault e2e tests (vault.sh, vault_malformed.sh). Source it after lib.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
#   source "$E2E/vault_lib.sh"
#
# Provides:
#   $VDATA, $VPORT, $VURL, $VLOG   the server's data directory, port, base URL, stderr log
#   $VAULT_PID                     pid of the running `ferry serve` (empty when stopped)
#   vault_start_server             start `ferry serve` on $VPORT (picks a free one the first
#                                  time), wait until /vault/v1/version answers
#   vault_kill_server [SIG]        kill the server (default KILL) and reap it
#   vault_setup NAME...            FERRY_ADMIN_TOKEN_FILE/FERRY_SERVER; `ferry vault create`
#   vault_register VAULT MACHINE OUT [MAINT_OUT]   register a machine (+ maintenance token)
#   token_of FILE                  the "token" of an agent credentials file
#   http METHOD PATH [CURL ARGS]   one request; status in $HTTP_CODE, body in $HTTP_BODY
#                                  (a file), headers in $HTTP_HEADERS; 000 = no answer
#   expect_http CODES DESC METHOD PATH [CURL ARGS]   like http, soft_fail unless the status
#                                  is one of CODES ("404" or "411|400"; "4xx" = any 4xx);
#                                  always returns 0
#   http_error_code                the "error.code" of the last JSON error body
#   expect_error_code CODE DESC    the last answer's JSON error code is CODE (else soft_fail);
#                                  skipped when the last expect_http got the wrong status
#   stray_files DIR                files below DIR not named by 64 hex digits (temp files)
#   note_token_file FILE           remember a credentials file for assert_no_tokens_in_log
#   raw_http REQFILE [--close] [--timeout S]   send raw request bytes over a socket, print
#                                  the answer's status ("000" closed, "timeout", "sent")
#   vault_track_pid PID / vault_untrack_pid PID   background jobs to kill on exit
#   vault_server_alive             the server process is still running
#   repo_files_fingerprint DIR     one line per file below DIR: path, size, sha256
#   assert_no_tokens_in_log        the server log holds none of the tokens issued
# The server (and any background jobs registered with vault_track_pid) are killed on exit,
# before lib.sh's own cleanup runs.

# An agent file and FERRY_REPOSITORY cannot be combined ("give either --agent or --repo").
unset FERRY_REPOSITORY

VDATA=$WORK/vault-data
VPORT=""
VURL=""
VLOG=$WORK/server.log
VAULT_PID=""
VAULT_SERVE_ARGS=()   # extra `ferry serve` options (set before vault_start_server)
VAULT_SCHEME=http     # https with VAULT_SERVE_ARGS=(--tls-cert … --tls-key …)
VAULT_CURL_ARGS=()    # e.g. (--cacert cert.pem) for the readiness probe over https
_VAULT_EXTRA_PIDS=()
: >"$VLOG"

_vault_cleanup() {
  local pid
  for pid in ${VAULT_PID:+"$VAULT_PID"} "${_VAULT_EXTRA_PIDS[@]+"${_VAULT_EXTRA_PIDS[@]}"}"; do
    kill -9 "$pid" 2>/dev/null || true
    { wait "$pid"; } 2>/dev/null || true
  done
  if [[ "${KEEP_WORK:-}" == 1 || "${KEEP_WORK:-}" == failed ]]; then
    echo "[$TEST_NAME] server log: $VLOG" >&2
  fi
}
# Chain in front of lib.sh's _cleanup; keep the exit status it sees.
trap '_vault_rc=$?; set +e; _vault_cleanup; (exit $_vault_rc); _cleanup' EXIT

vault_track_pid() {
  _VAULT_EXTRA_PIDS+=("$1")
}

vault_untrack_pid() {
  local keep=() p
  for p in "${_VAULT_EXTRA_PIDS[@]+"${_VAULT_EXTRA_PIDS[@]}"}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  _VAULT_EXTRA_PIDS=("${keep[@]+"${keep[@]}"}")
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

vault_start_server() {
  [[ -z $VAULT_PID ]] || fail "vault_start_server: a server is already running ($VAULT_PID)"
  if [[ -z $VPORT ]]; then
    VPORT=$(free_port)
    VURL=$VAULT_SCHEME://127.0.0.1:$VPORT
  fi
  echo "=== ferry serve started $(date +%T.%N)" >>"$VLOG"
  env --default-signal=INT,QUIT "$FERRY" serve --data "$VDATA" --listen "127.0.0.1:$VPORT" \
    "${VAULT_SERVE_ARGS[@]+"${VAULT_SERVE_ARGS[@]}"}" \
    >>"$WORK/server.out" 2>>"$VLOG" </dev/null &
  VAULT_PID=$!
  local i
  for ((i = 0; i < 3000; i++)); do   # a bound for a broken server, not a timing goal
    if curl -s --max-time 2 "${VAULT_CURL_ARGS[@]+"${VAULT_CURL_ARGS[@]}"}" "$VURL/vault/v1/version" \
      >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$VAULT_PID" 2>/dev/null; then
      local rc=0
      { wait "$VAULT_PID"; } 2>/dev/null || rc=$?
      VAULT_PID=""
      tail -n 30 "$VLOG" "$WORK/server.out" >&2 || true
      fail "ferry serve exited with status $rc before answering on $VURL"
    fi
    sleep 0.1
  done
  fail "ferry serve did not answer /vault/v1/version on $VURL within 300 s"
}

vault_kill_server() {
  local sig=${1:-KILL}
  [[ -n $VAULT_PID ]] || return 0
  kill "-$sig" "$VAULT_PID" 2>/dev/null || true
  VAULT_EXIT=0
  { wait "$VAULT_PID"; } 2>/dev/null || VAULT_EXIT=$?
  VAULT_PID=""
  echo "=== ferry serve stopped with SIG$sig (status $VAULT_EXIT) $(date +%T.%N)" >>"$VLOG"
}

# Is the server process still alive (not crashed)?
vault_server_alive() {
  [[ -n $VAULT_PID ]] && kill -0 "$VAULT_PID" 2>/dev/null
}

vault_setup() {
  export FERRY_ADMIN_TOKEN_FILE=$VDATA/admin.token FERRY_SERVER=$VURL
  local v
  for v in "$@"; do
    expect_exit 0 "$FERRY" vault create "$v"
  done
}

vault_register() {
  local vault=$1 machine=$2 out=$3 maint=${4:-}
  expect_exit 0 "$FERRY" machine register --vault "$vault" --name "$machine" --out "$out"
  [[ -f $out ]] || fail "machine register wrote no $out"
  local mode
  mode=$(stat -c %a "$out")
  [[ $mode == 600 ]] || fail "agent credentials $out have mode $mode, expected 600"
  if [[ -n $maint ]]; then
    expect_exit 0 "$FERRY" machine maintenance-token --vault "$vault" --name "$machine" --out "$maint"
    [[ -f $maint ]] || fail "machine maintenance-token wrote no $maint"
  fi
}

token_of() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$1"
}

admin_token() {
  head -n 1 "$VDATA/admin.token" | tr -d '\r\n'
}

HTTP_BODY=$WORK/http.body
HTTP_HEADERS=$WORK/http.headers
HTTP_CODE=000

# http METHOD PATH [CURL ARGS...]; PATH is sent as is (no ../ squashing by curl).
http() {
  local method=$1 path=$2
  shift 2
  local method_args=(-X "$method")
  [[ $method == HEAD ]] && method_args=(--head)
  : >"$HTTP_BODY"
  : >"$HTTP_HEADERS"
  HTTP_CODE=$(curl -s --path-as-is --max-time "${HTTP_TIMEOUT:-30}" "${method_args[@]}" \
    -o "$HTTP_BODY" -D "$HTTP_HEADERS" -w '%{http_code}' "$@" "$VURL$path" 2>/dev/null) || true
  [[ -n $HTTP_CODE ]] || HTTP_CODE=000
}

_code_matches() {
  local got=$1 want=$2 w
  local IFS='|'
  for w in $want; do
    case $w in
      4xx) [[ $got == 4?? ]] && return 0 ;;
      *) [[ $got == "$w" ]] && return 0 ;;
    esac
  done
  return 1
}

expect_http() {
  local want=$1 desc=$2
  shift 2
  http "$@"
  if ! _code_matches "$HTTP_CODE" "$want"; then
    soft_fail "$desc: $1 $2 answered $HTTP_CODE, expected $want; body: $(head -c 300 "$HTTP_BODY")"
    _HTTP_MATCHED=0
  else
    _HTTP_MATCHED=1
  fi
  return 0   # (never stops the script: the failure is recorded)
}
_HTTP_MATCHED=0

http_error_code() {
  python3 - "$HTTP_BODY" <<'PY'
import json, sys
try:
    print(json.load(open(sys.argv[1], "rb"))["error"]["code"])
except Exception:
    print("<no JSON error body>")
PY
}

# expect_error_code CODE DESC: the last answer's JSON error code is CODE
expect_error_code() {
  [[ $_HTTP_MATCHED == 1 ]] || return 0   # the status was already wrong (and reported)
  local code
  code=$(http_error_code)
  [[ $code == "$1" ]] || soft_fail "$2: error code '$code', expected '$1'; body: $(head -c 300 "$HTTP_BODY")"
}

sha256_of_file() {
  sha256sum "$1" | cut -d' ' -f1
}

repo_files_fingerprint() {
  python3 - "$1" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    for name in sorted(filenames):
        p = os.path.join(dirpath, name)
        with open(p, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print(os.path.relpath(p, root), os.path.getsize(p), digest)
PY
}

# Files below DIR not named by 64 hex digits (other than the repository's config):
# temp files or strays.
stray_files() {
  find "$1" -type f ! -name config | grep -Ev '/[0-9a-f]{64}$' || true
}

_ISSUED_TOKEN_FILES=()
# note_token_file FILE: a credentials file whose token must never reach the server log
note_token_file() {
  _ISSUED_TOKEN_FILES+=("$1")
}

assert_no_tokens_in_log() {
  local tokens=() f t
  tokens+=("$(admin_token)")
  for f in "${_ISSUED_TOKEN_FILES[@]+"${_ISSUED_TOKEN_FILES[@]}"}"; do
    tokens+=("$(token_of "$f")")
  done
  for t in "${tokens[@]}"; do
    [[ ${#t} -eq 64 ]] || fail "assert_no_tokens_in_log: '$t' is not a token"
    if grep -qF -- "$t" "$VLOG" "$WORK/server.out"; then
      soft_fail "the server log holds a token (${t:0:8}…): $(grep -F -- "$t" "$VLOG" "$WORK/server.out" | head -3)"
    fi
    # nor a recognisable part of it
    if grep -qF -- "${t:0:16}" "$VLOG" "$WORK/server.out"; then
      soft_fail "the server log holds the first 16 digits of a token (${t:0:8}…)"
    fi
  done
  log "server log ($(wc -l <"$VLOG") lines) holds none of the ${#tokens[@]} tokens"
}

# raw_http REQUEST_FILE [--close] [--timeout S]: send the bytes of REQUEST_FILE to the server
# over a plain socket. --close: close the connection right after sending (print "sent");
# otherwise print the answer's status code, "000" when the server closed the connection
# without one, or "timeout" when none came within S seconds (default 10). The answer's
# bytes go to $WORK/raw.answer.
raw_http() {
  python3 - "$VPORT" "$WORK/raw.answer" "$@" <<'PY'
import socket, sys, time
port, answer_path, request_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rest = sys.argv[4:]
close = "--close" in rest
timeout = float(rest[rest.index("--timeout") + 1]) if "--timeout" in rest else 10.0
data = open(request_path, "rb").read()
s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
try:
    s.sendall(data)
except OSError:
    pass  # the server may refuse early and close; read what it said
if close:
    s.close()
    print("sent")
    sys.exit(0)
buf = b""
deadline = time.time() + timeout
try:
    while time.time() < deadline:
        s.settimeout(max(0.1, deadline - time.time()))
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        if b"\r\n\r\n" in buf:
            break
    else:
        pass
except socket.timeout:
    if not buf:
        open(answer_path, "wb").write(buf)
        print("timeout")
        sys.exit(0)
except OSError:
    pass
open(answer_path, "wb").write(buf)
if buf.startswith(b"HTTP/1."):
    print(buf.split(b" ", 2)[1].decode())
elif not buf and time.time() >= deadline:
    print("timeout")
else:
    print("000")
PY
}
