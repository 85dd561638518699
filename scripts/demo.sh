#!/usr/bin/env bash
# The main job on embedded defaults: the offline-seeding workflow end to end.
# A vault on loopback, a machine whose first backup goes to a staging
# directory, two directories standing in for shipping disks, the datacenter's
# ingest into a storage container, adoption by the vault at the next backup,
# incremental backups over the network, restore, compare, check and cleanup.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
root=$PWD
ferry=$root/build/src/cli/ferry
work=$PWD/demo
rm -rf "$work"
mkdir -p "$work"
cd "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ ferry %s\033[0m\n' "$*"; "$ferry" "$@"; }
server_pid=
trap '[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT

step "Sample data: ferry's own sources plus some generated files"
mkdir -p data
cp -a "$root/src" "$root/docs" data/
head -c 40000000 /dev/urandom >data/random.bin
seq 1 3000000 >data/numbers.txt
du -sh data

step "The vault service on loopback (its storage account root is vault/storage)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$ferry" serve --data "$work/vault" --listen "127.0.0.1:$port" \
  --shipping-address "ferry datacenter, Dock 1, 1 Harbour Road" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/vault/v1/version" >/dev/null && break; sleep 0.1; done
export FERRY_SERVER=http://127.0.0.1:$port FERRY_ADMIN_TOKEN_FILE=$work/vault/admin.token
echo "demo password (keep it secret)" >password
export FERRY_PASSWORD_FILE=$work/password FERRY_SIGNING_KEY=$work/signing-key.json
# The agent keeps a cache of the vault's metadata (trees, indexes): here, in the demo directory.
export FERRY_CACHE_DIR=$work/cache
run vault create prod
run machine register --vault prod --name fileserver --out agent.json
export FERRY_AGENT=$work/agent.json
run init

step "1. Offline backup: data packs to the staging directory, only metadata to the vault"
run backup "$work/data" --offline --staging "$work/staging" --job seed-demo \
  --storage-account acct1 --container seeding
run snapshots

step "2. diskprep: copy the staged packs to two disks, verify them, sign, create the import job"
mkdir -p disk1 disk2
run diskprep --staging "$work/staging" --disk "$work/disk1" --disk "$work/disk2" --max-per-disk 32M

step "3. Ship the disks"
run job ship seed-demo --carrier DHL --tracking 1234567890 --return-address "1 Demo Street, Example City"
run job show seed-demo

step "4. While the disks travel: the next backup sends only the new data"
head -c 5000000 /dev/urandom >data/new-while-travelling.bin
run backup "$work/data"

step "5. At the datacenter: an operator ingests the disks into the storage container"
run datacenter operator-token --out "$work/operator.token"
run datacenter ingest seed-demo --disk "$work/disk1" --disk "$work/disk2" \
  --operator-token-file "$work/operator.token" --storage-root "$work/vault/storage"
run job show seed-demo

step "6. The next scheduled backup: the vault adopts the seed, then backs up incrementally"
echo "one more line" >>data/numbers.txt
run backup "$work/data"
run seed status seed-demo

step "7. Restore from the vault alone and compare"
mv staging staging.aside
run restore latest --target "$work/restore"
diff -r "$work/data" "$work/restore$work/data" && echo "restored data is identical to the original"
mv staging.aside staging
run check --read-data

step "8. Cleanup: the staging data and the container copy go, the vault keeps everything"
run seed cleanup seed-demo
run check
