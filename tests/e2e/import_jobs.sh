#!/usr/bin/env bash
# Import jobs at the import service (/import/v1 on ferry serve): create, ship,
# tracking numbers unique across jobs, machines see only their own jobs,
# illegal transitions refused with 409, the datacenter moves jobs and drives.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"
work=$WORK
expect_fail() {  # MESSAGE_PATTERN COMMAND...: must exit non-zero, below 128, saying PATTERN
  local pattern=$1; shift
  local code=0
  "$@" >"$work/out" 2>"$work/err" || code=$?
  ((code != 0 && code < 128)) || fail "expected failure (got $code): $*"
  grep -qi -- "$pattern" "$work/err" || fail "error for '$*' lacks '$pattern': $(cat "$work/err")"
}

VAULT_SERVE_ARGS=(--shipping-address "Dock 7, Test City")
vault_start_server
url=$VURL
export FERRY_SERVER=$url FERRY_ADMIN_TOKEN_FILE=$work/vault-data/admin.token
admin=$(cat "$work/vault-data/admin.token")
"$FERRY" vault create prod -q
"$FERRY" machine register --vault prod --name m1 --out "$work/m1.json" -q
"$FERRY" machine register --vault prod --name m2 --out "$work/m2.json" -q
operator=$(curl -sf -X POST -H "Authorization: Bearer $admin" --data "{}" "$url/import/v1/operators" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
job_state() { "$FERRY" --json job show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
post() {  # TOKEN PATH JSON → HTTP status
  curl -s -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data "$3" "$url$2"
}

# m1 creates a job; it shows the datacenter's address until shipped.
"$FERRY" --agent "$work/m1.json" job create seed-nov --storage-account acct1 --container seeding \
  --public-key AAAA --drive d1 --drive d2 >"$work/out"
grep -q "Dock 7, Test City" "$work/out" || fail "job show does not give the shipping address"
[[ $(job_state seed-nov) == Creating ]] || fail "new job is not Creating"
expect_fail "already exists" "$FERRY" --agent "$work/m1.json" job create seed-nov \
  --storage-account acct1 --container seeding --public-key AAAA

# Shipping; the same tracking number cannot be used by another job.
"$FERRY" --agent "$work/m1.json" job ship seed-nov --carrier DHL --tracking 1234567890 \
  --return-address "1 Main St" -q
[[ $(job_state seed-nov) == Shipping ]] || fail "shipped job is not Shipping"
"$FERRY" --agent "$work/m2.json" job create seed-m2 --storage-account acct1 --container c2 \
  --public-key BBBB --drive x1 -q
expect_fail "already belongs to job seed-nov" "$FERRY" --agent "$work/m2.json" job ship seed-m2 \
  --carrier DHL --tracking 1234567890
[[ $(job_state seed-m2) == Creating ]] || fail "refused shipment changed the job"

# A machine sees only its own jobs; operators cannot ship or cancel.
expect_fail "no import job" "$FERRY" --agent "$work/m2.json" job show seed-nov
"$FERRY" --agent "$work/m2.json" --json job list | grep -q seed-nov && fail "m2 lists m1's job"
[[ $(post "$operator" /import/v1/jobs/seed-nov/cancel '{}') == 403 ]] || fail "operator cancelled a job"

# Illegal transitions: 409, state unchanged.
[[ $(post "$operator" /import/v1/jobs/seed-nov/state '{"state":"Completed"}') == 409 ]] ||
  fail "Shipping → Completed was accepted"
grep -q "Shipping" "$work/body" || fail "409 body does not name the states: $(cat "$work/body")"
[[ $(post "$operator" /import/v1/jobs/seed-nov/drives/d1 '{"state":"Completed"}') == 409 ]] ||
  fail "drive Specified → Completed was accepted"
[[ $(post "$operator" /import/v1/jobs/seed-nov/state '{"state":"Bogus"}') == 400 ]] ||
  fail "unknown state was not a 400"
[[ $(post "${operator:0:60}ffff" /import/v1/jobs/seed-nov/state '{"state":"Received"}') == 401 ]] ||
  fail "a wrong token was not 401"

# The datacenter receives and transfers; cancelling is then too late.
[[ $(post "$operator" /import/v1/jobs/seed-nov/state '{"state":"Received"}') == 200 ]] || fail "Received"
expect_fail "cannot go from Received to Cancelled" "$FERRY" --agent "$work/m1.json" job cancel seed-nov
for state in Received Transferring; do
  [[ $(post "$operator" /import/v1/jobs/seed-nov/drives/d1 "{\"state\":\"$state\"}") == 200 ]] ||
    fail "drive d1 → $state: $(cat "$work/body")"
done
[[ $(post "$operator" /import/v1/jobs/seed-nov/drives/d1 \
  '{"state":"CompletedMoreInfo","reason":"1 corrupt file","corrupt":["data/ab/abcd"],"percent_complete":100}') == 200 ]] ||
  fail "drive d1 → CompletedMoreInfo"
"$FERRY" --agent "$work/m1.json" job show seed-nov >"$work/out"
grep -q "CompletedMoreInfo" "$work/out" || fail "job show lacks the drive state"
grep -q "1 corrupt" "$work/out" || fail "job show lacks the drive's corrupt file count"
grep -q "Received → Transferring" "$work/out" || fail "job show lacks the event log"

# m2's unshipped job can still be cancelled; a cancelled job cannot be shipped.
"$FERRY" --agent "$work/m2.json" job cancel seed-m2 -q
expect_fail "Cancelled" "$FERRY" --agent "$work/m2.json" job ship seed-m2 --carrier UPS --tracking Z9

# Tokens never reach the log.
for token in "$admin" "$operator"; do
  [[ -s $VLOG ]] || fail "the server log $VLOG is empty"
  grep -q "$token" "$VLOG" && fail "a token appears in the server log"
done
echo "[import_jobs] OK"
