#!/usr/bin/env bash
# Two `ferry serve` processes on one PostgreSQL database and one storage location serve the
# same vaults: a token issued through one works on the other; one machine backs up through
# each server in turn and restores each backup through the other, byte for byte; two
# machines back up at the same time, one through each server; and two jobs shipped at the
# same time with one tracking number, one through each server, get it once.
#   vault_postgres_two_servers.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"
source "$E2E/postgres_lib.sh"

postgres_start
STORE=$WORK/store
# Server A through vault_lib.sh; server B by hand, beside it.
VAULT_SERVE_ARGS=(--database "$PG_URL" --storage "$STORE")
vault_start_server
URL_A=$VURL
DATA_B=$WORK/vault-data-b
PORT_B=$(free_port)
URL_B=http://127.0.0.1:$PORT_B
env --default-signal=INT,QUIT "$FERRY" serve --data "$DATA_B" --listen "127.0.0.1:$PORT_B" \
  --database "$PG_URL" --storage "$STORE" >>"$WORK/server-b.out" 2>>"$VLOG" </dev/null &
PID_B=$!
vault_track_pid "$PID_B"
for ((i = 0; i < 3000; i++)); do # a bound for a broken server, not a timing goal
  curl -s --max-time 2 "$URL_B/vault/v1/version" >/dev/null 2>&1 && break
  kill -0 "$PID_B" 2>/dev/null || fail "server B exited at start: $(tail -n 20 "$VLOG")"
  sleep 0.1
done

log "the admin token of A creates the vault through A; B registers machines with it too"
vault_setup prod
expect_exit 0 "$FERRY" machine register --vault prod --name m1 --out "$WORK/m1-a.json"
FERRY_SERVER=$URL_B expect_exit 0 "$FERRY" machine register --vault prod --name m2 \
  --out "$WORK/m2-b.json"
FERRY_SERVER=$URL_B FERRY_ADMIN_TOKEN_FILE=$DATA_B/admin.token expect_exit 0 \
  "$FERRY" machine register --vault prod --name m3 --out "$WORK/m3-b.json"
FERRY_SERVER=$URL_B expect_exit nonzero "$FERRY" machine register --vault prod --name m1 \
  --out "$WORK/m1-again.json"
output_mentions "already registered" || fail "B registered m1 a second time: $(cat "$ERR")"
note_token_file "$WORK/m1-a.json"
note_token_file "$WORK/m2-b.json"

# The same machine's credentials pointed at the other server.
with_server() { # IN OUT URL
  python3 - "$@" <<'PY'
import json, sys
agent = json.load(open(sys.argv[1]))
agent["server"] = sys.argv[3]
with open(sys.argv[2], "w") as f:
    json.dump(agent, f)
PY
  chmod 600 "$2"
}
with_server "$WORK/m1-a.json" "$WORK/m1-b.json" "$URL_B"
with_server "$WORK/m2-b.json" "$WORK/m2-a.json" "$URL_A"

log "m1: a backup through A, another through B; each restored through the other"
SRC1=$WORK/src1 SRC1B=$WORK/src1b
make_tree "$SRC1" --seed 41
make_tree "$SRC1B" --seed 42
expect_exit 0 "$FERRY" --agent "$WORK/m1-a.json" init
expect_exit 0 "$FERRY" --agent "$WORK/m1-a.json" backup "$SRC1"
expect_exit 0 "$FERRY" --agent "$WORK/m1-b.json" backup "$SRC1B"
expect_exit 0 "$FERRY" --agent "$WORK/m1-a.json" --json snapshots
snapshot_of() { # PATH: the ID of the snapshot of PATH in $OUT
  python3 - "$OUT" "$1" <<'PY'
import json, sys
print(*[s["id"] for s in json.load(open(sys.argv[1])) if s["paths"] == [sys.argv[2]]])
PY
}
count=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$OUT")
[[ $count == 2 ]] || fail "A lists $count snapshots of m1, expected the 2 made through A and B"
through_a=$(snapshot_of "$SRC1")
through_b=$(snapshot_of "$SRC1B")
[[ -n $through_a && -n $through_b ]] || fail "snapshots of $SRC1 and $SRC1B not listed: $(cat "$OUT")"
expect_exit 0 "$FERRY" --agent "$WORK/m1-b.json" restore "$through_a" --target "$WORK/r1"
compare_trees "$SRC1" "$WORK/r1$SRC1" --no-sparse
expect_exit 0 "$FERRY" --agent "$WORK/m1-a.json" restore "$through_b" --target "$WORK/r1b"
compare_trees "$SRC1B" "$WORK/r1b$SRC1B" --no-sparse
[[ $(pg_query "SELECT count(*) FROM recovery_points rp JOIN machines m ON m.id = rp.machine_id WHERE m.name = 'm1'") == 2 ]] ||
  fail "PostgreSQL does not hold both of m1's recovery points"

log "m2 through B and m3 through A back up at the same time"
SRC2=$WORK/src2 SRC3=$WORK/src3
make_tree "$SRC2" --seed 43
make_tree "$SRC3" --seed 44
with_server "$WORK/m3-b.json" "$WORK/m3-a.json" "$URL_A"
expect_exit 0 "$FERRY" --agent "$WORK/m2-b.json" init
expect_exit 0 "$FERRY" --agent "$WORK/m3-a.json" init
"$FERRY" --agent "$WORK/m2-b.json" backup "$SRC2" >"$WORK/m2.out" 2>"$WORK/m2.err" </dev/null &
P2=$!
"$FERRY" --agent "$WORK/m3-a.json" backup "$SRC3" >"$WORK/m3.out" 2>"$WORK/m3.err" </dev/null &
P3=$!
rc2=0 rc3=0
wait $P2 || rc2=$?
wait $P3 || rc3=$?
[[ $rc2 == 0 ]] || fail "m2's backup through B failed ($rc2): $(cat "$WORK/m2.err")"
[[ $rc3 == 0 ]] || fail "m3's backup through A failed ($rc3): $(cat "$WORK/m3.err")"
expect_exit 0 "$FERRY" --agent "$WORK/m2-a.json" restore latest --target "$WORK/r2"
compare_trees "$SRC2" "$WORK/r2$SRC2" --no-sparse
expect_exit 0 "$FERRY" --agent "$WORK/m3-b.json" restore latest --target "$WORK/r3"
compare_trees "$SRC3" "$WORK/r3$SRC3" --no-sparse

log "one tracking number shipped for two jobs at once, one through each server: one gets it"
key() { python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'; }
expect_exit 0 "$FERRY" --agent "$WORK/m1-a.json" job create seed-a --storage-account acct1 \
  --container c1 --public-key "$(key)" --drive d1
expect_exit 0 "$FERRY" --agent "$WORK/m2-b.json" job create seed-b --storage-account acct1 \
  --container c2 --public-key "$(key)" --drive d1
"$FERRY" --agent "$WORK/m1-a.json" job ship seed-a --carrier DHL --tracking "JD 0146 0000" \
  >"$WORK/ship-a.out" 2>"$WORK/ship-a.err" </dev/null &
PA=$!
"$FERRY" --agent "$WORK/m2-b.json" job ship seed-b --carrier DHL --tracking "jd01460000" \
  >"$WORK/ship-b.out" 2>"$WORK/ship-b.err" </dev/null &
PB=$!
ra=0 rb=0
wait $PA || ra=$?
wait $PB || rb=$?
if [[ $ra == 0 && $rb == 0 ]] || [[ $ra != 0 && $rb != 0 ]]; then
  fail "expected exactly one shipment to succeed, got statuses $ra (A) and $rb (B): $(cat "$WORK/ship-a.err" "$WORK/ship-b.err")"
fi
loser_err=$WORK/ship-a.err
[[ $ra == 0 ]] && loser_err=$WORK/ship-b.err
grep -q "already belongs to another import job" "$loser_err" ||
  fail "the losing shipment does not say why: $(cat "$loser_err")"
[[ $(pg_query "SELECT count(*) FROM import_jobs WHERE tracking_number = 'JD01460000'") == 1 ]] ||
  fail "the tracking number is stored for other than one job"

kill -0 "$PID_B" 2>/dev/null || fail "server B died"
vault_server_alive || fail "server A died"
assert_no_tokens_in_log
exit 0
