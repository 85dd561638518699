#!/usr/bin/env bash
# Scheduled backups: `schedule set` writes the service and timer and (systemd not running
# for that directory) prints the crontab line; the command in the unit and the one in the
# crontab line really back up, from "/" with an empty environment; show; remove.
# Every path involved has spaces, % and $ in it, which systemd and cron both treat specially.
#   schedule.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

UNITS=$WORK/units
SERVICE=$UNITS/ferry-backup-default.service
TIMER=$UNITS/ferry-backup-default.timer

# The binary, the repository, the password file and the data all live at awkward paths.
BIN_DIR="$WORK/bin dir 5%"
mkdir -p "$BIN_DIR"
cp "$FERRY" "$BIN_DIR/ferry"
BIN="$BIN_DIR/ferry"
export FERRY_REPOSITORY="$WORK/my repo 100%"
export FERRY_PASSWORD_FILE="$WORK/pass word %d"
cp "$WORK/password" "$FERRY_PASSWORD_FILE"
chmod 600 "$FERRY_PASSWORD_FILE"
REL_SRC='data 50%/it'"'"'s "here" $HOME \%x'
SRC="$WORK/$REL_SRC"
mkdir -p "$SRC/sub"
printf 'hello\n' >"$SRC/a.txt"
printf 'world\n' >"$SRC/sub/b 100%.txt"
printf 'skip me\n' >"$SRC/sub/junk.tmp"

log "init"
expect_exit 0 "$FERRY" init

log "schedule set (relative path, from the work directory)"
cd "$WORK"
expect_exit 0 "$BIN" schedule set --daily 3:17 --paths "$REL_SRC" --unit-dir "$UNITS" \
  --randomized-delay 45min --tag nightly --exclude '*.tmp'
cd /
cp "$OUT" "$WORK/set.out"
[[ -f $SERVICE && -f $TIMER ]] || fail "set did not write both unit files: $(ls -la "$UNITS" 2>&1)"
CRON_LINE=$(grep -E '^17 3 \* \* \* ' "$WORK/set.out" || true)
[[ -n $CRON_LINE ]] || fail "set printed no crontab line: $(cat "$WORK/set.out")"
[[ $(grep -cE '^17 3 \* \* \* ' "$WORK/set.out") -eq 1 ]] || fail "more than one crontab line"
log "crontab line: $CRON_LINE"

log "unit files"
for line in 'OnCalendar=*-*-* 03:17:00' 'Persistent=true' 'RandomizedDelaySec=45min' \
  'WantedBy=timers.target' 'Unit=ferry-backup-default.service'; do
  grep -qxF -- "$line" "$TIMER" || fail "timer lacks '$line': $(cat "$TIMER")"
done
for line in 'Type=oneshot' 'Nice=10' 'IOSchedulingClass=idle' 'StandardOutput=journal'; do
  grep -qxF -- "$line" "$SERVICE" || fail "service lacks '$line': $(cat "$SERVICE")"
done
[[ $(grep -c '^ExecStart=' "$SERVICE") -eq 1 ]] || fail "service needs exactly one ExecStart"
! grep -rqF "$(head -n 1 "$FERRY_PASSWORD_FILE")" "$UNITS" "$WORK/set.out" ||
  fail "the password itself was written into a unit file or printed"
[[ $(stat -c %a "$SERVICE") == 644 && $(stat -c %a "$TIMER") == 644 ]] ||
  fail "unit files should be mode 644: $(stat -c '%a %n' "$SERVICE" "$TIMER")"
[[ -z $(find "$UNITS" -name '*.tmp-*') ]] || fail "temporary files left in $UNITS"

log "ExecStart, read as systemd would (%% and \$\$ unescaped, then the quoting)"
python3 - "$SERVICE" "$WORK/argv" <<'PY' || fail "cannot parse ExecStart: $(grep ExecStart "$SERVICE")"
import shlex, sys
line = next(l for l in open(sys.argv[1], encoding="utf-8") if l.startswith("ExecStart="))
raw = line[len("ExecStart="):].rstrip("\n")
argv = shlex.split(raw.replace("%%", "%").replace("$$", "$"))
with open(sys.argv[2], "wb") as f:
    f.write(b"".join(a.encode() + b"\0" for a in argv))
PY
mapfile -d '' ARGV <"$WORK/argv"
python3 - "$BIN" "$SRC" "$FERRY_REPOSITORY" "$FERRY_PASSWORD_FILE" "${ARGV[@]}" <<'PY' ||
import sys
binary, src, repo, password_file, *argv = sys.argv[1:]
assert argv[0] == binary, "argv[0] %r, expected %r" % (argv[0], binary)
assert "--repo=" + repo in argv, "no --repo=%r in %r" % (repo, argv)
assert "--password-file=" + password_file in argv, "no --password-file in %r" % argv
i = argv.index("backup")
assert argv[i + 1] == src, "path %r, expected %r" % (argv[i + 1], src)
for want in ("--tag=scheduled", "--tag=nightly", "--exclude=*.tmp", "--json"):
    assert want in argv[i:], "%s missing from %r" % (want, argv)
PY
  fail "ExecStart is not the expected command: ${ARGV[*]}"

if command -v systemd-analyze >/dev/null; then
  log "systemd-analyze verify accepts the units and loads the same argv"
  (cd "$UNITS" && systemd-analyze verify --man=no \
    ./ferry-backup-default.service ./ferry-backup-default.timer) >"$WORK/verify.out" 2>&1 ||
    fail "systemd-analyze verify rejects the units: $(tail -20 "$WORK/verify.out")"
  # At debug level it also dumps the units as loaded, with ExecStart's argv.
  (cd "$UNITS" && SYSTEMD_LOG_LEVEL=debug systemd-analyze verify --man=no \
    ./ferry-backup-default.service) >"$WORK/verify.out" 2>&1 || true
  if grep -q 'Command Line:' "$WORK/verify.out"; then
    python3 - "$WORK/verify.out" "${ARGV[@]}" <<'PY' || fail "systemd loaded another argv"
import sys
dump, *argv = sys.argv[1:]
line = next(l for l in open(dump, encoding="utf-8") if "Command Line:" in l)
text = line.split("Command Line:", 1)[1].strip()
# systemd prints each word bare or in "..." with \-escapes; $ is still $$ here
# (substituted when the command runs).
words, word, i, quoted, started = [], "", 0, False, False
while i < len(text):
    c = text[i]
    if c == "\\":
        i += 1; word += text[i]; started = True
    elif c == '"':
        quoted = not quoted; started = True
    elif c == " " and not quoted:
        if started: words.append(word)
        word, started = "", False
    else:
        word += c; started = True
    i += 1
if started: words.append(word)
words = [w.replace("$$", "$") for w in words]
assert words == argv, "systemd: %r\nshlex:   %r" % (words, argv)
PY
  fi
else
  log "(systemd-analyze not installed: skipping verify)"
fi

log "run the ExecStart command from / with an empty environment"
expect_exit 0 env -C / -i PATH=/usr/bin:/bin "${ARGV[@]}"
cp "$OUT" "$WORK/run1.json"
[[ $(json_field "$WORK/run1.json" message_type) == summary ]] || fail "no JSON summary: $(tail -5 "$OUT")"
[[ $(json_field "$WORK/run1.json" incomplete) == false ]] || fail "scheduled backup incomplete"
! grep -q '"message_type": *"status"' "$WORK/run1.json" || fail "status lines in the scheduled log"

expect_exit 0 "$FERRY" snapshots --json
python3 - "$OUT" "$SRC" 1 <<'PY' || fail "snapshots after the scheduled run: $(head -c 2000 "$OUT")"
import json, sys
snapshots = json.load(open(sys.argv[1]))
assert len(snapshots) == int(sys.argv[3]), "%d snapshots" % len(snapshots)
for s in snapshots:
    assert "scheduled" in s["tags"] and "nightly" in s["tags"], s["tags"]
    assert s["paths"] == [sys.argv[2]], s["paths"]
PY
expect_exit 0 "$FERRY" ls latest "$SRC/sub"
grep -qF 'b 100%.txt' "$OUT" || fail "ls does not list 'b 100%.txt': $(cat "$OUT")"
! grep -qF 'junk.tmp' "$OUT" || fail "--exclude '*.tmp' did not reach the scheduled backup"

log "run the crontab line as cron would (% unescaped, /bin/sh, empty environment, from /)"
[[ $CRON_LINE == *" >> /var/log/ferry-default.log 2>&1" ]] || fail "crontab line does not log to /var/log/ferry-default.log"
CRON_CMD=$(python3 - "$CRON_LINE" <<'PY'
import sys
line = sys.argv[1]
command = line.split(" ", 5)[5]
# cronie's do_command.c: "\%" -> "%", any other "\x" stays, a lone % ends the command.
out, escaped = "", False
for c in command:
    if escaped:
        out = out[:-1] + "%" if c == "%" else out + c
        escaped = False
        continue
    assert c != "%", "unescaped %% in %r" % command
    out += c
    escaped = c == "\\"
print(out)
PY
)
CRON_CMD=${CRON_CMD%" >> /var/log/ferry-default.log 2>&1"}
expect_exit 0 env -C / -i PATH=/usr/bin:/bin HOME=/ /bin/sh -c "$CRON_CMD >> '$WORK/cron.log' 2>&1"
[[ $(json_field "$WORK/cron.log" message_type) == summary ]] || fail "cron run logged no summary: $(cat "$WORK/cron.log")"
expect_exit 0 "$FERRY" snapshots --json
python3 - "$OUT" "$SRC" 2 <<'PY' || fail "snapshots after the cron run: $(head -c 2000 "$OUT")"
import json, sys
snapshots = json.load(open(sys.argv[1]))
assert len(snapshots) == int(sys.argv[3]), "%d snapshots" % len(snapshots)
for s in snapshots:
    assert "scheduled" in s["tags"] and "nightly" in s["tags"], s["tags"]
    assert s["paths"] == [sys.argv[2]], s["paths"]
PY

log "a failing scheduled run exits with the documented code and logs a JSON error"
mv "$FERRY_REPOSITORY" "$WORK/moved"
expect_exit 10 env -C / -i PATH=/usr/bin:/bin "${ARGV[@]}"
[[ $(json_field "$OUT" message_type) == error && $(json_field "$OUT" exit_code) == 10 ]] ||
  fail "no JSON error line for a missing repository: $(cat "$OUT" "$ERR")"
mv "$WORK/moved" "$FERRY_REPOSITORY"

log "schedule show"
expect_exit 0 "$FERRY" schedule show --unit-dir "$UNITS"
grep -qF '*-*-* 03:17:00' "$OUT" || fail "show does not print the schedule: $(cat "$OUT")"
python3 - "$OUT" "${ARGV[@]}" <<'PY' || fail "show does not print the command for a shell: $(cat "$OUT")"
import shlex, sys
out, *argv = sys.argv[1:]
line = next(l for l in open(out, encoding="utf-8") if l.strip().startswith("command:"))
assert shlex.split(line.split("command:", 1)[1]) == argv, line
PY
expect_exit 0 "$FERRY" schedule show --unit-dir "$UNITS" --name default --json
python3 - "$OUT" "$CRON_LINE" "${ARGV[@]}" <<'PY' || fail "show --json: $(cat "$OUT")"
import json, sys
out, cron_line, *argv = sys.argv[1:]
shown = json.load(open(out))
assert len(shown) == 1 and shown[0]["name"] == "default", shown
s = shown[0]
assert s["on_calendar"] == "*-*-* 03:17:00" and s["persistent"] is True, s
assert s["randomized_delay"] == "45min", s
assert s["command"] == argv, s["command"]
assert s["crontab"] == cron_line, s["crontab"]
PY

log "refusals: no password file, bad time, bad name, bad delay"
expect_exit nonzero env -u FERRY_PASSWORD_FILE FERRY_PASSWORD=secret "$FERRY" schedule set \
  --daily 02:00 --paths "$SRC" --unit-dir "$UNITS" --name nopw
output_mentions 'password file' || fail "refusal does not mention the password file: $(cat "$ERR")"
[[ ! -e $UNITS/ferry-backup-nopw.service && ! -e $UNITS/ferry-backup-nopw.timer ]] ||
  fail "units written although the password file is missing"
! grep -rqF secret "$UNITS" || fail "FERRY_PASSWORD ended up in a unit file"
expect_exit 2 "$FERRY" schedule set --daily 24:00 --paths "$SRC" --unit-dir "$UNITS" --name x
expect_exit 2 "$FERRY" schedule set --daily 02:00 --paths "$SRC" --unit-dir "$UNITS" --name 'a/b'
expect_exit 2 "$FERRY" schedule set --daily 02:00 --paths "$SRC" --unit-dir "$UNITS" --name x \
  --randomized-delay 3days
expect_exit 2 "$FERRY" schedule set --paths "$SRC" --unit-dir "$UNITS"
[[ $(ls "$UNITS" | wc -l) -eq 2 ]] || fail "refused commands left files: $(ls "$UNITS")"

log "schedule remove"
expect_exit 0 "$FERRY" schedule remove --unit-dir "$UNITS"
[[ ! -e $SERVICE && ! -e $TIMER ]] || fail "remove left unit files: $(ls "$UNITS")"
expect_exit 1 "$FERRY" schedule remove --unit-dir "$UNITS"
expect_exit 0 "$FERRY" schedule show --unit-dir "$UNITS"
grep -q 'no ferry schedules' "$OUT" || fail "show after remove: $(cat "$OUT")"
expect_exit 1 "$FERRY" schedule show --unit-dir "$UNITS" --name default
