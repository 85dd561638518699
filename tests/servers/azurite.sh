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

name=azurite
source "$here/server_lib.sh"

start() {
  if [[ ! -x $binary ]]; then
    echo "$binary is missing: run 'npm ci' in $here (scripts/install-deps.sh does)" >&2
    exit 1
  fi
  stop_server
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
    if await_server "$pid" "$endpoint?comp=list"; then
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
  stop) stop_server ;;
  *) usage ;;
esac
