#!/usr/bin/env bash
# s3rver (an S3 API on loopback) for the tests, as a CTest fixture:
#
#   s3rver.sh start STATE_DIR   picks a free port, starts s3rver with its data in
#                               STATE_DIR/data, waits until it answers, writes
#                               STATE_DIR/env and STATE_DIR/pid, exits 0 leaving it running
#   s3rver.sh stop STATE_DIR    stops it and waits until it is gone
#
# STATE_DIR/env holds shell KEY=VALUE lines the tests read:
#   S3_ENDPOINT=http://127.0.0.1:PORT  S3_REGION  S3_BUCKET (exists from the start)
#   S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY (s3rver's fixed pair, S3RVER/S3RVER)
# s3rver checks the access key ID but no signature (see ../../../shared/REFERENCE.md).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
action=$1
state=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
binary=$here/node_modules/.bin/s3rver

name=s3rver
source "$here/server_lib.sh"

start() {
  if [[ ! -x $binary ]]; then
    echo "$0: $binary is missing: run 'cd $here && npm ci --no-audit --no-fund' (or scripts/install-deps.sh)" >&2
    exit 1
  fi
  stop_server # a server left from an earlier run
  mkdir -p "$state"
  rm -rf "$state/data"
  mkdir -p "$state/data"
  local port
  port=$(free_port)
  # Without the legacy provider, OpenSSL 3 refuses the cipher s3rver encrypts
  # continuation tokens with, and every paged listing fails with a 500.
  NODE_OPTIONS=--openssl-legacy-provider setsid "$binary" -d "$state/data" -a 127.0.0.1 \
    -p "$port" --configure-bucket ferry-test --silent >"$state/log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$state/pid"
  if ! await_server "$pid" "http://127.0.0.1:$port/"; then
    echo "$0: s3rver exited at start; its log:" >&2
    cat "$state/log" >&2
    exit 1
  fi
  cat >"$state/env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$port
S3_REGION=us-east-1
S3_BUCKET=ferry-test
S3_ACCESS_KEY_ID=S3RVER
S3_SECRET_ACCESS_KEY=S3RVER
EOF
  echo "s3rver listening on http://127.0.0.1:$port (pid $pid, data in $state/data)"
}

case $action in
  start) start ;;
  stop) stop_server ;;
  *) usage ;;
esac
