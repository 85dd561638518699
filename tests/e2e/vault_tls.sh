#!/usr/bin/env bash
# The vault over HTTPS: ferry serve --tls-cert/--tls-key with a private CA;
# the admin commands and the agent verify the server against --ca-file; a
# client without the CA refuses the connection.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"
work=$WORK

cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
VAULT_SCHEME=https
VAULT_SERVE_ARGS=(--tls-cert "$work/cert.pem" --tls-key "$work/key.pem")
VAULT_CURL_ARGS=(--cacert "$work/cert.pem")
vault_start_server
export FERRY_SERVER=$VURL FERRY_ADMIN_TOKEN_FILE=$VDATA/admin.token
unset FERRY_PASSWORD_FILE
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
