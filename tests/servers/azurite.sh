#!/usr/bin/env bash
# Azurite (the Azure Blob API) on a free loopback port, for the tests.
#
#   azurite.sh start STATE_DIR   starts it with its data in STATE_DIR/data, waits until it
#                                answers, writes STATE_DIR/env (KEY=VALUE lines: the endpoint,
#                                the development account and its published key, a connection
#                                string) and STATE_DIR/pid, and exits leaving it running
#   azurite.sh stop STATE_DIR    stops it and waits until it is gone
#
# AZURITE_DEBUG=1 makes Azurite log every request to STATE_DIR/debug.log, with the string to
# sign it expected (the fastest way to find why a signature is refused).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
binary=$here/node_modules/.bin/azurite-blob
account=devstoreaccount1
# Azurite's well-known development key: published by Microsoft, not a secret.
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

usage() { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
command=$1 state=$2

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Any HTTP answer (Azurite refuses an unsigned request with 403) means it is listening.
answers() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1?comp=list") != 000 ]]; }

stop() {
  [[ -f $state/pid ]] || return 0
  local pid
  pid=$(cat "$state/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS > deadline)); then
        echo "azurite (pid $pid) did not exit within 30 s of SIGTERM: killing it" >&2
        kill -9 "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
  fi
  rm -f "$state/pid" "$state/env"
}

start() {
  if [[ ! -x $binary ]]; then
    echo "$binary is missing: run 'npm ci' in $here (scripts/install-deps.sh does)" >&2
    exit 1
  fi
  stop
  rm -rf "$state/data"
  mkdir -p "$state/data"
  local attempt port pid endpoint debug=()
  [[ -n ${AZURITE_DEBUG:-} ]] && debug=(--debug "$state/debug.log")
  # A port found free can be taken before Azurite binds it: then try another.
  for attempt in 1 2 3; do
    port=$(free_port)
    endpoint=http://127.0.0.1:$port/$account
    setsid "$binary" --location "$state/data" --blobHost 127.0.0.1 --blobPort "$port" \
      --skipApiVersionCheck --loose --disableTelemetry "${debug[@]}" \
      >"$state/log" 2>&1 </dev/null &
    pid=$!
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null && ! answers "$endpoint"; do
      if ((SECONDS > deadline)); then
        kill "$pid" 2>/dev/null || true
        echo "azurite did not answer on $endpoint within 60 s; its log:" >&2
        cat "$state/log" >&2
        exit 1
      fi
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$pid" >"$state/pid"
      cat >"$state/env" <<ENV
AZURITE_ENDPOINT=$endpoint
AZURITE_ACCOUNT=$account
AZURITE_KEY='$key'
AZURITE_CONNECTION_STRING='DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;BlobEndpoint=$endpoint;'
ENV
      echo "azurite listening on $endpoint (pid $pid, state in $state)"
      return 0
    fi
    echo "azurite exited at start (attempt $attempt, port $port):" >&2
    tail -5 "$state/log" >&2
  done
  exit 1
}

case $command in
  start) mkdir -p "$state" && start ;;
  stop) stop ;;
  *) usage ;;
esac
