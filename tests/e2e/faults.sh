#!/usr/bin/env bash
# Backup, restore and check --read-data through tests/e2e/fault_proxy.py, which injects 503
# answers, dropped connections (after the vault did the work), truncated answers and
# stalls between the agent and the vault. The client's retries must carry every operation
# through: the restore is byte for byte the source, check --read-data passes, and the
# faults really happened (the proxy's log counts each kind).
#   faults.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/direct.json"

log "start the proxy (seeded, deterministic)"
"$E2E/fault_proxy.py" --listen-port-file "$WORK/proxy.port" --upstream "$VPORT" --seed 7 \
  --rate-5xx 0.08 --rate-drop 0.06 --rate-truncate 0.08 --rate-stall 0.03 --stall-seconds 2 \
  --log "$WORK/proxy.log" &
PROXY_PID=$!
vault_track_pid "$PROXY_PID"
for ((i = 0; i < 3000; i++)); do [[ -s $WORK/proxy.port ]] && break; sleep 0.1; done
[[ -s $WORK/proxy.port ]] || fail "the proxy did not start"
PROXY_PORT=$(cat "$WORK/proxy.port")
python3 - "$WORK/direct.json" "$WORK/a.json" "$PROXY_PORT" <<'PY'
import json, sys
agent = json.load(open(sys.argv[1]))
agent["server"] = "http://127.0.0.1:%s" % sys.argv[3]
json.dump(agent, open(sys.argv[2], "w"))
PY
chmod 600 "$WORK/a.json"

SRC=$WORK/src
make_tree "$SRC" --seed 71 --only-bulk --bulk-big 3 --bulk-big-mib 6 --bulk-small 80 --bulk-small-max-kib 32
expect_exit 0 "$FERRY" --agent "$WORK/a.json" init
expect_exit 0 "$FERRY" --agent "$WORK/a.json" backup "$SRC"
python3 -c 'import os, sys; open(sys.argv[1], "ab").write(os.urandom(1 << 20))' "$SRC/added.bin"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" backup "$SRC"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" restore latest --target "$WORK/restore"
compare_trees "$SRC" "$WORK/restore$SRC"
expect_exit 0 "$FERRY" --agent "$WORK/a.json" check --read-data
# and directly, without the proxy: what the faults let through is a sound repository
expect_exit 0 "$FERRY" --agent "$WORK/direct.json" check --read-data

for kind in 5xx drop truncate stall; do
  n=$(grep -c "^$kind " "$WORK/proxy.log" || true)
  log "  $kind: $n"
  [[ $n -gt 0 ]] || soft_fail "the proxy injected no '$kind' fault: the test proves nothing about it"
done
log "  requests: $(wc -l <"$WORK/proxy.log")"
