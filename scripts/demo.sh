#!/usr/bin/env bash
# The main job on embedded defaults: create a repository, back up a sample
# tree, change it, back it up again (incrementally), restore, compare, check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ferry=$PWD/build/src/cli/ferry
work=$PWD/demo
rm -rf "$work"
mkdir -p "$work"
export FERRY_REPOSITORY=$work/repo
echo "demo password (keep it secret)" > "$work/password"
export FERRY_PASSWORD_FILE=$work/password

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Sample data: ferry's own sources plus some generated files"
mkdir -p "$work/data"
cp -a src docs "$work/data/"
head -c 20000000 /dev/urandom > "$work/data/random.bin"
seq 1 2000000 > "$work/data/numbers.txt"
du -sh "$work/data"

step "ferry init"
"$ferry" init

step "ferry backup $work/data --tag demo"
"$ferry" backup "$work/data" --tag demo

step "Change the data a little and back up again: only the changes are stored"
echo "a new line" >> "$work/data/numbers.txt"
cp "$work/data/random.bin" "$work/data/copy-of-random.bin"
"$ferry" backup "$work/data" --tag demo

step "ferry snapshots"
"$ferry" snapshots

step "ferry restore latest --target $work/restore"
"$ferry" restore latest --target "$work/restore"
diff -r "$work/data" "$work/restore$work/data" && echo "restored data is identical to the original"

step "ferry check --read-data"
"$ferry" check --read-data
