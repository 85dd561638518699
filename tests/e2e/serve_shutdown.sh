#!/usr/bin/env bash
# `ferry serve` stops cleanly (exit 0) on SIGTERM sent as soon as it says it listens, round
# after round. A stop asked for before httplib's accept loop runs is lost, so cmd_serve asks
# again until Serve returns; that window is too narrow to hit from outside on purpose, so this
# guards the shutdown path as a whole, waiting for a condition (bounded), not a time.
#   serve_shutdown.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

for round in $(seq 1 10); do
  port=$(free_port)
  : >"$WORK/serve.out"
  env --default-signal=INT,QUIT "$FERRY" serve --data "$WORK/data" --listen "127.0.0.1:$port" \
    >"$WORK/serve.out" 2>"$WORK/serve.err" </dev/null &
  pid=$!
  for _ in $(seq 3000); do   # a bound for a broken server, not a timing goal
    grep -q "listening" "$WORK/serve.out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  kill -TERM "$pid"
  stopped=0
  for _ in $(seq 600); do
    if ! kill -0 "$pid" 2>/dev/null; then stopped=1; break; fi
    sleep 0.1
  done
  if [[ $stopped -eq 0 ]]; then
    kill -9 "$pid"
    fail "round $round: ferry serve still ran 60 s after SIGTERM"
  fi
  rc=0
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "round $round: ferry serve exited $rc after SIGTERM: $(cat "$WORK/serve.err")"
done
exit 0
