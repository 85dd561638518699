# Common setup for ferry's end-to-end tests. Source it from a test script:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
#
# The first argument (or $FERRY) is the path to the ferry binary.
# Provides:
#   $FERRY      absolute path to the binary
#   $E2E        directory of the e2e scripts (make_tree.py, compare_tree.py)
#   $WORK       per-test temp directory (canonical path), removed on exit
#               (kept when KEEP_WORK=1, or on failure when KEEP_WORK=failed)
#   FERRY_REPOSITORY=$WORK/repo, FERRY_PASSWORD_FILE=$WORK/password (exported)
#   XDG_CACHE_HOME=$WORK/cache (exported): vault metadata caches stay in $WORK
#   XDG_CONFIG_HOME=$WORK/config (exported): what ferry remembers per machine (repository
#               pins, the snapshots and indexes it wrote: `ferry trust`) stays in $WORK, so
#               tests neither write to ~ nor see each other's pins
#   $OUT, $ERR  files holding stdout/stderr of the last expect_exit
#   fail MSG                  print MSG (and where) and exit 1
#   log MSG                   print a progress line
#   expect_exit CODE CMD...   run CMD, assert its exit status; CODE may be a number or
#                             "nonzero" (1..127). Always asserts the command did not crash.
#   assert_no_crash           check the last command's status and stderr for crash signs
#   json_field FILE FIELD     FIELD of the last JSON object line of FILE (JSON-encoded
#                             unless it is a string or number)
#   tree_fingerprint DIR      print a line per entry (metadata, inode, content hash)
#   compare_trees A B [ARGS]  compare_tree.py A B, fail with its report on differences
#   soft_fail MSG             record a failure, keep going; the test fails at exit
#   repo_size                 du -sb of the repository
#   bg_start VAR CMD...       start CMD in the background (killed on exit); pid in $VAR
#   bg_wait PID               wait for it; status in $BG_RC
#   expect_no_crash CMD...    run CMD, any status but a crash is fine
set -euo pipefail

FERRY=${1:-${FERRY:-}}
if [[ -z "$FERRY" ]]; then
  echo "usage: $0 PATH-TO-FERRY   (or set FERRY)" >&2
  exit 2
fi
if [[ ! -x "$FERRY" ]]; then
  echo "$0: ferry binary '$FERRY' is missing or not executable" >&2
  exit 2
fi
FERRY=$(readlink -f "$FERRY")
E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_NAME=$(basename "$0" .sh)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-e2e-$TEST_NAME.XXXXXX")
WORK=$(readlink -f "$WORK")   # paths are stored absolute: avoid symlinks in them
OUT=$WORK/stdout
ERR=$WORK/stderr
: >"$OUT"
: >"$ERR"
LAST_RC=0
LAST_CMD=""
_BG_PIDS=()
_STATUS=failed

_cleanup() {
  local rc=$?
  if [[ ${#_SOFT_FAILS[@]} -gt 0 ]]; then
    local m
    for m in "${_SOFT_FAILS[@]}"; do echo "[$TEST_NAME] FAIL: $m" >&2; done
    [[ $rc -ne 0 ]] || rc=1
  fi
  local pid
  for pid in "${_BG_PIDS[@]+"${_BG_PIDS[@]}"}"; do
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ "${KEEP_WORK:-}" == 1 || ("${KEEP_WORK:-}" == failed && $rc -ne 0) ]]; then
    echo "[$TEST_NAME] work directory kept: $WORK" >&2
  else
    chmod -R u+rwx "$WORK" 2>/dev/null || true
    rm -rf "$WORK"
  fi
  if [[ $rc -eq 0 ]]; then
    echo "[$TEST_NAME] PASS"
  else
    echo "[$TEST_NAME] FAIL (exit $rc)" >&2
  fi
  exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

unset FERRY_PASSWORD FERRY_CACHE_DIR FERRY_STATE_DIR
export XDG_CACHE_HOME=$WORK/cache
export XDG_CONFIG_HOME=$WORK/config
export FERRY_REPOSITORY=$WORK/repo
export FERRY_PASSWORD_FILE=$WORK/password
printf 'correct horse battery staple\n' >"$FERRY_PASSWORD_FILE"

log() {
  echo "[$TEST_NAME] $*"
}

fail() {
  echo "[$TEST_NAME] FAIL: $*" >&2
  local i
  for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
    echo "[$TEST_NAME]   at ${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]} (${FUNCNAME[i]})" >&2
  done
  exit 1
}

_show_output() {
  echo "----- command: $LAST_CMD" >&2
  echo "----- exit status: $LAST_RC" >&2
  echo "----- stdout (last 30 lines):" >&2
  tail -n 30 "$OUT" >&2 || true
  echo "----- stderr (last 30 lines):" >&2
  tail -n 30 "$ERR" >&2 || true
  echo "-----" >&2
}

# Crash signs: killed by a signal (status >= 128, or 124 from the timeout wrapper), or a
# message from the C++ runtime, glibc or a sanitizer on stderr.
_CRASH_RE='Segmentation fault|Aborted|terminate called|core dumped|AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:|double free|stack smashing|malloc\(\)|free\(\): invalid'

assert_no_crash() {
  if [[ $LAST_RC -eq 124 ]]; then
    _show_output
    fail "command timed out after ${E2E_CMD_TIMEOUT:-300}s: $LAST_CMD"
  fi
  if [[ $LAST_RC -ge 128 ]]; then
    _show_output
    fail "command died with status $LAST_RC (signal $((LAST_RC - 128))): $LAST_CMD"
  fi
  if grep -Eq "$_CRASH_RE" "$ERR"; then
    _show_output
    fail "crash message on stderr of: $LAST_CMD"
  fi
}

# expect_exit CODE CMD...: CODE is a number or "nonzero". Each command gets a time limit of
# $E2E_CMD_TIMEOUT seconds (default 300).
expect_exit() {
  local want=$1
  shift
  LAST_CMD="$*"
  LAST_RC=0
  timeout -k 10 "${E2E_CMD_TIMEOUT:-300}" "$@" >"$OUT" 2>"$ERR" </dev/null || LAST_RC=$?
  assert_no_crash
  if [[ "$want" == nonzero ]]; then
    if [[ $LAST_RC -eq 0 ]]; then
      _show_output
      fail "expected a non-zero exit status, got 0: $LAST_CMD"
    fi
  elif [[ $LAST_RC -ne $want ]]; then
    _show_output
    fail "expected exit status $want, got $LAST_RC: $LAST_CMD"
  fi
}

# output_mentions PATTERN: the last command's stdout or stderr matches the (grep -Ei) PATTERN
output_mentions() {
  grep -Eiq -- "$1" "$OUT" "$ERR"
}

json_field() {
  python3 - "$1" "$2" <<'PY'
import json, sys
path, field = sys.argv[1], sys.argv[2]
obj = None
with open(path, "rb") as f:
    for line in f:
        line = line.strip()
        if not line.startswith(b"{"):
            continue
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if isinstance(o, dict):
            obj = o
if obj is None:
    sys.exit("json_field: no JSON object line in %s" % path)
if field not in obj:
    sys.exit("json_field: field %r missing from %s" % (field, json.dumps(obj)))
v = obj[field]
if isinstance(v, str):
    print(v)
elif isinstance(v, bool) or v is None or isinstance(v, (list, dict)):
    print(json.dumps(v))
else:
    print(v)
PY
}

tree_fingerprint() {
  python3 - "$1" <<'PY'
import hashlib, os, stat, sys
root = os.fsencode(sys.argv[1])
def walk(rel):
    p = os.path.join(root, rel) if rel else root
    st = os.lstat(p)
    extra = b""
    if stat.S_ISREG(st.st_mode):
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        extra = h.hexdigest().encode()
    elif stat.S_ISLNK(st.st_mode):
        extra = os.readlink(p)
    try:
        xa = sorted((n, os.getxattr(p, n, follow_symlinks=False)) for n in os.listxattr(p, follow_symlinks=False))
    except OSError:
        xa = []
    print(repr((rel, st.st_mode, st.st_ino, st.st_nlink, st.st_uid, st.st_gid, st.st_size,
                st.st_mtime_ns, st.st_ctime_ns, extra, xa)))
    if stat.S_ISDIR(st.st_mode):
        for name in sorted(os.listdir(p)):
            walk(os.path.join(rel, name) if rel else name)
walk(b"")
PY
}

compare_trees() {
  local a=$1 b=$2
  shift 2
  local rc=0
  python3 "$E2E/compare_tree.py" "$a" "$b" "$@" >"$WORK/compare.out" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    head -n 200 "$WORK/compare.out" >&2
    fail "trees differ: $a vs $b"
  fi
  tail -n 1 "$WORK/compare.out"
}

# soft_fail MSG: record a failure but carry on, so later checks still run; the test
# fails at exit (see _cleanup) and lists every soft failure.
_SOFT_FAILS=()
soft_fail() {
  echo "[$TEST_NAME] FAIL (continuing): $*" >&2
  _SOFT_FAILS+=("$*")
}

repo_size() {
  du -sb "$FERRY_REPOSITORY" | cut -f1
}

# bg_start VAR CMD...: start CMD in the background with stdout/stderr in $WORK/bg.out/.err
bg_start() {
  local _bg_var=$1
  shift
  # a non-interactive shell starts background jobs with SIGINT ignored: restore the default
  env --default-signal=INT,QUIT "$@" >"$WORK/bg.out" 2>"$WORK/bg.err" </dev/null &
  local _bg_pid=$!
  _BG_PIDS+=("$_bg_pid")
  printf -v "$_bg_var" '%s' "$_bg_pid"
}

# bg_wait PID: wait for a bg_start'ed process; its status goes to $BG_RC
bg_wait() {
  local _bg_pid=$1 _p
  BG_RC=0
  # (braces + redirection: no "Killed" job notice from the shell)
  { wait "$_bg_pid"; } 2>/dev/null || BG_RC=$?
  local _keep=()
  for _p in "${_BG_PIDS[@]}"; do [[ $_p == "$_bg_pid" ]] || _keep+=("$_p"); done
  _BG_PIDS=("${_keep[@]}")
}

# expect_no_crash CMD...: run CMD, require only that it did not crash (any status < 128)
expect_no_crash() {
  LAST_CMD="$*"
  LAST_RC=0
  timeout -k 10 "${E2E_CMD_TIMEOUT:-300}" "$@" >"$OUT" 2>"$ERR" </dev/null || LAST_RC=$?
  assert_no_crash
}

make_tree() {
  python3 "$E2E/make_tree.py" "$@"
}
