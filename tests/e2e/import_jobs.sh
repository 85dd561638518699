#!/usr/bin/env bash
# Import jobs at the import service (/import/v1 on ferry serve): create, ship,
# tracking numbers unique across jobs (after normalising case and spaces),
# machines see only their own jobs and may reuse each other's job names without
# taking or learning of them, malformed bodies are 400 naming the field (never
# 500, never a server path), illegal transitions refused with 409, the
# datacenter moves jobs and drives.
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
key() { python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'; }
KEY1=$(key) KEY2=$(key)
job_state() { "$FERRY" --json job show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
post() {  # TOKEN PATH JSON → HTTP status
  curl -s -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data "$3" "$url$2"
}

# m1 creates a job; it shows the datacenter's address until shipped.
"$FERRY" --agent "$work/m1.json" job create seed-nov --storage-account acct1 --container seeding \
  --public-key "$KEY1" --drive d1 --drive d2 >"$work/out"
grep -q "Dock 7, Test City" "$work/out" || fail "job show does not give the shipping address"
[[ $(job_state seed-nov) == Creating ]] || fail "new job is not Creating"
expect_fail "already exists" "$FERRY" --agent "$work/m1.json" job create seed-nov \
  --storage-account acct1 --container seeding --public-key "$KEY1"

# Shipping; the same tracking number cannot be used by another job.
"$FERRY" --agent "$work/m1.json" job ship seed-nov --carrier DHL --tracking 1234567890 \
  --return-address "1 Main St" -q
[[ $(job_state seed-nov) == Shipping ]] || fail "shipped job is not Shipping"
"$FERRY" --agent "$work/m2.json" job create seed-m2 --storage-account acct1 --container c2 \
  --public-key "$KEY2" --drive x1 -q
expect_fail "already belongs to another import job" "$FERRY" --agent "$work/m2.json" job ship seed-m2 \
  --carrier DHL --tracking 1234567890
grep -q "seed-nov" "$work/err" && fail "the tracking-number conflict names m1's job: $(cat "$work/err")"
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

token_of() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$1"; }
m1=$(token_of "$work/m1.json") m2=$(token_of "$work/m2.json")
no_server_paths() {  # DESCRIPTION: the last answer shows no path of the vault
  grep -qF -- "$work/vault-data" "$work/body" && fail "$1: the answer shows a server path: $(cat "$work/body")"
  return 0
}

# Tracking numbers are unique once case and spaces are normalised, and the
# refusal does not say whose job has the number.
"$FERRY" --agent "$work/m1.json" job create seed-dec --storage-account acct1 --container c3 \
  --public-key "$KEY1" --drive d9 -q
"$FERRY" --agent "$work/m1.json" job ship seed-dec --carrier UPS --tracking 1Z999AA1 -q
"$FERRY" --agent "$work/m2.json" job create seed-m2b --storage-account acct1 --container c4 \
  --public-key "$KEY2" -q
code=$(post "$m2" /import/v1/jobs/seed-m2b/ship '{"carrier": "UPS", "tracking_number": "1z 999 aa1"}')
[[ $code == 409 ]] || fail "tracking '1z 999 aa1' after '1Z999AA1' answered $code: $(cat "$work/body")"
grep -q "seed-dec" "$work/body" && fail "the 409 names m1's job: $(cat "$work/body")"
"$FERRY" --agent "$work/m2.json" --json job show seed-m2b | grep -q '"Creating"' ||
  fail "the refused shipment changed m2's job"

# Malformed bodies: 400 naming the field, never 500, never a server path.
bad_body() {  # TOKEN PATH FIELD BODY
  local code
  code=$(post "$1" "$2" "$4")
  [[ $code == 400 ]] || fail "POST $2 with '$4' answered $code (want 400): $(cat "$work/body")"
  grep -qF -- "$3" "$work/body" || fail "POST $2 with '$4': the error does not name '$3': $(cat "$work/body")"
  no_server_paths "POST $2 with '$4'"
}
JOB_OK='"name": "bad1", "storage_account": "acct1", "container": "c5"'
bad_body "$m1" /import/v1/jobs drives "{$JOB_OK, \"public_key\": \"$KEY1\", \"drives\": \"x\"}"
bad_body "$m1" /import/v1/jobs 'drives[0]' "{$JOB_OK, \"public_key\": \"$KEY1\", \"drives\": [7]}"
bad_body "$m1" /import/v1/jobs 'drives[0].drive_id' "{$JOB_OK, \"public_key\": \"$KEY1\", \"drives\": [{\"drive_id\": \"../../x\"}]}"
bad_body "$m1" /import/v1/jobs 'drives[0].drive_id' "{$JOB_OK, \"public_key\": \"$KEY1\", \"drives\": [{\"drive_id\": 5}]}"
bad_body "$m1" /import/v1/jobs 'drives[0].bytes' "{$JOB_OK, \"public_key\": \"$KEY1\", \"drives\": [{\"drive_id\": \"d1\", \"bytes\": \"many\"}]}"
bad_body "$m1" /import/v1/jobs 'drives[1].drive_id' "{$JOB_OK, \"public_key\": \"$KEY1\", \"drives\": [{\"drive_id\": \"d1\"}, {\"drive_id\": \"d1\"}]}"
bad_body "$m1" /import/v1/jobs public_key "{$JOB_OK, \"public_key\": \"AAAA\"}"
bad_body "$m1" /import/v1/jobs public_key "{$JOB_OK, \"public_key\": 42}"
bad_body "$m1" /import/v1/jobs public_key "{$JOB_OK}"
bad_body "$m1" /import/v1/jobs name "{\"name\": 5, \"storage_account\": \"acct1\", \"container\": \"c5\"}"
bad_body "$m1" /import/v1/jobs storage_account '{"name": "bad1", "storage_account": ["a"], "container": "c5"}'
bad_body "$m1" /import/v1/jobs container '{"name": "bad1", "storage_account": "acct1", "container": "../../etc"}'
bad_body "$m1" /import/v1/jobs drives 'not json'
bad_body "$m1" /import/v1/jobs drives '[1, 2]'
bad_body "$m1" /import/v1/jobs/seed-dec/ship tracking_number '{"carrier": "UPS", "tracking_number": 12}'
bad_body "$m1" /import/v1/jobs/seed-dec/ship carrier '{"carrier": null, "tracking_number": "1"}'
bad_body "$operator" /import/v1/jobs/seed-nov/state state '{"state": 5}'
bad_body "$operator" /import/v1/jobs/seed-nov/drives/d2 missing '{"missing": "x"}'
bad_body "$operator" /import/v1/jobs/seed-nov/drives/d2 percent_complete '{"percent_complete": "all"}'
bad_body "$operator" /import/v1/jobs/seed-nov/drives/d2 'unexpected[0]' '{"unexpected": [{}]}'
grep -E '/import/v1/.* 500$' "$VLOG" && fail "the import service answered 500 (lines above)"
[[ $(job_state seed-nov) == Transferring || $(job_state seed-nov) == Received ]] ||
  fail "malformed bodies changed m1's job"

# Job names are scoped per machine: m2 may call a job seed-nov too, without
# taking m1's or learning that it exists; each machine sees only its own.
code=$(post "$m2" /import/v1/jobs "{\"name\": \"seed-nov\", \"storage_account\": \"acct2\", \"container\": \"m2c\", \"public_key\": \"$KEY2\", \"drives\": [{\"drive_id\": \"m2d\"}]}")
[[ $code == 201 ]] || fail "m2 could not name a job seed-nov (m1 has one): $code $(cat "$work/body")"
grep -q '"machine":"m2"' "$work/body" || fail "m2's seed-nov is not m2's: $(cat "$work/body")"
grep -qE 'acct1|seeding|"d1"' "$work/body" && fail "m2's answer shows m1's job: $(cat "$work/body")"
code=$(post "$m2" /import/v1/jobs "{\"name\": \"seed-nov\", \"storage_account\": \"acct2\", \"container\": \"m2c\", \"public_key\": \"$KEY2\"}")
[[ $code == 409 ]] || fail "m2 created its own seed-nov twice: $code"
"$FERRY" --agent "$work/m1.json" --json job show seed-nov >"$work/out"
grep -q '"seeding"' "$work/out" && grep -q '"d1"' "$work/out" || fail "m1's seed-nov changed: $(cat "$work/out")"
"$FERRY" --agent "$work/m2.json" --json job show seed-nov >"$work/out"
grep -q '"m2d"' "$work/out" || fail "m2 does not see its own seed-nov: $(cat "$work/out")"
grep -qE '"seeding"|"d1"' "$work/out" && fail "m2 sees m1's seed-nov: $(cat "$work/out")"
# A machine cannot reach the other's job by its qualified name either.
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $m2" "$url/import/v1/jobs/prod:m1:seed-nov")
[[ $code == 404 ]] || fail "m2 reached prod:m1:seed-nov: $code $(cat "$work/body")"
[[ $(post "$m2" /import/v1/jobs/prod:m1:seed-nov/cancel '{}') == 404 ]] || fail "m2 cancelled m1's job"
# The datacenter names the job VAULT:MACHINE:NAME when a bare name is ambiguous.
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $operator" "$url/import/v1/jobs/seed-nov")
[[ $code == 409 ]] || fail "an ambiguous job name was not 409 for the operator: $code"
grep -q "prod:m1:seed-nov" "$work/body" && grep -q "prod:m2:seed-nov" "$work/body" ||
  fail "the operator's 409 does not list both jobs: $(cat "$work/body")"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $operator" "$url/import/v1/jobs/prod:m2:seed-nov")
[[ $code == 200 ]] && grep -q '"m2d"' "$work/body" || fail "the operator cannot open prod:m2:seed-nov: $code"
# The operator (not a machine) is told where the vault adopts from: the container, the
# directory storage root and its ID, which ingest checks (docs/seeding.md).
python3 - "$work/body" "$work/vault-data/storage" <<'PY' || fail "the operator is not told where the container is: $(cat "$work/body")"
import json, re, sys
job, root = json.load(open(sys.argv[1])), sys.argv[2]
assert job["container_location"] == root + "/acct2/m2c", job
assert job["storage_root"] == root, job
assert re.fullmatch(r"[0-9a-f]{32}", job["storage_root_id"]), job
PY
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $m2" "$url/import/v1/jobs/seed-nov")
[[ $code == 200 ]] || fail "m2 cannot open its own job: $code"
no_server_paths "GET seed-nov as its machine"

# Tokens never reach the log.
for token in "$admin" "$operator"; do
  [[ -s $VLOG ]] || fail "the server log $VLOG is empty"
  grep -q "$token" "$VLOG" && fail "a token appears in the server log"
done
echo "[import_jobs] OK"
