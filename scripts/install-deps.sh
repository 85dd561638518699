#!/usr/bin/env bash
# Installs the Debian 12 packages ferry needs to build and test.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config python3 attr
  libssl-dev libsodium-dev libzstd-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libcurl4-openssl-dev libcpp-httplib-dev libsqlite3-dev libexpat1-dev curl openssl
  libarchive-dev  # ferry dump writes directories as tar
  libgtest-dev libgmock-dev libbenchmark-dev tzdata
  libpq-dev   # the vault's metadata store on PostgreSQL (ferry serve --database postgresql://…)
  postgresql  # the temporary clusters the store's tests and the e2e tests start (tests/servers/postgres.sh)
  restic  # the reference forget_vs_restic.sh and everyday_*.sh compare with
  zsh fish  # everyday_completion.sh checks that their completion scripts parse
  prometheus-cpp-dev  # the vault's /metrics (service/vault_metrics.h)
  prometheus  # promtool, which checks /metrics in tests/e2e/vault_metrics.sh
)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The storage services the tests run on loopback (Azurite for Azure Blob,
# s3rver for S3) come from npm, pinned by tests/servers/package-lock.json.
# Debian's nodejs only where the machine has no Node.js of its own.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends nodejs npm
fi
servers="$(cd "$(dirname "$0")/.." && pwd)/tests/servers"
if [[ ! -x $servers/node_modules/.bin/azurite-blob || ! -x $servers/node_modules/.bin/s3rver ||
      $servers/package-lock.json -nt $servers/node_modules/.package-lock.json ]]; then
  (cd "$servers" && npm ci --no-audit --no-fund --loglevel=error)
fi
