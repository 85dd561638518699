#!/usr/bin/env bash
# The vault's operations endpoints (issue 12): GET /metrics needs the metrics token (or the
# admin token), never a machine's; after two backups its text passes Prometheus's own parser
# (`promtool check metrics`) and says what happened: the machine's recovery points and last
# backup time, the snapshots stored, requests by route pattern (not by path) and status,
# bytes received, import jobs by state. GET /healthz answers without a token; a known path
# with the wrong method is 405 with Allow, an unknown one 404.
#   vault_metrics.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

command -v promtool >/dev/null || fail "promtool is missing (Debian package prometheus; scripts/install-deps.sh)"

SRC=$WORK/src
make_tree "$SRC" --seed 12 2>/dev/null
vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/a.json"
note_token_file "$WORK/a.json"
MACHINE=(--agent "$WORK/a.json")
MTOKEN=$(token_of "$WORK/a.json")
ATOKEN=$(admin_token)
[[ -f $VDATA/metrics.token ]] || fail "ferry serve wrote no $VDATA/metrics.token"
[[ $(stat -c %a "$VDATA/metrics.token") == 600 ]] || fail "metrics.token is not mode 600"
METRICS_TOKEN=$(head -n 1 "$VDATA/metrics.token" | tr -d '\r\n')

log "health and routing answers"
expect_http 200 "health without a token" GET /healthz
grep -q '"status":"ok"' "$HTTP_BODY" || soft_fail "/healthz body: $(cat "$HTTP_BODY")"
expect_http 405 "DELETE on the vault list" DELETE /vault/v1/vaults \
  -H "Authorization: Bearer $ATOKEN"
expect_error_code method_not_allowed "DELETE on the vault list"
grep -qi '^Allow: GET, POST' "$HTTP_HEADERS" || soft_fail "405 without Allow: $(cat "$HTTP_HEADERS")"
expect_http 404 "an unknown path" GET /vault/v1/nothing-here -H "Authorization: Bearer $ATOKEN"
expect_error_code not_found "an unknown path"

log "who may scrape"
expect_http 401 "metrics without a token" GET /metrics
expect_http 401 "metrics with a machine token" GET /metrics -H "Authorization: Bearer $MTOKEN"
expect_http 200 "metrics with the admin token" GET /metrics -H "Authorization: Bearer $ATOKEN"
# The metrics token opens nothing else.
expect_http 401 "the metrics token on the vault list" GET /vault/v1/vaults \
  -H "Authorization: Bearer $METRICS_TOKEN"

log "two backups, one import job"
expect_exit 0 "$FERRY" "${MACHINE[@]}" init
expect_exit 0 "$FERRY" "${MACHINE[@]}" backup "$SRC"
echo changed >"$SRC/changed.txt"
expect_exit 0 "$FERRY" "${MACHINE[@]}" backup "$SRC"
http POST /import/v1/jobs -H "Authorization: Bearer $MTOKEN" -H "Content-Type: application/json" \
  -d '{"name": "job1", "storage_account": "acct", "container": "box1", "public_key": "'"$(head -c 32 /dev/urandom | base64)"'", "drives": [{"drive_id": "d1"}]}'
[[ $HTTP_CODE == 201 ]] || fail "creating an import job answered $HTTP_CODE: $(cat "$HTTP_BODY")"

scrape() {
  curl -s --fail --max-time 30 -H "Authorization: Bearer $METRICS_TOKEN" "$VURL/metrics" >"$1" ||
    fail "scraping /metrics failed"
}
scrape "$WORK/metrics.txt"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 ||
  fail "promtool check metrics refused the exposition: $(cat "$WORK/promtool.out")"

# The value of one series (exact name and labels as Prometheus prints them), or "absent".
series() {
  python3 - "$WORK/metrics.txt" "$1" <<'PY'
import sys
want = sys.argv[2]
for line in open(sys.argv[1]):
    if line.startswith("#"):
        continue
    name, _, value = line.rstrip("\n").rpartition(" ")
    if name == want:
        print(value)
        break
else:
    print("absent")
PY
}
expect_series() {
  local got
  got=$(series "$1")
  [[ $got == "$2" ]] || soft_fail "$1 is $got, expected $2"
}
expect_series 'ferry_machine_recovery_points{machine="fs01",vault="prod"}' 2
expect_series 'ferry_vault_objects_stored_total{kind="snapshots",vault="prod"}' 2
expect_series 'ferry_vaults' 1
expect_series 'ferry_machines{vault="prod"}' 1
expect_series 'ferry_import_jobs{state="Creating"}' 1
expect_series 'ferry_import_jobs{state="Completed"}' 0
expect_series 'ferry_http_requests_total{method="POST",route="/vault/v1/vaults",status="201"}' 1
expect_series 'ferry_http_requests_total{method="DELETE",route="unrouted",status="405"}' 1
expect_series 'ferry_http_requests_total{method="GET",route="/metrics",status="401"}' 2

last=$(series 'ferry_machine_last_backup_timestamp_seconds{machine="fs01",vault="prod"}')
python3 - "$last" <<'PY' || soft_fail "the last backup time $last is not within the last 10 minutes"
import sys, time
value = float(sys.argv[1])
sys.exit(0 if time.time() - 600 < value <= time.time() + 5 else 1)
PY

# Uploads are counted by their route pattern, never by object name, and their bytes add up.
grep -q 'route="/vault/v1/repository/{kind}/{name}",status="201"' "$WORK/metrics.txt" ||
  soft_fail "no PUT counted under the object route pattern"
grep -Eq 'route="/vault/v1/repository/(data|snapshots)/[0-9a-f]' "$WORK/metrics.txt" &&
  soft_fail "a route label names an object (one series per object)"
received=$(series 'ferry_http_received_bytes_total{route="/vault/v1/repository/{kind}/{name}"}')
stored=$(find "$VDATA/repositories/prod/fs01" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
python3 - "$received" "$stored" <<'PY' || soft_fail "bytes received $received, but the repository holds $stored"
import sys
received, stored = float(sys.argv[1]), int(sys.argv[2])
sys.exit(0 if received >= stored else 1)  # every stored byte came in (and the removed locks)
PY
uploads=$(series 'ferry_http_requests_total{method="PUT",route="/vault/v1/repository/{kind}/{name}",status="201"}')
timed=$(series 'ferry_http_request_duration_seconds_bucket{method="PUT",route="/vault/v1/repository/{kind}/{name}",le="+Inf"}')
[[ $uploads != absent && $timed != absent && $timed -ge $uploads && $uploads -gt 0 ]] ||
  soft_fail "the latency histogram of uploads counts $timed, but $uploads uploads were stored"

assert_no_tokens_in_log
grep -qF -- "${METRICS_TOKEN:0:16}" "$VLOG" "$WORK/server.out" && soft_fail "the server log holds the metrics token"
exit 0
