#!/usr/bin/env bash
# Choosing snapshots: snapshots --host/--tag/--path/--latest/--group-by/--compact select and
# group as restic's do, `latest` in restore, ls and dump honours the same flags, and `tag`
# rewrites snapshots (new ID, old one gone, everything else equal, the data restores byte
# for byte). On a vault, tag with the machine token (append-only) is refused before anything
# is written; with the maintenance token it works.
#   everyday_snapshots.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

mkdir -p "$WORK/srv" "$WORK/etc"
echo "srv one" >"$WORK/srv/f"
echo "etc one" >"$WORK/etc/f"
expect_exit 0 "$FERRY" init
snap() {  # snap ARGS... -> ID of the snapshot made
  expect_exit 0 "$FERRY" backup --json "$@"
  json_field "$OUT" snapshot_id
}
S1=$(snap "$WORK/srv" --host alpha --tag daily --time '2024-01-01 10:00:00')
S2=$(snap "$WORK/srv" --host alpha --tag daily --tag db --time '2024-01-02 10:00:00')
S3=$(snap "$WORK/etc" --host alpha --time '2024-01-03 10:00:00')
echo "srv on beta" >"$WORK/srv/f"
S4=$(snap "$WORK/srv" --host beta --tag db --time '2024-01-04 10:00:00')
echo "srv two" >"$WORK/srv/f"
S5=$(snap "$WORK/srv" --host alpha --time '2024-01-05 10:00:00')

ids() {  # ids FERRY-SNAPSHOTS-ARGS... -> the short IDs listed, in order
  "$FERRY" snapshots --json "$@" | python3 -c 'import json,sys; print(" ".join(s["id"][:8] for s in json.load(sys.stdin)))'
}
want() { echo "$@" | python3 -c 'import sys; print(" ".join(w[:8] for w in sys.stdin.read().split()))'; }

log "snapshots: filters, --latest, --group-by, --compact"
[[ $(ids --host beta) == $(want "$S4") ]] || fail "--host beta: $(ids --host beta)"
[[ $(ids --tag db) == $(want "$S2" "$S4") ]] || fail "--tag db: $(ids --tag db)"
[[ $(ids --tag daily,db) == $(want "$S2") ]] || fail "--tag daily,db needs both: $(ids --tag daily,db)"
[[ $(ids --tag daily --tag db) == $(want "$S1" "$S2" "$S4") ]] || fail "--tag a --tag b is either"
[[ $(ids --path "$WORK/etc") == $(want "$S3") ]] || fail "--path: $(ids --path "$WORK/etc")"
[[ $(ids --host alpha --path "$WORK/srv") == $(want "$S1" "$S2" "$S5") ]] || fail "--host and --path"
[[ $(ids --latest 1) == $(want "$S3" "$S4" "$S5") ]] || fail "--latest 1 (per host and paths): $(ids --latest 1)"
expect_exit 0 "$FERRY" snapshots --json --group-by host
python3 - "$OUT" "$S1" "$S4" <<'PY' || fail "--group-by host --json is not as documented"
import json, sys
groups = json.load(open(sys.argv[1]))
assert [g["group_key"]["hostname"] for g in groups] == ["alpha", "beta"], groups
assert len(groups[0]["snapshots"]) == 4 and groups[1]["snapshots"][0]["id"] == sys.argv[3], groups
assert groups[0]["snapshots"][0]["id"] == sys.argv[2], groups
PY
expect_exit 0 "$FERRY" snapshots --group-by host,paths
[[ $(grep -c "^snapshots for (host \[" "$OUT") == 3 ]] || fail "--group-by host,paths: $(cat "$OUT")"
expect_exit 0 "$FERRY" snapshots --compact --host beta
grep -q "^${S4:0:8} .*beta *db$" "$OUT" || fail "--compact: $(cat "$OUT")"
! grep -q "$WORK/srv" "$OUT" || fail "--compact shows paths"
grep -q "^1 snapshot of 5$" "$OUT" || fail "the count does not say how many were left out: $(cat "$OUT")"
expect_exit 2 "$FERRY" snapshots --group-by color

log "latest honours --host/--tag/--path in restore, ls and dump"
expect_exit 0 "$FERRY" restore latest --host beta --target "$WORK/r-beta"
[[ $(cat "$WORK/r-beta$WORK/srv/f") == "srv on beta" ]] || fail "restore latest --host beta restored another snapshot"
expect_exit 0 "$FERRY" restore latest --tag daily --target "$WORK/r-daily"
[[ $(cat "$WORK/r-daily$WORK/srv/f") == "srv one" ]] || fail "restore latest --tag daily"
expect_exit 0 "$FERRY" ls latest --path "$WORK/etc"
grep -q "^$WORK/etc/f$" "$OUT" || fail "ls latest --path etc: $(cat "$OUT")"
[[ $("$FERRY" dump latest --host beta "$WORK/srv/f") == "srv on beta" ]] || fail "dump latest --host beta"
expect_exit 1 "$FERRY" restore latest --host nobody --target "$WORK/r-none"
grep -q "no snapshot of host nobody" "$ERR" || fail "an empty selection is not explained: $(cat "$ERR")"

log "tag: --add, --remove, --set rewrite the snapshot under a new ID"
expect_exit 0 "$FERRY" tag --json --add extra --add more "${S3:0:8}"
NEW3=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][0]["new_id"])' "$OUT")
[[ $NEW3 != "$S3" ]] || fail "tag did not write a new snapshot"
expect_exit 1 "$FERRY" cat snapshot "${S3:0:12}"
"$FERRY" cat snapshot "${NEW3:0:12}" >"$WORK/new3.json" || fail "the retagged snapshot cannot be read"
python3 - "$WORK/new3.json" <<'PY' || fail "the retagged snapshot lost fields or has the wrong tags"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["tags"] == ["extra", "more"], s
assert s["hostname"] == "alpha", s
PY
expect_exit 0 "$FERRY" tag --remove more --remove absent "${NEW3:0:8}"
expect_exit 0 "$FERRY" snapshots --json --tag extra
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert len(s) == 1 and s[0]["tags"] == ["extra"], s' "$OUT" ||
  fail "--remove: $(cat "$OUT")"
expect_exit 0 "$FERRY" tag --set '' --tag extra
[[ $(ids --tag extra) == "" ]] || fail "--set '' did not clear the tags"
expect_exit 0 "$FERRY" tag --dry-run --add x --host beta
grep -q "would retag ${S4:0:8}" "$OUT" || fail "--dry-run: $(cat "$OUT")"
[[ $(ids --host beta) == $(want "$S4") ]] || fail "--dry-run changed a snapshot"
expect_exit 0 "$FERRY" tag --add daily "${S1:0:8}"
grep -q "0 snapshot(s) changed" "$OUT" || fail "a tag that is already there is not a change: $(cat "$OUT")"
expect_exit 2 "$FERRY" tag --set a --add b "${S1:0:8}"
expect_exit 2 "$FERRY" tag --add b
expect_exit 2 "$FERRY" tag "${S1:0:8}"
[[ $("$FERRY" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == 5 ]] ||
  fail "tagging changed the number of snapshots"
expect_exit 0 "$FERRY" restore latest --host alpha --path "$WORK/etc" --target "$WORK/r-etc"
compare_trees "$WORK/etc" "$WORK/r-etc$WORK/etc"
expect_exit 0 "$FERRY" check --read-data

log "on a vault: the machine token is refused before anything is written, maintenance retags"
source "$E2E/vault_lib.sh"
vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/a.json" "$WORK/a-maint.json"
AGENT=(--agent "$WORK/a.json")
expect_exit 0 "$FERRY" "${AGENT[@]}" init
expect_exit 0 "$FERRY" "${AGENT[@]}" backup "$WORK/srv" --tag one
vids() { "$FERRY" --agent "$1" --no-cache snapshots --json | python3 -c 'import json,sys; print(" ".join(s["id"] + ":" + ",".join(s["tags"]) for s in json.load(sys.stdin)))'; }
before=$(vids "$WORK/a.json")
expect_exit 1 "$FERRY" "${AGENT[@]}" tag --add two latest
grep -q "maintenance token" "$ERR" || fail "the refusal does not name the maintenance token: $(cat "$ERR")"
grep -q "nothing was changed" "$ERR" || fail "the refusal does not say that nothing changed: $(cat "$ERR")"
[[ $(vids "$WORK/a.json") == "$before" ]] || fail "a refused tag changed the vault's snapshots"
expect_exit 0 "$FERRY" --agent "$WORK/a-maint.json" tag --add two latest
after=$(vids "$WORK/a.json")
[[ $after == *":one,two" && $after != *" "* && $after != "$before" ]] || fail "maintenance tag: $before -> $after"
expect_exit 0 "$FERRY" "${AGENT[@]}" restore latest --tag two --target "$WORK/vr"
compare_trees "$WORK/srv" "$WORK/vr$WORK/srv"
# The machine's own open still passes its history check (the old snapshot was removed on purpose).
expect_exit 0 "$FERRY" "${AGENT[@]}" snapshots
exit 0
