#!/usr/bin/env bash
# The vault over HTTPS: ferry serve --tls-cert/--tls-key with a private CA;
# the admin commands and the agent verify the server against --ca-file; a
# client without the CA refuses the connection.
set -euo pipefail
FERRY=${1:?usage: vault_tls.sh FERRY_BINARY}
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-e2e-tls.XXXXXX")
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "[vault_tls] FAIL: $*" >&2; exit 1; }

cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$FERRY" serve --data "$work/data" --listen "127.0.0.1:$port" --tls-cert cert.pem --tls-key key.pem \
  >serve.log 2>&1 &
server_pid=$!
for _ in $(seq 50); do
  curl -s --cacert cert.pem "https://127.0.0.1:$port/vault/v1/version" >/dev/null && break
  sleep 0.1
done
export FERRY_SERVER=https://127.0.0.1:$port FERRY_ADMIN_TOKEN_FILE=$work/data/admin.token
export FERRY_PASSWORD=tls-test-password

# Without the CA the server's certificate is not trusted.
if "$FERRY" vault create prod 2>err.txt; then fail "vault create succeeded without the CA"; fi
grep -qi "certificate" err.txt || fail "error does not mention the certificate: $(cat err.txt)"

export FERRY_CA_FILE=$work/cert.pem
"$FERRY" vault create prod
"$FERRY" machine register --vault prod --name m1 --out agent.json
grep -q '"ca_file"' agent.json || fail "credentials do not record the CA file"
mkdir src && head -c 3000000 /dev/urandom >src/random.bin && seq 1 100000 >src/numbers.txt
"$FERRY" --agent agent.json init -q
"$FERRY" --agent agent.json backup -q "$work/src"
"$FERRY" --agent agent.json restore -q latest --target "$work/restore"
cmp src/random.bin "restore$work/src/random.bin" || fail "restored file differs"
cmp src/numbers.txt "restore$work/src/numbers.txt" || fail "restored file differs"
"$FERRY" --agent agent.json check -q --read-data
echo "[vault_tls] OK"
