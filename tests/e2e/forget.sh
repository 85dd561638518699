#!/usr/bin/env bash
# ferry forget: a policy removes exactly the snapshots it does not keep (the rest restore byte
# for byte, check passes), --dry-run and --json say what and why without removing, IDs can be
# forgotten one by one, and a forget without policy or IDs removes nothing. On a vault, the
# machine token (append-only) is refused with the way to the maintenance token, which works.
#   forget.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

SRC=$WORK/src
make_tree "$SRC" --seed 3 2>/dev/null
expect_exit 0 "$FERRY" init
IDS=()
for i in 1 2 3 4 5; do
  echo "version $i" >"$SRC/version.txt"
  cp -a "$SRC" "$WORK/src-$i"
  expect_exit 0 "$FERRY" backup --json "$SRC" --tag "n$i"
  IDS+=("$(json_field "$OUT" snapshot_id)")
done
count() { "$FERRY" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

log "no policy and no IDs: usage error, nothing removed"
expect_exit 2 "$FERRY" forget
grep -q "nothing is forgotten" "$ERR" || fail "forget without a policy does not say why: $(cat "$ERR")"
[[ $(count) == 5 ]] || fail "forget without a policy removed snapshots"
expect_exit nonzero "$FERRY" forget --keep-within 10x
grep -q "not a duration" "$ERR" || fail "a bad duration is not named: $(cat "$ERR")"

log "--dry-run --json: every snapshot with keep/remove and the rules that decided"
expect_exit 0 "$FERRY" forget --keep-last 2 --keep-tag n1 --dry-run --json
python3 - "$OUT" "${IDS[@]}" <<'PY' || fail "forget --dry-run --json does not decide as expected"
import json, sys
summary = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
assert summary["message_type"] == "summary" and summary["dry_run"] and summary["removed"] == 0, summary
[group] = summary["groups"]
decided = {s["id"]: (s["keep"], s["reasons"]) for s in group["snapshots"]}
ids = sys.argv[2:]
assert decided[ids[4]] == (True, ["last snapshot"]), decided[ids[4]]
assert decided[ids[3]] == (True, ["last snapshot"]), decided[ids[3]]
assert decided[ids[0]] == (True, ["tag n1"]), decided[ids[0]]
assert decided[ids[1]][0] is False and decided[ids[2]][0] is False
PY
[[ $(count) == 5 ]] || fail "--dry-run removed snapshots"

log "the policy removes exactly what it does not keep; the rest restore byte for byte"
expect_exit 0 "$FERRY" forget --keep-last 2 --keep-tag n1
grep -q "remove  ${IDS[1]:0:8}" "$OUT" || fail "forget does not list what it removes: $(cat "$OUT")"
[[ $(count) == 3 ]] || fail "expected 3 snapshots after forget, have $(count)"
for i in 1 4 5; do
  expect_exit 0 "$FERRY" restore "${IDS[$((i - 1))]:0:12}" --target "$WORK/r$i"
  compare_trees "$WORK/src-$i" "$WORK/r$i$SRC"
done
for i in 2 3; do
  expect_exit nonzero "$FERRY" restore "${IDS[$((i - 1))]:0:12}" --target "$WORK/gone$i"
done
expect_exit 0 "$FERRY" check --read-data

log "forget by ID"
expect_exit 0 "$FERRY" forget "${IDS[0]:0:10}"
[[ $(count) == 2 ]] || fail "forget by ID did not remove it"
expect_exit nonzero "$FERRY" forget deadbeefdead
[[ $(count) == 2 ]] || fail "a failed forget by ID removed something"

log "on a vault: the machine token is refused, the maintenance token forgets"
source "$E2E/vault_lib.sh"
vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/a.json" "$WORK/a-maint.json"
unset FERRY_REPOSITORY
AGENT=(--agent "$WORK/a.json")
expect_exit 0 "$FERRY" "${AGENT[@]}" init
expect_exit 0 "$FERRY" "${AGENT[@]}" backup "$SRC"
echo more >"$SRC/more.txt"
expect_exit 0 "$FERRY" "${AGENT[@]}" backup "$SRC"
expect_exit nonzero "$FERRY" "${AGENT[@]}" forget --keep-last 1
grep -q "maintenance token" "$ERR" || fail "the refusal does not name the maintenance token: $(cat "$ERR")"
vcount() { "$FERRY" --agent "$1" --no-cache snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
[[ $(vcount "$WORK/a.json") == 2 ]] || fail "a refused forget removed a snapshot"
expect_exit 0 "$FERRY" --agent "$WORK/a-maint.json" forget --keep-last 1
[[ $(vcount "$WORK/a.json") == 1 ]] || fail "the maintenance token did not forget"
expect_exit 0 "$FERRY" "${AGENT[@]}" restore latest --target "$WORK/vr"
compare_trees "$SRC" "$WORK/vr$SRC"
exit 0
