#!/usr/bin/env bash
# Hostile shipped disks (docs/security.md, "A hostile datacenter or shipped disk"): disks
# prepared by `ferry diskprep`, then changed as a customer or anyone on the way could, and
# ingested by `ferry datacenter ingest` against a real vault. Nothing on a disk is followed or
# read unless it is a regular file the manifest lists: links (to a datacenter directory, a
# datacenter file posing as a pack, a linked data/), fifos, device nodes, a huge manifest,
# packs of the wrong size and names that forge report lines. Ingest must finish, report each
# precisely with paths relative to the disk, copy nothing that is not the disk's own listed
# pack, and never put a datacenter path into what the customer sees.
#   hostile_disks.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

vault_start_server
vault_setup prod
vault_register prod m1 "$WORK/m1.json"
STORAGE=$VDATA/storage
expect_exit 0 "$FERRY" datacenter operator-token --out "$WORK/operator.token"
export FERRY_OPERATOR_TOKEN_FILE=$WORK/operator.token FERRY_STORAGE_ROOT=$STORAGE
source "$E2E/seed_lib.sh"

# The datacenter's own files, which no disk may reach.
SECRET=$WORK/datacenter-secrets
mkdir -p "$SECRET"
for i in $(seq 1 20); do echo "secret $i" >"$SECRET/secret-file-$i"; done

make_staging "$WORK/staging-seed-h" seed-h 15 200 1200
prepare seed-h 6M "$WORK/d1" "$WORK/d2" "$WORK/d3"
[[ -f $WORK/d3/ferry-manifest.json ]] || fail "diskprep did not use the third disk"
D1=$(drive_id_of "$WORK/d1")
D2=$(drive_id_of "$WORK/d2")
D3=$(drive_id_of "$WORK/d3")
CONTAINER=$STORAGE/acct/box-seed-h
packs_of() { find "$1/data" -type f -name '????????????????????????????????????????????????????????????????' | sort; }
mapfile -t P1 < <(packs_of "$WORK/d1")
[[ ${#P1[@]} -ge 4 ]] || fail "disk d1 holds ${#P1[@]} packs, the test needs 4"

log "disk 1: a directory link to the datacenter, a pack replaced by a link to a datacenter copy, a fifo pack, a grown pack, a fifo, a device, forged names"
ln -s "$SECRET" "$WORK/d1/data/x"
LINKED=$(basename "${P1[0]}")
cp "${P1[0]}" "$SECRET/copy-of-a-pack"
rm "${P1[0]}"
ln -s "$SECRET/copy-of-a-pack" "${P1[0]}"
FIFO_PACK=$(basename "${P1[1]}")
rm "${P1[1]}"
mkfifo "${P1[1]}"
GROWN=$(basename "${P1[2]}")
head -c 1000 /dev/urandom >>"${P1[2]}"
mkfifo "$WORK/d1/pipe"
if [[ $(id -u) -eq 0 ]]; then
  mknod "$WORK/d1/zero" c 1 5
  DEVICE=1
else
  DEVICE=0
fi
touch "$WORK/d1/"$'forged\nCompleted drive\e[31m'

log "disk 2: data/ is a link to a copy of itself elsewhere"
mkdir "$WORK/elsewhere"
mv "$WORK/d2/data" "$WORK/elsewhere/data"
ln -s "$WORK/elsewhere/data" "$WORK/d2/data"

log "disk 3: a 2 GiB (sparse) manifest"
truncate -s 2G "$WORK/d3/ferry-manifest.json"

# Ingest must finish: a followed fifo would block forever, a huge manifest read whole would
# take GiBs. `timeout` turns a hang into a failure instead of ctest's timeout.
expect_exit 3 timeout 300 "$FERRY" --json datacenter ingest seed-h \
  --disk "$WORK/d1" --disk "$WORK/d2" --disk "$WORK/d3"
cp "$OUT" "$WORK/ingest.json"
job_json seed-h >"$WORK/job.json"

log "disk 1 is CompletedMoreInfo: links, fifos and devices reported, never followed or read"
[[ $(drive_field seed-h "$D1" state) == CompletedMoreInfo ]] ||
  fail "d1 is $(drive_field seed-h "$D1" state), not CompletedMoreInfo"
corrupt=$(drive_field seed-h "$D1" corrupt)
for p in "$LINKED" "$FIFO_PACK" "$GROWN"; do
  grep -q "$p" <<<"$corrupt" || soft_fail "d1: pack $p is not reported corrupt ($corrupt)"
  [[ ! -e $CONTAINER/data/${p:0:2}/$p ]] || soft_fail "d1: pack $p was copied into the container"
done
unexpected=$(drive_field seed-h "$D1" unexpected)
grep -qF 'data/x (symbolic link, not followed)' <<<"$unexpected" ||
  soft_fail "d1: the directory link is not reported as such: $unexpected"
grep -qF 'pipe (named pipe, not read)' <<<"$unexpected" || soft_fail "d1: the fifo is not reported: $unexpected"
if [[ $DEVICE -eq 1 ]]; then
  grep -qF 'zero (character device, not read)' <<<"$unexpected" ||
    soft_fail "d1: the device node is not reported: $unexpected"
fi
grep -qF 'forged\\x0aCompleted drive\\x1b[31m' <<<"$unexpected" ||
  soft_fail "d1: the forged name is not shown escaped: $unexpected"
# The intact packs of disk 1 arrived byte for byte.
for f in "${P1[@]:3}"; do
  p=$(basename "$f")
  cmp -s "$f" "$CONTAINER/data/${p:0:2}/$p" || soft_fail "d1: intact pack $p is not in the container"
done

log "disk 2 Failed: its data/ is a link; nothing of it was copied"
[[ $(drive_field seed-h "$D2" state) == Failed ]] || soft_fail "d2 is $(drive_field seed-h "$D2" state), not Failed"
drive_field seed-h "$D2" reason | grep -q "symbolic link" ||
  soft_fail "d2's reason does not name the link: $(drive_field seed-h "$D2" reason)"
while IFS= read -r f; do
  p=$(basename "$f")
  [[ ! -e $CONTAINER/data/${p:0:2}/$p ]] || soft_fail "d2: pack $p was read through the linked data/"
done < <(packs_of "$WORK/elsewhere")

log "disk 3 Failed on its manifest's size, before reading it"
[[ $(drive_field seed-h "$D3" state) == Failed ]] || soft_fail "d3 is $(drive_field seed-h "$D3" state), not Failed"
drive_field seed-h "$D3" reason | grep -qi "manifest" ||
  soft_fail "d3's reason does not name the manifest: $(drive_field seed-h "$D3" reason)"

log "what the customer sees holds no datacenter path or file name"
for f in "$WORK/job.json" "$WORK/ingest.json"; do
  grep -q "secret-file" "$f" && soft_fail "$(basename "$f") lists the datacenter's files"
  grep -qF "$SECRET" "$f" && soft_fail "$(basename "$f") names a datacenter path"
done
# The operator's own output may name where the disk is mounted; the job may not.
grep -qF "$WORK" "$WORK/job.json" && soft_fail "the job names a datacenter path: $(grep -oF "$WORK[^\"]*" "$WORK/job.json" | head -3)"
[[ -z $(find "$CONTAINER" -name 'copy-of-a-pack' -o -name 'secret-file-*') ]] ||
  fail "a datacenter file was copied into the container"
[[ $(cat "$SECRET/secret-file-1") == "secret 1" ]] || fail "ingest changed a datacenter file"
exit 0
