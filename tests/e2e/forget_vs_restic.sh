#!/usr/bin/env bash
# ferry forget decides as restic does: the same history of snapshots (times across both
# daylight-saving changes of Europe/Berlin, an ISO week 53, a leap day, year and month ends),
# made with `backup --time` by both tools, and for each policy the snapshots ferry keeps are
# exactly the ones `restic forget --dry-run` keeps. That includes --keep-within*: counted on the
# local calendar from the newest snapshot that is not in the future (until 2027-01-11 part of this
# history lies after today, so both tools also meet snapshots from the future). restic 0.14 has
# no -1 (unlimited) count. restic (Debian's 0.14) is the reference
# the retention rules are documented against (docs/cli.md, "ferry forget").
#   forget_vs_restic.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
command -v restic >/dev/null || fail "restic is not installed (scripts/install-deps.sh installs it)"
export TZ=Europe/Berlin RESTIC_PASSWORD=pw RESTIC_REPOSITORY=$WORK/restic
export RESTIC_CACHE_DIR=$WORK/restic-cache

SRC=$WORK/src
mkdir -p "$SRC"
echo data >"$SRC/file"
expect_exit 0 "$FERRY" init
restic init -q >/dev/null || fail "restic init failed"

# The history, local times. Hours around the clock changes (2026-03-29 02:00 does not exist;
# 2026-10-25 02:00-03:00 happens twice), week 53 of 2026 (Mon 28 Dec – Sun 3 Jan 2027),
# 29 Feb 2024, the ends of months and years, several snapshots a day.
times=(
  "2023-12-31 23:30:00" "2024-01-01 00:30:00" "2024-02-28 12:00:00" "2024-02-29 08:00:00"
  "2024-02-29 20:00:00" "2024-03-01 09:00:00" "2024-12-30 10:00:00" "2025-01-05 10:00:00"
  "2025-06-30 23:59:00" "2025-07-01 00:01:00" "2026-03-28 23:00:00" "2026-03-29 01:30:00"
  "2026-03-29 03:30:00" "2026-03-29 04:10:00" "2026-03-30 07:00:00" "2026-10-24 22:00:00"
  "2026-10-25 01:30:00" "2026-10-25 02:30:00" "2026-10-25 03:30:00" "2026-10-26 06:00:00"
  "2026-12-27 18:00:00" "2026-12-28 09:00:00" "2026-12-31 23:00:00" "2027-01-01 01:00:00"
  "2027-01-03 22:00:00" "2027-01-04 07:00:00" "2027-01-10 12:00:00" "2027-01-11 12:00:00"
)
for t in "${times[@]}"; do
  # The hour the autumn change repeats is ambiguous: ferry reads it as the earlier (CEST),
  # restic (Go's time.Date) as the later (CET) in zones east of UTC. Both are told the same
  # instant, ferry in RFC 3339, so that the policies are compared on one history.
  ferry_time=$t
  [[ $t == "2026-10-25 02:30:00" ]] && ferry_time=2026-10-25T01:30:00Z
  expect_exit 0 "$FERRY" backup --time "$ferry_time" "$SRC"
  restic backup -q --time "$t" "$SRC" >/dev/null || fail "restic backup --time '$t' failed"
done
[[ $("$FERRY" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == "${#times[@]}" ]] ||
  fail "ferry does not hold ${#times[@]} snapshots"

# kept_times FILE TOOL: the kept snapshots' times, as Unix seconds, one per line, sorted.
kept_times() {
  python3 - "$1" "$2" <<'PY'
import json, sys
from datetime import datetime
path, tool = sys.argv[1], sys.argv[2]
line = [l for l in open(path) if l.lstrip().startswith(("{", "["))][-1]
data = json.loads(line)
def seconds(text):
    text = text.replace("Z", "+00:00")
    if "." in text:  # restic and ferry write nanoseconds; Python takes microseconds
        head, rest = text.split(".", 1)
        zone = rest[rest.find("+") if "+" in rest else rest.find("-"):]
        text = head + zone
    return int(datetime.fromisoformat(text).timestamp())
kept = []
if tool == "ferry":
    for group in data["groups"]:
        kept += [seconds(s["time"]) for s in group["snapshots"] if s["keep"]]
else:
    for group in data:
        kept += [seconds(s["time"]) for s in (group.get("keep") or [])]
print("\n".join(str(k) for k in sorted(kept)))
PY
}

policies=(
  "--keep-last 3" "--keep-hourly 6" "--keep-daily 7" "--keep-weekly 5" "--keep-monthly 6"
  "--keep-yearly 3"
  "--keep-last 2 --keep-daily 3 --keep-weekly 3 --keep-monthly 4 --keep-yearly 2"
  "--keep-weekly 60"
  "--keep-within 30d" "--keep-within 1y2m" "--keep-within 3h" "--keep-within-daily 10d"
  "--keep-within-weekly 2m" "--keep-within-monthly 1y" "--keep-within-hourly 2d12h"
  "--keep-last 1 --keep-within 5d --keep-within-yearly 10y"
)
for policy in "${policies[@]}"; do
  # shellcheck disable=SC2086
  expect_exit 0 "$FERRY" forget --dry-run --json $policy
  kept_times "$OUT" ferry >"$WORK/ferry.kept"
  # shellcheck disable=SC2086
  restic forget --dry-run --json $policy >"$WORK/restic.out" 2>"$WORK/restic.err" ||
    fail "restic forget $policy failed: $(cat "$WORK/restic.err")"
  kept_times "$WORK/restic.out" restic >"$WORK/restic.kept"
  if ! cmp -s "$WORK/ferry.kept" "$WORK/restic.kept"; then
    diff <(while read -r s; do date -d "@$s" '+%F %T %Z'; done <"$WORK/ferry.kept") \
      <(while read -r s; do date -d "@$s" '+%F %T %Z'; done <"$WORK/restic.kept") >&2 || true
    fail "policy '$policy': ferry keeps other snapshots than restic (< ferry, > restic)"
  fi
  log "$policy: both keep $(wc -l <"$WORK/ferry.kept")"
done
exit 0
