#!/usr/bin/env bash
# A repository on S3 (s3rver): init, backup of every file kind plus a 20 MiB file, restore
# compared field by field, check --read-data, an incremental backup, snapshots; an unknown
# access key fails within seconds, naming the credential and never showing the secret; an AWS
# credentials file works; a missing bucket is named, not created. Then a vault whose storage is
# on S3 (`ferry serve --storage s3://…`) takes a backup of the same tree.
#   s3_repository.sh PATH-TO-FERRY   (FERRY_S3RVER_ENV: the env file s3rver.sh wrote)
# A direct backup stores each pack with one PUT (packs are ~16 MiB). Multipart uploads are
# what streamed writes (OpenWriter) use: the vault writes every object it receives that way,
# so its packs over 8 MiB are multipart uploads.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

ENV_FILE=${FERRY_S3RVER_ENV:-}
[[ -n $ENV_FILE && -f $ENV_FILE ]] ||
  fail "no s3rver: '$ENV_FILE' is missing. Run this through ctest (the s3rver fixture starts it)" \
    "or start one: tests/servers/s3rver.sh start DIR and set FERRY_S3RVER_ENV=DIR/env"
source "$ENV_FILE"
S3RVER_DATA=$(dirname "$ENV_FILE")/data

export FERRY_S3_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID
export FERRY_S3_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN FERRY_S3_CREDENTIALS_FILE
# A prefix of its own per run: the bucket is shared with the other tests of the fixture.
PREFIX=e2e-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
export FERRY_REPOSITORY="s3://$S3_BUCKET/$PREFIX/repo?endpoint=$S3_ENDPOINT&region=$S3_REGION"

SRC=$WORK/src
make_tree "$SRC" --seed 29 >/dev/null
head -c $((20 << 20)) /dev/urandom >"$SRC/files/big_20m.bin"
: >"$SRC/names/empty with spaces"

log "init on $FERRY_REPOSITORY"
expect_exit 0 "$FERRY" init
[[ ! -e repo && ! -e $WORK/repo ]] || fail "init wrote a local directory instead of using S3"
expect_exit nonzero "$FERRY" init
output_mentions "already" || fail "a second init did not say the repository exists: $(cat "$ERR")"

log "backup"
data_before=$(du -sb "$S3RVER_DATA" | cut -f1)
expect_exit 0 "$FERRY" backup --json "$SRC"
cp "$OUT" "$WORK/backup1.json"
SNAP=$(json_field "$WORK/backup1.json" snapshot_id)
[[ $SNAP =~ ^[0-9a-f]{64}$ ]] || fail "summary snapshot_id '$SNAP' is not 64 hex digits"
[[ $(json_field "$WORK/backup1.json" warnings) == 0 ]] || { cat "$ERR" >&2; fail "backup reported warnings"; }
[[ $(json_field "$WORK/backup1.json" files_new) -gt 0 ]] || fail "first backup has no new files"
grown=$(($(du -sb "$S3RVER_DATA" | cut -f1) - data_before))
((grown > 20 << 20)) || fail "s3rver's data grew by only $grown bytes: the backup did not go there"
log "backup summary: $(tail -n 1 "$WORK/backup1.json")"

log "check --read-data"
expect_exit 0 "$FERRY" check --read-data

log "restore, compared with every metadata field"
T=$WORK/restore
expect_exit 0 "$FERRY" restore latest --target "$T"
compare_trees "$SRC" "$T$SRC" --no-sparse
compare_trees "$SRC" "$T$SRC" --with-root --no-sparse
cmp "$SRC/files/big_20m.bin" "$T$SRC/files/big_20m.bin" || fail "the 20 MiB file differs"

log "second backup: incremental"
printf 'changed\n' >>"$SRC/files/small.txt"
head -c $((2 << 20)) /dev/urandom >"$SRC/files/new_2m.bin"
expect_exit 0 "$FERRY" backup --json "$SRC"
cp "$OUT" "$WORK/backup2.json"
[[ $(json_field "$WORK/backup2.json" files_unmodified) -gt 0 ]] || fail "second backup read everything again"
[[ $(json_field "$WORK/backup2.json" files_new) -eq 1 ]] || fail "second backup: files_new is not 1"
added=$(json_field "$WORK/backup2.json" data_added)
((added < 8 << 20)) || fail "the incremental backup added $added bytes for 2 MiB of new data"
SNAP2=$(json_field "$WORK/backup2.json" snapshot_id)

log "snapshots"
expect_exit 0 "$FERRY" snapshots --json
python3 - "$OUT" "$SNAP" "$SNAP2" <<'PY' || fail "snapshots --json is wrong: $(head -c 2000 "$OUT")"
import json, sys
out, first, second = sys.argv[1:]
snapshots = json.load(open(out))
assert [s["id"] for s in snapshots] == [first, second], [s["id"] for s in snapshots]
assert snapshots[1]["parent"] == first, snapshots[1]["parent"]
PY
T2=$WORK/restore2
expect_exit 0 "$FERRY" restore latest --target "$T2"
compare_trees "$SRC" "$T2$SRC" --with-root --no-sparse
expect_exit 0 "$FERRY" check --read-data

log "an unknown access key: a quick, clear refusal that never shows the secret"
WRONG_SECRET=$(head -c 30 /dev/urandom | base64 -w0)
export FERRY_S3_ACCESS_KEY_ID=NOTAKEY$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
export FERRY_S3_SECRET_ACCESS_KEY=$WRONG_SECRET
start=$SECONDS
expect_exit nonzero "$FERRY" snapshots
((SECONDS - start <= 10)) || fail "a wrong key took $((SECONDS - start)) s to fail (retried?)"
grep -q "FERRY_S3_ACCESS_KEY_ID" "$ERR" || fail "the refusal does not name the credential: $(cat "$ERR")"
! grep -qF "$WRONG_SECRET" "$OUT" "$ERR" || fail "the secret is in ferry's output"
log "refusal: $(head -c 400 "$ERR")"

log "the right key from an AWS credentials file works"
unset FERRY_S3_ACCESS_KEY_ID FERRY_S3_SECRET_ACCESS_KEY
printf '[backup]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
  "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" >"$WORK/s3.ini"
export FERRY_S3_CREDENTIALS_FILE=$WORK/s3.ini FERRY_S3_PROFILE=backup
expect_exit 0 "$FERRY" snapshots --json
[[ $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT") == 2 ]] ||
  fail "snapshots through the credentials file does not list both snapshots"

log "a bucket that does not exist is named, not created"
export FERRY_REPOSITORY="s3://no-such-bucket-$PREFIX/repo?endpoint=$S3_ENDPOINT"
expect_exit nonzero "$FERRY" init
grep -q "no-such-bucket-$PREFIX" "$ERR" || fail "init does not name the missing bucket: $(cat "$ERR")"
[[ ! -e $S3RVER_DATA/no-such-bucket-$PREFIX ]] || fail "init created the bucket"

log "a vault whose storage is on S3: uploads stream in, packs over 8 MiB as multipart uploads"
# The vault writes each object it receives through a streamed writer (OpenWriter), which
# an S3 backend turns into a multipart upload once the object outgrows one 8 MiB part.
# The credentials file above is still in the environment the server inherits.
source "$E2E/vault_lib.sh"
VAULT_SERVE_ARGS=(--storage "s3://$S3_BUCKET/$PREFIX/vault?endpoint=$S3_ENDPOINT&region=$S3_REGION")
vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/agent.json"
expect_exit 0 "$FERRY" --agent "$WORK/agent.json" init
expect_exit 0 "$FERRY" --agent "$WORK/agent.json" backup "$SRC"
T3=$WORK/restore3
expect_exit 0 "$FERRY" --agent "$WORK/agent.json" restore latest --target "$T3"
compare_trees "$SRC" "$T3$SRC" --with-root --no-sparse
expect_exit 0 "$FERRY" --agent "$WORK/agent.json" check --read-data
VAULT_OBJECTS=$S3RVER_DATA/$S3_BUCKET/$PREFIX/vault/repositories/prod/fs01
[[ -d $VAULT_OBJECTS/data ]] || fail "the vault's repository is not in s3rver below $PREFIX/vault"
large=$(find "$VAULT_OBJECTS/data" -name '*._S3rver_object' -size +8M | wc -l)
((large > 0)) || fail "no pack over 8 MiB went into the vault's S3 storage: multipart was not used"
log "$large pack(s) over 8 MiB stored through multipart uploads"
