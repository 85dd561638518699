#!/usr/bin/env bash
# A hostile or broken vault (docs/security.md): it cannot forge objects, but it can drop the
# newest snapshot (roll back), hide an index, or serve another repository under the same
# agent file; and a local repository directory can be swapped for another repository. Each
# used to pass unnoticed (snapshots, check and backup exited 0). Now the machine remembers the
# repository's ID (pin, exit 13) and the snapshots and indexes it wrote (exit 14), and
# `ferry trust accept-repository` / `accept-missing` accept deliberate changes.
#   hostile_vault.sh PATH-TO-FERRY
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$E2E/vault_lib.sh"

# names ID...: the last command's stdout or stderr names every ID
names() {
  local id
  for id in "$@"; do
    output_mentions "$id" || fail "the output does not name $id: $(cat "$ERR" "$OUT" | head -c 1500)"
  done
}

repo_id_of() { # repo_id_of AGENT-OR-REPO-ARGS...: the ID `trust show --json` reports pinned
  "$FERRY" "$@" trust show --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["pinned_id"])'
}

vault_start_server
vault_setup prod
vault_register prod fs01 "$WORK/a.json"
vault_register prod fs02 "$WORK/b.json"
note_token_file "$WORK/a.json"
note_token_file "$WORK/b.json"
REPO_A=$VDATA/repositories/prod/fs01
REPO_B=$VDATA/repositories/prod/fs02
A=(--agent "$WORK/a.json")
B=(--agent "$WORK/b.json")

SRC=$WORK/src
make_tree "$SRC" --seed 11 --only-bulk --bulk-big 1 --bulk-big-mib 1 --bulk-small 20 2>/dev/null

# Both machines use the same password: the case where a swapped repository opens at all.
expect_exit 0 "$FERRY" "${A[@]}" init
expect_exit 0 "$FERRY" "${B[@]}" init
expect_exit 0 "$FERRY" "${A[@]}" backup --json "$SRC"
SNAP1=$(json_field "$OUT" snapshot_id)
echo "second backup" >"$SRC/new.txt"
expect_exit 0 "$FERRY" "${A[@]}" backup --json "$SRC"
SNAP2=$(json_field "$OUT" snapshot_id)
expect_exit 0 "$FERRY" "${B[@]}" backup "$SRC"
ID_A=$(repo_id_of "${A[@]}")
ID_B=$(repo_id_of "${B[@]}")
[[ ${#ID_A} == 64 && ${#ID_B} == 64 && $ID_A != "$ID_B" ]] || fail "no pins: '$ID_A' '$ID_B'"

log "the agent file and the config directory pin the repository; trust show lists what was written"
[[ $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("repository_id"))' "$WORK/a.json") == "$ID_A" ]] ||
  fail "a.json does not pin $ID_A: $(cat "$WORK/a.json" | grep -v token)"
[[ $(stat -c %a "$WORK/a.json") == 600 ]] || fail "pinning changed the agent file's mode"
expect_exit 0 "$FERRY" "${A[@]}" trust show
names "$ID_A" "$SNAP1" "$SNAP2"
[[ -d $XDG_CONFIG_HOME/ferry/trust ]] || fail "no trust state below \$XDG_CONFIG_HOME"
for f in "$WORK/a.json" "$WORK/b.json"; do
  ! grep -rqF -- "$(token_of "$f")" "$XDG_CONFIG_HOME/ferry/trust" || fail "the trust state holds a token"
done
! grep -rqF -- "$(head -n 1 "$FERRY_PASSWORD_FILE")" "$XDG_CONFIG_HOME/ferry/trust" ||
  fail "the trust state holds the password"

# ---------------------------------------------------------------------------------------
log "rollback: the vault drops the newest snapshot"
mv "$REPO_A/snapshots/$SNAP2" "$WORK/snap2.hidden"
for cmd in "snapshots" "check" "restore latest --target $WORK/r1" "backup $SRC"; do
  # shellcheck disable=SC2086
  expect_exit 14 "$FERRY" "${A[@]}" $cmd
  names "$SNAP2" "trust accept-missing"
done
[[ ! -e $WORK/r1 ]] || [[ -z $(ls -A "$WORK/r1") ]] || fail "restore from a rolled-back vault wrote files"
[[ $(find "$REPO_A/snapshots" -type f | wc -l) == 1 ]] || fail "a backup ran on the rolled-back vault"
log "the snapshot comes back: everything works again"
mv "$WORK/snap2.hidden" "$REPO_A/snapshots/$SNAP2"
expect_exit 0 "$FERRY" "${A[@]}" snapshots
names "${SNAP2:0:8}"

log "omission: the vault hides an index"
INDEX=$(find "$REPO_A/index" -type f | sort | head -n 1)
INDEX_ID=$(basename "$INDEX")
mv "$INDEX" "$WORK/index.hidden"
expect_exit 14 "$FERRY" "${A[@]}" check
names "$INDEX_ID"
expect_exit 14 "$FERRY" "${A[@]}" backup "$SRC"
names "$INDEX_ID"
mv "$WORK/index.hidden" "$INDEX"
expect_exit 0 "$FERRY" "${A[@]}" check

log "accept-missing: a deliberate removal is accepted by ID, and only that"
mv "$REPO_A/snapshots/$SNAP2" "$WORK/snap2.gone"
expect_exit 1 "$FERRY" "${A[@]}" trust accept-missing "${SNAP1:0:12}"   # not missing
expect_exit 14 "$FERRY" "${A[@]}" snapshots
expect_exit 0 "$FERRY" "${A[@]}" trust accept-missing "${SNAP2:0:12}"
names "$SNAP2"
expect_exit 0 "$FERRY" "${A[@]}" snapshots
names "${SNAP1:0:8}"
expect_exit 0 "$FERRY" "${A[@]}" check
expect_exit 0 "$FERRY" "${A[@]}" trust show
output_mentions "$SNAP2" && fail "trust show still expects the accepted snapshot $SNAP2"
log "and without IDs, every missing object (here an index)"
mv "$INDEX" "$WORK/index.gone"
expect_exit 14 "$FERRY" "${A[@]}" snapshots
expect_exit 0 "$FERRY" "${A[@]}" trust accept-missing --json
[[ $(json_field "$OUT" accepted) == 1 ]] || fail "accept-missing accepted $(json_field "$OUT" accepted) objects, not 1"
expect_exit 0 "$FERRY" "${A[@]}" snapshots
mv "$WORK/index.gone" "$INDEX"   # (back: restore needs its blobs below)
mv "$WORK/snap2.gone" "$REPO_A/snapshots/$SNAP2"
log "new backups are guarded as before"
expect_exit 0 "$FERRY" "${A[@]}" backup --json "$SRC"
SNAP3=$(json_field "$OUT" snapshot_id)
mv "$REPO_A/snapshots/$SNAP3" "$WORK/snap3.hidden"
expect_exit 14 "$FERRY" "${A[@]}" snapshots
names "$SNAP3"
mv "$WORK/snap3.hidden" "$REPO_A/snapshots/$SNAP3"

# ---------------------------------------------------------------------------------------
log "the vault serves fs02's repository under fs01's agent file"
vault_kill_server TERM
mv "$REPO_A" "$WORK/repo_a.real"
cp -a "$REPO_B" "$REPO_A"
vault_start_server
for cmd in "snapshots" "check" "backup $SRC" "restore latest --target $WORK/r2" "trust accept-missing"; do
  # shellcheck disable=SC2086
  expect_exit 13 "$FERRY" "${A[@]}" $cmd
  names "$ID_A" "$ID_B" "trust accept-repository"
done
[[ ! -e $WORK/r2 ]] || [[ -z $(ls -A "$WORK/r2") ]] || fail "restore from the swapped repository wrote files"
[[ $(find "$REPO_A/snapshots" -type f | wc -l) == 1 ]] || fail "a backup ran on the swapped repository"
log "either pin alone refuses it: the config directory's without the agent file's, and back"
python3 - "$WORK/a.json" "$WORK/a-unpinned.json" <<'PY'
import json, os, sys
j = json.load(open(sys.argv[1]))
j.pop("repository_id")
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, json.dumps(j).encode())
PY
expect_exit 13 "$FERRY" --agent "$WORK/a-unpinned.json" snapshots
names "$ID_A" "$ID_B"
expect_exit 13 env XDG_CONFIG_HOME="$WORK/fresh-config" "$FERRY" "${A[@]}" snapshots
names "$ID_A" "$ID_B" "agent file"

log "accept-repository: refused for another ID than the one served, then accepted"
expect_exit 1 "$FERRY" "${A[@]}" trust accept-repository "${ID_A:0:8}"
expect_exit 0 "$FERRY" "${A[@]}" trust accept-repository "${ID_B:0:8}"
names "$ID_B"
expect_exit 0 "$FERRY" "${A[@]}" snapshots
[[ $(repo_id_of "${A[@]}") == "$ID_B" ]] || fail "the config directory does not pin $ID_B after accepting it"
grep -q "$ID_B" "$WORK/a.json" || fail "the agent file does not pin $ID_B after accepting it"
log "the real repository back: refused again, accepted again, its history intact"
vault_kill_server TERM
rm -rf "$REPO_A"
mv "$WORK/repo_a.real" "$REPO_A"
vault_start_server
expect_exit 13 "$FERRY" "${A[@]}" snapshots
expect_exit 0 "$FERRY" "${A[@]}" trust accept-repository
expect_exit 0 "$FERRY" "${A[@]}" snapshots
names "${SNAP3:0:8}"
mv "$REPO_A/snapshots/$SNAP3" "$WORK/snap3.hidden"
expect_exit 14 "$FERRY" "${A[@]}" snapshots
mv "$WORK/snap3.hidden" "$REPO_A/snapshots/$SNAP3"
expect_exit 0 "$FERRY" "${A[@]}" restore latest --target "$WORK/r3"
compare_trees "$SRC" "$WORK/r3$SRC" --with-root >/dev/null
log "a vault that now claims there is no repository: exit 10, saying this machine knew one"
vault_kill_server TERM
mv "$REPO_A/config" "$WORK/config.hidden"
vault_start_server
expect_exit 10 "$FERRY" "${A[@]}" snapshots
names "${ID_A:0:8}"
vault_kill_server TERM
mv "$WORK/config.hidden" "$REPO_A/config"
assert_no_tokens_in_log

# ---------------------------------------------------------------------------------------
log "a local repository directory swapped for another repository"
P=$WORK/repo
expect_exit 0 "$FERRY" --repo "$P" init
expect_exit 0 "$FERRY" --repo "$P" backup "$SRC"
ID_P=$(repo_id_of --repo "$P")
expect_exit 0 "$FERRY" --repo "$WORK/other" init
ID_Q=$(repo_id_of --repo "$WORK/other")
mv "$P" "$WORK/p.real"
cp -a "$WORK/other" "$P"
expect_exit 13 "$FERRY" --repo "$P" snapshots
names "$ID_P" "$ID_Q" "trust accept-repository"
log "the same directory through a symbolic link is the same location"
ln -s "$P" "$WORK/p-link"
expect_exit 13 "$FERRY" --repo "$WORK/p-link" snapshots
names "$ID_P" "$ID_Q"
log "a deliberate re-init replaces the pin and says so"
rm -rf "$P"
expect_exit 0 "$FERRY" --repo "$P" init
output_mentions "no longer expects repository ${ID_P:0:8}" || fail "re-init did not say it replaced the pin"
expect_exit 0 "$FERRY" --repo "$P" snapshots
log "the original back: refused until accepted"
rm -rf "$P"
mv "$WORK/p.real" "$P"
expect_exit 13 "$FERRY" --repo "$P" check
expect_exit 0 "$FERRY" --repo "$P" trust accept-repository "${ID_P:0:8}"
expect_exit 0 "$FERRY" --repo "$P" check
log "an older copy of the repository (a rollback of a local path) is noticed too"
cp -a "$P" "$WORK/p.old"
expect_exit 0 "$FERRY" --repo "$P" backup --json "$SRC"
SNAP_P=$(json_field "$OUT" snapshot_id)
rm -rf "$P"
cp -a "$WORK/p.old" "$P"
expect_exit 14 "$FERRY" --repo "$P" snapshots
names "$SNAP_P"
log "--state-dir / FERRY_STATE_DIR override the config directory"
expect_exit 0 "$FERRY" --repo "$P" --state-dir "$WORK/state2" snapshots
[[ -n $(find "$WORK/state2/trust/locations" -type f) ]] || fail "--state-dir was not used"
expect_exit 0 env FERRY_STATE_DIR="$WORK/state2" "$FERRY" --repo "$P" snapshots

# ---------------------------------------------------------------------------------------
log "this machine's own deliberate removals (ferry repair) never trip the guard"
R=(--repo "$WORK/repaired")
expect_exit 0 "$FERRY" "${R[@]}" init
expect_exit 0 "$FERRY" "${R[@]}" backup --json "$SRC"
SNAP_R1=$(json_field "$OUT" snapshot_id)
expect_exit 0 "$FERRY" "${R[@]}" backup --json "$SRC"
SNAP_R2=$(json_field "$OUT" snapshot_id)
python3 "$E2E/repo_tool.py" flip "$WORK/repaired/snapshots/$SNAP_R1" >/dev/null
expect_exit 0 "$FERRY" "${R[@]}" repair index
expect_exit 0 "$FERRY" "${R[@]}" repair snapshots --forget
[[ ! -e $WORK/repaired/snapshots/$SNAP_R1 ]] || fail "repair snapshots left the damaged snapshot"
expect_exit 0 "$FERRY" "${R[@]}" check
expect_exit 0 "$FERRY" "${R[@]}" trust show
output_mentions "$SNAP_R1" && fail "trust show still expects the snapshot repair removed"
names "$SNAP_R2"
