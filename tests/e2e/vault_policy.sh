#!/usr/bin/env bash
# A vault's backup policy (issue 11): only the admin sets, shows and removes it (a machine
# token gets 403, a malformed policy a 400 naming the field); the machine reads it; applied
# with the machine token it is refused naming the maintenance token, applied with the
# maintenance token it forgets exactly what the policy says and prunes; the prune is reported
# to the vault (only with the maintenance token) and `vault show` lists it; `schedule set
# --apply-vault-policy` adds the policy step after the backup, and running that step applies
# the policy the admin changed since. (prune.sh shows that a machine token cannot prune.)
#   vault_policy.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

SRC=$WORK/src
make_tree "$SRC" --seed 11 2>/dev/null
vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/a.json" "$WORK/a-maint.json"
note_token_file "$WORK/a.json"
note_token_file "$WORK/a-maint.json"
MACHINE=(--agent "$WORK/a.json")
MAINT=(--agent "$WORK/a-maint.json")
MTOKEN=$(token_of "$WORK/a.json")
KTOKEN=$(token_of "$WORK/a-maint.json")
ATOKEN=$(admin_token)
json_body=(-H "Content-Type: application/json")

expect_exit 0 "$FERRY" "${MACHINE[@]}" init
IDS=()
for i in 1 2 3 4 5; do
  # Data only this snapshot holds, so that forgetting it leaves something to prune.
  head -c $((1536 * 1024)) /dev/urandom >"$SRC/unique.bin"
  expect_exit 0 "$FERRY" "${MACHINE[@]}" backup --json "$SRC" --tag "n$i"
  IDS+=("$(json_field "$OUT" snapshot_id)")
done
snapshot_ids() {
  "$FERRY" "${MACHINE[@]}" --no-cache snapshots --json |
    python3 -c 'import json,sys; print(" ".join(sorted(s["id"] for s in json.load(sys.stdin))))'
}
sorted_ids() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
[[ $(snapshot_ids) == "$(sorted_ids "${IDS[@]}")" ]] || fail "expected 5 snapshots to start with"

log "only the admin sets a policy: the machine and maintenance tokens get 403"
for token in "$MTOKEN" "$KTOKEN"; do
  expect_http 403 "a machine's token sets a policy" PUT /vault/v1/vaults/prod/policy \
    -H "Authorization: Bearer $token" "${json_body[@]}" -d '{"keep_last": 1}'
  expect_error_code forbidden "a machine's token sets a policy"
  expect_http 403 "a machine's token removes a policy" DELETE /vault/v1/vaults/prod/policy \
    -H "Authorization: Bearer $token"
  expect_http 403 "a machine's token reads the admin's policy route" GET \
    /vault/v1/vaults/prod/policy -H "Authorization: Bearer $token"
done
expect_exit nonzero env -u FERRY_ADMIN_TOKEN_FILE \
  FERRY_ADMIN_TOKEN="$MTOKEN" "$FERRY" policy set prod --keep-last 1
output_mentions "admin token" || fail "policy set with a machine token does not say why: $(cat "$ERR")"

log "a malformed policy is a 400 naming the field; a policy that keeps nothing is refused"
expect_http 400 "a count that is a string" PUT /vault/v1/vaults/prod/policy \
  -H "Authorization: Bearer $ATOKEN" "${json_body[@]}" -d '{"keep_last": "2"}'
grep -q '"keep_last: expected' "$HTTP_BODY" || soft_fail "the 400 does not name keep_last: $(cat "$HTTP_BODY")"
expect_http 400 "a bad duration" PUT /vault/v1/vaults/prod/policy \
  -H "Authorization: Bearer $ATOKEN" "${json_body[@]}" -d '{"keep_within": "10x"}'
grep -q 'keep_within' "$HTTP_BODY" || soft_fail "the 400 does not name keep_within: $(cat "$HTTP_BODY")"
expect_http 400 "a policy that keeps nothing" PUT /vault/v1/vaults/prod/policy \
  -H "Authorization: Bearer $ATOKEN" "${json_body[@]}" -d '{"prune": true}'
expect_exit 2 "$FERRY" policy set prod
expect_exit nonzero "$FERRY" policy set prod --keep-within 10x
output_mentions "keep-within" || fail "a bad --keep-within is not named: $(cat "$ERR")"
expect_exit nonzero "$FERRY" policy set nosuchvault --keep-last 1
expect_exit 0 "$FERRY" policy show prod
output_mentions "no backup policy" || fail "policy show without a policy: $(cat "$OUT")"

log "no policy yet: forget --vault-policy says so and removes nothing"
expect_exit 0 "$FERRY" "${MAINT[@]}" forget --vault-policy
output_mentions "no backup policy" || fail "forget --vault-policy without a policy: $(cat "$OUT")"
[[ $(snapshot_ids) == "$(sorted_ids "${IDS[@]}")" ]] || fail "forget without a vault policy removed snapshots"
expect_exit 2 "$FERRY" --repo "$WORK/none" forget --vault-policy
expect_exit 2 "$FERRY" "${MAINT[@]}" forget --vault-policy --keep-last 1

log "the admin sets the policy; policy show and the machine read it"
expect_exit 0 "$FERRY" policy set prod --keep-last 2 --keep-tag n1
expect_exit 0 "$FERRY" policy show prod --json
python3 - "$OUT" <<'PY' || fail "policy show --json is not the policy set: $(cat "$OUT")"
import json, sys
answer = json.load(open(sys.argv[1]))
p = answer["policy"]
assert answer["vault"] == "prod", answer
assert p["keep_last"] == 2 and p["keep_tags"] == ["n1"] and p["prune"] is True, p
assert "keep_daily" not in p and p["updated"], p
PY
expect_exit 0 "$FERRY" policy show prod
output_mentions "keep --keep-last 2 --keep-tag n1" || fail "policy show: $(cat "$OUT")"
expect_http 200 "the machine reads its vault's policy" GET /vault/v1/policy \
  -H "Authorization: Bearer $MTOKEN"
python3 -c 'import json,sys; p = json.load(open(sys.argv[1]))["policy"]; assert p["keep_last"] == 2, p' \
  "$HTTP_BODY" || soft_fail "GET /vault/v1/policy: $(cat "$HTTP_BODY")"
expect_http 401 "no token" GET /vault/v1/policy

log "applied with the machine token: refused, naming the maintenance token; nothing removed"
expect_exit nonzero "$FERRY" "${MACHINE[@]}" forget --vault-policy
grep -q "maintenance token" "$ERR" || fail "the refusal does not name the maintenance token: $(cat "$ERR")"
[[ $(snapshot_ids) == "$(sorted_ids "${IDS[@]}")" ]] || fail "a refused forget removed snapshots"

log "a machine token cannot report a prune (it cannot have made one)"
expect_http 403 "a machine token reports a prune" POST /vault/v1/prunes \
  -H "Authorization: Bearer $MTOKEN" "${json_body[@]}" -d '{"bytes_freed": 999999, "packs_removed": 9}'
expect_error_code forbidden "a machine token reports a prune"
grep -q "maintenance token" "$HTTP_BODY" || soft_fail "the 403 does not name the maintenance token"
expect_http 400 "a malformed prune report" POST /vault/v1/prunes \
  -H "Authorization: Bearer $KTOKEN" "${json_body[@]}" -d '{"bytes_freed": -1, "packs_removed": 1}'
expect_exit 0 "$FERRY" vault show prod --json
python3 -c 'import json,sys; m = json.load(open(sys.argv[1]))["machines"][0]; assert m["last_prune"] is None, m' \
  "$OUT" || fail "a refused prune report is listed: $(cat "$OUT")"

log "applied with the maintenance token: forgets exactly what the policy says, then prunes"
REPO_DIR=$VDATA/repositories/prod/fs01
before=$(du -sb "$REPO_DIR/data" | cut -f1)
expect_exit 0 "$FERRY" "${MAINT[@]}" --json forget --vault-policy
cp "$OUT" "$WORK/apply.out"
[[ $(snapshot_ids) == "$(sorted_ids "${IDS[0]}" "${IDS[3]}" "${IDS[4]}")" ]] ||
  fail "the vault policy kept $(snapshot_ids), expected n1 (tag) and the 2 newest"
FREED=$(python3 - "$WORK/apply.out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
policy = [l for l in lines if l.get("message_type") == "vault_policy"]
assert policy and policy[0]["prune"] is True, lines
summaries = [l for l in lines if l.get("message_type") == "summary"]
assert summaries[0]["removed"] == 2, summaries
prune = [s for s in summaries if "bytes_freed" in s]
assert prune and prune[-1]["bytes_freed"] > 0, summaries
print(prune[-1]["bytes_freed"])
PY
) || fail "forget --vault-policy --json: $(cat "$WORK/apply.out")"
after=$(du -sb "$REPO_DIR/data" | cut -f1)
((after < before)) || fail "the repository did not shrink after the prune ($before -> $after)"
expect_exit 0 "$FERRY" "${MACHINE[@]}" --no-cache check --read-data
expect_exit 0 "$FERRY" "${MACHINE[@]}" restore latest --target "$WORK/restored"
compare_trees "$SRC" "$WORK/restored$SRC"

log "vault show lists the machine's last prune and the bytes it freed"
expect_exit 0 "$FERRY" vault show prod --json
python3 - "$OUT" "$FREED" <<'PY' || fail "vault show --json: $(cat "$OUT")"
import json, sys
answer = json.load(open(sys.argv[1]))
[m] = answer["machines"]
p = m["last_prune"]
assert p["bytes_freed"] == int(sys.argv[2]) and p["packs_removed"] >= 1, p
assert p["snapshots_removed"] == 2 and p["time"], p
assert answer["policy"]["keep_last"] == 2, answer
PY
expect_exit 0 "$FERRY" vault show prod
output_mentions "fs01 .* freed" || fail "vault show does not list the prune: $(cat "$OUT")"

log "schedule set --apply-vault-policy: the unit runs the policy step after the backup"
UNITS=$WORK/units
expect_exit nonzero "$FERRY" "${MACHINE[@]}" schedule set --daily 2:30 --paths "$SRC" \
  --unit-dir "$UNITS" --apply-vault-policy
output_mentions "maintenance-agent" || fail "--apply-vault-policy without credentials: $(cat "$ERR")"
expect_exit nonzero "$FERRY" schedule set --daily 2:30 --paths "$SRC" --unit-dir "$UNITS" \
  --repo "$WORK/r" --apply-vault-policy --maintenance-agent "$WORK/a-maint.json"
expect_exit 0 "$FERRY" "${MACHINE[@]}" schedule set --daily 2:30 --paths "$SRC" \
  --unit-dir "$UNITS" --apply-vault-policy --maintenance-agent "$WORK/a-maint.json"
SERVICE=$UNITS/ferry-backup-default.service
[[ $(grep -c '^ExecStart=' "$SERVICE") -eq 2 ]] || fail "expected two ExecStart= lines: $(cat "$SERVICE")"
STEP=$(grep '^ExecStart=' "$SERVICE" | sed -n 2p)
[[ $STEP == "ExecStart=$FERRY --agent=$WORK/a-maint.json --password-file=$FERRY_PASSWORD_FILE forget --vault-policy --json --quiet" ]] ||
  fail "the policy step is not the expected command: $STEP"
grep '^ExecStart=' "$SERVICE" | head -1 | grep -q " backup " || fail "the backup is not the first step"
grep -q "&& .*forget --vault-policy" "$OUT" || fail "the crontab line has no policy step: $(cat "$OUT")"
expect_exit 0 "$FERRY" schedule show --unit-dir "$UNITS" --json
python3 -c 'import json,sys; [s] = json.load(open(sys.argv[1])); assert s["policy_command"][3:5] == ["forget", "--vault-policy"], s' \
  "$OUT" || fail "schedule show --json has no policy step: $(cat "$OUT")"

log "the admin changes the policy; the scheduled steps apply it"
expect_exit 0 "$FERRY" policy set prod --keep-last 1 --no-prune
echo "new" >"$SRC/new.txt"
BACKUP_STEP=$(grep '^ExecStart=' "$SERVICE" | head -1)
read -r -a argv <<<"${BACKUP_STEP#ExecStart=}"   # plain words: the work directory has no spaces
expect_exit 0 "${argv[@]}"
LATEST=$(json_field "$OUT" snapshot_id)
read -r -a argv <<<"${STEP#ExecStart=}"
expect_exit 0 "${argv[@]}"
[[ $(snapshot_ids) == "$LATEST" ]] || fail "the scheduled policy step kept $(snapshot_ids), expected $LATEST"
grep -q '"message_type":"summary"' "$OUT" || fail "the scheduled step printed no summary: $(cat "$OUT")"
if grep -q '"bytes_freed"' "$OUT"; then fail "--no-prune policy pruned: $(cat "$OUT")"; fi

log "policy remove: the admin only; then forget --vault-policy does nothing"
expect_exit 0 "$FERRY" policy remove prod
expect_exit 0 "$FERRY" policy show prod
output_mentions "no backup policy" || fail "policy show after remove: $(cat "$OUT")"
expect_exit nonzero "$FERRY" policy remove prod
output_mentions "no backup policy" || fail "removing a missing policy does not say why: $(cat "$ERR")"
expect_exit 0 "$FERRY" "${MAINT[@]}" forget --vault-policy
[[ $(snapshot_ids) == "$LATEST" ]] || fail "forget without a policy removed snapshots"

assert_no_tokens_in_log
assert_no_crash
exit 0
