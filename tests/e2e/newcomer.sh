#!/usr/bin/env bash
# What cost a newcomer the most in their first hour (issue 17), each now loud and exact:
#   1. ingest into a directory that is not the vault's storage root is refused, naming both
#      places; without --storage-root it goes where the vault adopts from; an adoption that
#      finds none of the seed's packs in the container warns (and the vault's log names it);
#   4. FERRY_REPOSITORY and --agent together name the environment; a mistyped option is named
#      with the closest one (exit 2), before any "required" complaint;
#   5. every subcommand's --help lists the global options and calls the program ferry;
#   7. a refused admin or operator token says which token; a server that is not there is
#      named by its address;
#   8. foreign files on a disk are named; vault show and job show print local times (JSON
#      keeps RFC 3339), job show gives a shipped job's deadlines; counts are singular at 1.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

export FERRY_SIGNING_KEY=$WORK/signing-key.json
RFC3339='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z'
LOCAL='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'
mentions() {  # PATTERN DESCRIPTION: the last command's output matches (fixed string)
  grep -Fq -- "$1" "$OUT" "$ERR" || { _show_output; fail "$2: no '$1'"; }
}

log "5. help: global options in every subcommand, the program is ferry"
ln -s "$FERRY" "$WORK/some-build-path-ferry"
for verb in snapshots backup "job show" "datacenter ingest" "vault show" restore; do
  # shellcheck disable=SC2086
  expect_exit 0 "$WORK/some-build-path-ferry" $verb --help
  mentions "Usage: ferry $verb" "$verb --help usage line"
  grep -q 'some-build-path' "$OUT" && fail "$verb --help names the binary's path"
  for option in "Global options" --repo --json --password-file --agent --quiet; do
    mentions "$option" "$verb --help"
  done
done

log "4. a mistyped option is named, with the closest one"
expect_exit 2 "$FERRY" restore latest --taget "$WORK/r"
mentions "unknown option --taget for 'ferry restore' (did you mean --target?)" "typo"
grep -q 'is required' "$ERR" && fail "a typo is reported as a missing option"
expect_exit 2 "$FERRY" snapshots --jsno
mentions "(did you mean --json?)" "typo of a global option"
expect_exit 2 "$FERRY" check --frobnicate
mentions "unknown option --frobnicate" "an option like no other"
grep -q 'did you mean' "$ERR" && fail "a suggestion for an option like no other"

log "7. a server that is not running is named"
DEAD_PORT=$(free_port)
printf 'not-a-token\n' >"$WORK/bad.token"
expect_exit 1 "$FERRY" vault show prod --server "http://127.0.0.1:$DEAD_PORT" \
  --admin-token-file "$WORK/bad.token"
mentions "nothing answers at http://127.0.0.1:$DEAD_PORT (check that \`ferry serve\` runs there)" \
  "server not running"

vault_start_server
vault_setup prod
vault_register prod m1 "$WORK/m1.json"
A1=$WORK/m1.json

log "7. refused tokens say which"
expect_exit 1 "$FERRY" vault show prod --admin-token-file "$WORK/bad.token"
mentions "the admin token in $WORK/bad.token (--admin-token-file or FERRY_ADMIN_TOKEN_FILE) was refused" \
  "wrong admin token"
mentions "$VURL" "wrong admin token names the server"
grep -q 'agent credentials' "$ERR" && fail "a wrong admin token blames the agent credentials"

log "4. FERRY_REPOSITORY and --agent"
expect_exit 1 env FERRY_REPOSITORY="$WORK/repo" "$FERRY" --agent "$A1" snapshots
mentions "the repository $WORK/repo comes from the environment (FERRY_REPOSITORY)" "env conflict"
mentions "unset FERRY_REPOSITORY" "env conflict says what to do"
expect_exit 0 "$FERRY" --agent "$A1" init

log "1. ingest refuses a storage root that is not the vault's"
SRC=$WORK/src
mkdir -p "$SRC"
for i in 1 2; do head -c 3000000 /dev/urandom >"$SRC/f$i.bin"; done
expect_exit 0 "$FERRY" --agent "$A1" backup "$SRC" --offline --staging "$WORK/staging" \
  --job seed-nov --storage-account acct1 --container seeding

log "8. foreign files on a disk are named"
mkdir -p "$WORK/d1/photos"
echo theirs >"$WORK/d1/photos/cat.jpg"
expect_exit 1 "$FERRY" --agent "$A1" diskprep --staging "$WORK/staging" --disk "$WORK/d1"
mentions "holds 1 file (7 B) that is not ferry's: photos/cat.jpg" "foreign file named"
expect_exit 0 "$FERRY" --agent "$A1" diskprep --staging "$WORK/staging" --disk "$WORK/d1" --yes
mentions "1 disk," "singular disk count"
expect_exit 0 "$FERRY" --agent "$A1" job ship seed-nov --carrier DHL --tracking T-17 \
  --return-address "1 Test Street"

log "8. job show: local times and the shipped job's deadlines"
expect_exit 0 "$FERRY" --agent "$A1" job show seed-nov
grep -Eq "created $LOCAL" "$OUT" || { _show_output; fail "job show: creation time not local"; }
grep -Eq "$RFC3339" "$OUT" && { _show_output; fail "job show prints raw RFC 3339 times"; }
grep -Eq "deadline: drive FD-[0-9a-f]+ should arrive by $LOCAL, or it becomes NeverReceived" "$OUT" ||
  { _show_output; fail "job show: no arrival deadline for the shipped job"; }
expect_exit 0 "$FERRY" --agent "$A1" --json job show seed-nov
grep -Eq "\"created\":\"$RFC3339\"" "$OUT" || fail "job show --json lost its RFC 3339 times"

expect_exit 0 "$FERRY" datacenter operator-token --out "$WORK/operator.token"
log "7. a refused operator token says which"
expect_exit 1 "$FERRY" datacenter ingest seed-nov --disk "$WORK/d1" --operator-token-file "$WORK/bad.token"
mentions "the operator token in $WORK/bad.token was refused" "wrong operator token"

log "1. a directory that is not the vault's storage root is refused, naming both"
mkdir -p "$WORK/srv-storage"
expect_exit 1 "$FERRY" datacenter ingest seed-nov --disk "$WORK/d1" \
  --operator-token-file "$WORK/operator.token" --storage-root "$WORK/srv-storage"
mentions "--storage-root $WORK/srv-storage is not the vault's storage root" "wrong root refused"
mentions "the vault adopts job seed-nov's packs from $VDATA/storage/acct1/seeding" "the vault's place"
[[ -z $(find "$WORK/srv-storage" -mindepth 1) ]] || fail "the refused ingest wrote into the wrong root"
# Without --storage-root, from another working directory: where the import service says.
expect_exit 0 bash -c "cd / && $(printf %q "$FERRY") datacenter ingest seed-nov --disk $(printf %q "$WORK/d1") \
  --operator-token-file $(printf %q "$WORK/operator.token")"
mentions "copied into $VDATA/storage/acct1/seeding" "ingest into the vault's container"

log "1. an adoption that finds none of the seed's packs warns"
# The container loses every pack (as if ingested elsewhere) before the vault adopts.
find "$VDATA/storage/acct1/seeding" -type f -path '*/data/*' -delete
expect_exit 0 "$FERRY" --agent "$A1" backup "$SRC"
mentions "warning: seed seed-nov: none of its" "adoption of nothing is loud"
mentions "was in acct1/seeding, the container the vault adopts from" "names where the vault looked"
mentions "packs were not in the container" "plural count"
grep -q "none of its packs is in $VDATA/storage/acct1/seeding" "$VLOG" ||
  fail "the vault's log does not name where it looked: $(tail -n 5 "$VLOG")"
mentions "the vault now holds every pack" "repaired from staging"

log "8. vault show: local times"
expect_exit 0 "$FERRY" vault show prod
grep -Eq "m1 +[0-9]+ $LOCAL" "$OUT" || { _show_output; fail "vault show: last backup not in local time"; }
grep -Eq "$RFC3339" "$OUT" && { _show_output; fail "vault show prints raw RFC 3339 times"; }
expect_exit 0 "$FERRY" --json vault show prod
grep -Eq "$RFC3339" "$OUT" || fail "vault show --json lost its RFC 3339 times"
exit 0
