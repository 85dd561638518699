#!/usr/bin/env bash
# The README, walked as a newcomer would: every line of every ```sh block of README.md, in
# order, in one shell (so its exports carry on), each required to exit 0 — so the README
# cannot drift from what ferry does.
#
# What the walk changes, and only that:
#   - absolute paths below /srv, /var, /mnt, /media, /tmp, /home and /etc live below a
#     temporary root ($WORK/root/...), and ~ is a temporary home: the walk never touches
#     the machine's own directories;
#   - port 8470 becomes a free port, so that the walk can run beside other tests;
#   - lines that install packages or build ferry (scripts/..., cmake, cd build && ctest) are
#     skipped and listed: the test runs the ferry it was given, put first on PATH as `ferry`;
#   - before the walk it creates the data the README backs up (/home/alice/docs, /etc, /srv).
# After the walk it stops `ferry serve` as the README says (SIGTERM) and checks what the
# README promises: the restores hold the data, the seed was adopted from the container (not
# re-sent over the network), and the vault holds every pack.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

README=$E2E/../../README.md
[[ -f $README ]] || fail "no README.md at $README"
ROOT=$WORK/root
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# A fresh machine: nothing from the test library's environment.
unset FERRY_REPOSITORY FERRY_PASSWORD_FILE FERRY_AGENT FERRY_SERVER FERRY_ADMIN_TOKEN_FILE \
  FERRY_STORAGE_ROOT FERRY_STAGING FERRY_SIGNING_KEY
export HOME=$WORK/user
unset XDG_CACHE_HOME XDG_CONFIG_HOME
mkdir -p "$HOME" "$WORK/bin" "$WORK/cwd"
ln -s "$FERRY" "$WORK/bin/ferry"
export PATH=$WORK/bin:$PATH

log "the data the README backs up"
mkdir -p "$ROOT"/{home/alice/docs,home/alice/music,etc,srv/share,srv/data,mnt,media/d1,tmp,var/lib}
echo "minutes of the meeting" >"$ROOT/home/alice/docs/minutes.txt"
head -c 200000 /dev/urandom >"$ROOT/home/alice/docs/report.bin"
head -c 300000 /dev/urandom >"$ROOT/home/alice/music/song.bin"
echo "scratch" >"$ROOT/home/alice/docs/draft.tmp"
echo "127.0.0.1 localhost" >"$ROOT/etc/hosts"
echo "shared notes" >"$ROOT/srv/share/notes.txt"
head -c 1000000 /dev/urandom >"$ROOT/srv/share/archive.bin"
# Data that only the offline seed carries: a few packs' worth.
for i in 1 2 3; do head -c 6000000 /dev/urandom >"$ROOT/srv/data/part$i.bin"; done

log "extracting the README's command blocks"
python3 - "$README" "$ROOT" "$PORT" >"$WORK/walk.sh" 2>"$WORK/skipped" <<'PY'
import re, shlex, sys
readme, root, port = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(readme).read().split("\n")
out = ["set -o pipefail", "cd \"$WALK_CWD\""]
in_block, block, number = False, 0, 0
skip = re.compile(r"^(scripts/|cmake\b|cd build\b|apt(-get)?\b|sudo\b)")
path = re.compile(r"(^|[\s=\"'(])/(srv|var|mnt|media|tmp|home|etc)(?=/|\s|$|[\"')])")
for index, line in enumerate(lines, 1):
    if line.startswith("```"):
        if in_block:
            in_block = False
        elif line.strip() == "```sh":
            in_block, block = True, block + 1
        continue
    if not in_block:
        continue
    command = line.strip()
    if not command or command.startswith("#"):
        continue
    if skip.match(command):
        print(f"README.md:{index}: skipped (installs or builds): {command}", file=sys.stderr)
        continue
    number += 1
    rewritten = path.sub(lambda m: m.group(1) + root + "/" + m.group(2), command)
    rewritten = rewritten.replace("127.0.0.1:8470", "127.0.0.1:" + port)
    where = f"README.md:{index}"
    out.append(f"echo {shlex.quote('>>> ' + where + ': ' + command)}")
    background = rewritten.endswith("&") and not rewritten.endswith("&&")
    if background:
        # A server the README starts in the background: wait until it answers.
        out.append(f"{rewritten[:-1]} >\"$WALK_LOGS/{number}.out\" 2>\"$WALK_LOGS/{number}.err\" &")
        out.append("WALK_SERVER_PID=$!; echo \"$WALK_SERVER_PID\" >\"$WALK_LOGS/server.pid\"")
        out.append(f"echo {shlex.quote(command)} >\"$WALK_LOGS/{number}.cmd\"")
        out.append(f"walk_wait_for_server {port} {shlex.quote(where)} {number}")
        continue
    out.append(f"{{ {rewritten}\n}} >\"$WALK_LOGS/{number}.out\" 2>\"$WALK_LOGS/{number}.err\" </dev/null")
    out.append(f"walk_rc=$?; echo {shlex.quote(command)} >\"$WALK_LOGS/{number}.cmd\"")
    out.append(f"if [[ $walk_rc -ne 0 ]]; then walk_failed {shlex.quote(where)} {number} $walk_rc; fi")
out.append(f"echo \"walked {number} commands in {block} blocks\"")
print("\n".join(out))
PY
cat "$WORK/skipped"
grep -q 'ferry serve' "$WORK/walk.sh" || fail "the README starts no ferry serve: the walk found no vault section"
grep -q 'datacenter ingest' "$WORK/walk.sh" || fail "the README has no datacenter ingest"

export WALK_LOGS=$WORK/logs WALK_CWD=$WORK/cwd
mkdir -p "$WALK_LOGS"
walk_failed() {  # WHERE NUMBER RC
  echo "[readme_walk] FAIL: $1 exited $3:" >&2
  echo "----- stdout" >&2; tail -n 30 "$WALK_LOGS/$2.out" >&2
  echo "----- stderr" >&2; tail -n 30 "$WALK_LOGS/$2.err" >&2
  exit 1
}
walk_wait_for_server() {  # PORT WHERE NUMBER
  local i
  for ((i = 0; i < 3000; i++)); do  # a bound for a broken server, not a timing goal
    curl -s --max-time 2 "http://127.0.0.1:$1/vault/v1/version" >/dev/null 2>&1 && return 0
    kill -0 "$WALK_SERVER_PID" 2>/dev/null || walk_failed "$2" "$3" "(the server exited)"
    sleep 0.1
  done
  walk_failed "$2" "$3" "(no answer on port $1 within 300 s)"
}
export -f walk_failed walk_wait_for_server

log "walking the README"
walk_rc=0
timeout -k 10 900 bash -c "source $(printf %q "$WORK/walk.sh"); echo walk-done" \
  >"$WORK/walk.out" 2>"$WORK/walk.err" || walk_rc=$?
server_pid=$(cat "$WALK_LOGS/server.pid" 2>/dev/null || true)
if [[ -n $server_pid ]]; then
  _BG_PIDS+=("$server_pid")  # killed at exit whatever happens
fi
cat "$WORK/walk.out"
if [[ $walk_rc -ne 0 ]] || ! grep -q walk-done "$WORK/walk.out"; then
  cat "$WORK/walk.err" >&2
  fail "the README's commands do not work as written (exit $walk_rc)"
fi

# The README stops the server with Ctrl-C or SIGTERM: it must stop cleanly.
[[ -n $server_pid ]] || fail "no ferry serve pid recorded"
kill -TERM "$server_pid"
for ((i = 0; i < 600; i++)); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && fail "ferry serve did not stop on SIGTERM"

# Which log belongs to which README line.
log_of() {  # PATTERN: the number of the first walked command matching PATTERN
  local f
  for f in "$WALK_LOGS"/*.cmd; do
    if grep -Eq -- "$1" "$f"; then basename "$f" .cmd; return 0; fi
  done
  fail "no walked command matches '$1'"
}

log "what the README promises"
[[ -f $ROOT/tmp/r$ROOT/home/alice/docs/minutes.txt ]] || soft_fail "restore --include did not restore docs"
[[ -e $ROOT/tmp/r$ROOT/home/alice/music ]] && soft_fail "restore --include restored more than docs"
cmp -s "$ROOT/srv/share/archive.bin" "$ROOT/tmp/r2$ROOT/srv/share/archive.bin" ||
  soft_fail "the vault restore did not bring /srv/share back"
n=$(log_of '^ferry serve'); grep -q "storage accounts that datacenter ingest fills: $ROOT/var/lib/ferry-server/storage" "$WALK_LOGS/$n.out" ||
  soft_fail "ferry serve does not say where its storage accounts are: $(cat "$WALK_LOGS/$n.out")"
n=$(log_of 'diskprep'); grep -q 'Dock 1, 1 Harbour Road' "$WALK_LOGS/$n.out" ||
  soft_fail "diskprep does not print the shipping address serve was given"
n=$(log_of 'job show'); grep -q 'deadline: drive' "$WALK_LOGS/$n.out" ||
  soft_fail "job show of a shipped job shows no deadline: $(cat "$WALK_LOGS/$n.out")"
# The backup after ingest: the seed adopted from the container, nothing re-sent.
n=""
for ((c = 1; c <= $(ls "$WALK_LOGS"/*.cmd | wc -l); c++)); do
  if grep -qx 'ferry backup /srv' "$WALK_LOGS/$c.cmd" 2>/dev/null; then n=$c; fi
done
[[ -n $n ]] || fail "no 'ferry backup /srv' after ingest in the README"
grep -Eq 'seed seed-nov: [1-9][0-9]* packs? \(.*\) adopted from acct1/seeding' "$WALK_LOGS/$n.out" ||
  soft_fail "the seed was not adopted from the container: $(cat "$WALK_LOGS/$n.out" "$WALK_LOGS/$n.err")"
grep -q 'the vault now holds every pack' "$WALK_LOGS/$n.out" || soft_fail "the seed is not complete"
grep -q 'none of its' "$WALK_LOGS/$n.err" && soft_fail "adoption found nothing in the container"
grep -q 're-sent' "$WALK_LOGS/$n.out" && soft_fail "seed packs were re-sent over the network"
exit 0
