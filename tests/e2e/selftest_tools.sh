#!/usr/bin/env bash
# Self-test of make_tree.py and compare_tree.py (no ferry needed):
# a `cp -a` copy must compare equal, and each single perturbation must be reported.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-selftest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

python3 "$HERE/make_tree.py" src --seed 3
cp -a --sparse=always src base
python3 "$HERE/compare_tree.py" --with-root src base >/dev/null ||
  { python3 "$HERE/compare_tree.py" --with-root src base; echo "FAIL: cp -a copy differs"; exit 1; }
# a second tree from the same seed has the same content and metadata (inodes aside)
python3 "$HERE/make_tree.py" again --seed 3 >/dev/null
python3 "$HERE/compare_tree.py" --with-root src again >/dev/null ||
  { python3 "$HERE/compare_tree.py" --with-root src again; echo "FAIL: make_tree is not deterministic"; exit 1; }

failures=0
# perturb NAME PATTERN SHELL-SNIPPET: applies the snippet inside a fresh copy "t" and expects
# compare_tree src t to fail with a line matching PATTERN (grep -E).
perturb() {
  local name=$1 pattern=$2 snippet=$3 rc=0
  rm -rf t && cp -a --sparse=always base t
  (cd t && eval "$snippet")
  python3 "$HERE/compare_tree.py" src t >out 2>&1 || rc=$?
  if [[ $rc -ne 1 ]]; then
    echo "FAIL [$name]: compare_tree exit $rc, expected 1"; cat out; failures=$((failures + 1))
  elif ! grep -Eq -- "$pattern" out; then
    echo "FAIL [$name]: no line matching /$pattern/"; cat out; failures=$((failures + 1))
  else
    echo "ok   [$name]: $(grep -E -- "$pattern" out | head -1)"
  fi
}

perturb "symlink mtime" "'links/relative': mtime differs" 'touch -h -d "2001-01-01 00:00:00.5" links/relative'
perturb "one byte" "'files/random_3m.bin': content differs at byte offset 1500000" \
  'printf "\x00" | dd of=files/random_3m.bin bs=1 seek=1500000 conv=notrunc status=none; printf "\x01" | dd of=files/random_3m.bin bs=1 seek=1500000 conv=notrunc status=none; touch -r ../src/files/random_3m.bin files/random_3m.bin'
perturb "last byte" "'files/4k.bin': content differs at byte offset 4095" \
  'printf "Z" | dd of=files/4k.bin bs=1 seek=4095 conv=notrunc status=none; touch -r ../src/files/4k.bin files/4k.bin'
perturb "chmod" "'perms/file_0600': mode differs: 0600 vs 0640" 'chmod 0640 perms/file_0600'
perturb "setuid dropped" "'perms/file_4755': mode differs: 4755 vs 0755" 'chmod u-s perms/file_4755'
perturb "sticky dropped" "'perms/dir_sticky': mode differs: 1777 vs 0777" 'chmod -t perms/dir_sticky'
perturb "chown" "'owners/file_1234_5678': uid differs: 1234 vs 1" 'chown -h 1 owners/file_1234_5678'
perturb "chgrp symlink" "'owners/link_1234_5678': gid differs: 5678 vs 0" 'chown -h 1234:0 owners/link_1234_5678'
perturb "xattr value" "'xattrs/file_with_xattrs': xattr user.foo differs" 'setfattr -n user.foo -v baz xattrs/file_with_xattrs'
perturb "xattr removed" "xattr user.binary missing in B" 'setfattr -x user.binary xattrs/file_with_xattrs'
perturb "xattr added" "'files/small.txt': xattr user.new only in B" 'setfattr -n user.new -v 1 files/small.txt'
perturb "dir xattr" "'xattrs/dir_with_xattr': xattr user.dirattr differs" 'setfattr -n user.dirattr -v other xattrs/dir_with_xattr; touch -r ../src/xattrs/dir_with_xattr xattrs/dir_with_xattr'
perturb "hard link broken" "hard-link group \{'hardlinks/a/one.txt', 'hardlinks/b/two.txt', 'hardlinks/c/three.txt'\} of A is not a group in B" \
  'cp -a hardlinks/b/two.txt x.tmp && mv x.tmp hardlinks/b/two.txt && touch -r ../src/hardlinks/b hardlinks/b'
perturb "extra hard link" "hard-link group \{'files/duplicate_of_random_3m.bin', 'files/random_3m.bin'\} in B is not a group in A" \
  'ln -f files/random_3m.bin files/duplicate_of_random_3m.bin; touch -r ../src/files files'
perturb "sparse filled" "'sparse/holes_64m': not sparse" \
  'cp -a --sparse=never sparse/holes_64m x.tmp && mv x.tmp sparse/holes_64m && touch -r ../src/sparse sparse'
perturb "all-hole filled" "'sparse/all_hole': not sparse" \
  'cp -a --sparse=never sparse/all_hole x.tmp && mv x.tmp sparse/all_hole && touch -r ../src/sparse sparse'
perturb "dir mtime" "'nested/empty_dir': mtime differs" 'touch -d "2005-05-05 05:05:05.123456789" nested/empty_dir'
perturb "1 ns mtime" "'files/empty': mtime differs: [0-9]+\.[0-9]{9} vs [0-9]+\.[0-9]{9}" \
  'python3 -c "import os; st=os.lstat(\"files/empty\"); os.utime(\"files/empty\", ns=(st.st_atime_ns, st.st_mtime_ns+1))"'
perturb "pre-epoch mtime" "'times/pre_epoch': mtime differs: -315619199.876543211 vs 0.000000000" 'touch -d @0 times/pre_epoch'
perturb "file removed" "'files/one_byte': only in A \(regular file\)" 'rm files/one_byte; touch -r ../src/files files'
perturb "file added" "'nested/empty_dir/new': only in B \(regular file\)" 'touch nested/empty_dir/new; touch -r ../src/nested/empty_dir nested/empty_dir'
perturb "non-UTF-8 rename" "'names/caf\\\\xe9': only in A" "mv names/caf\$'\\xe9' names/cafe; touch -r ../src/names names"
perturb "newline name" "'names/new\\\\nline': only in A" "rm names/new\$'\\n'line; touch -r ../src/names names"
perturb "symlink target" "'links/dangling': symlink target differs: 'does/not/exist' vs 'does/not/exis'" \
  'rm links/dangling && ln -s does/not/exis links/dangling && touch -h -r ../src/links/dangling links/dangling && touch -r ../src/links links'
perturb "fifo -> file" "'special/fifo': type differs: fifo vs regular file" \
  'rm special/fifo && touch special/fifo && chmod 0640 special/fifo && touch -r ../src/special/fifo special/fifo && touch -r ../src/special special'
perturb "rdev" "'special/char_1_3': rdev differs: 1,3 vs 1,5" \
  'rm special/char_1_3 && mknod -m 0644 special/char_1_3 c 1 5 && touch -r ../src/special/char_1_3 special/char_1_3 && touch -r ../src/special special'
perturb "truncate" "'files/small.txt': size differs: 104 vs 103" 'truncate -s 103 files/small.txt; touch -r ../src/files/small.txt files/small.txt'
perturb "dir -> file" "'nested/sub/inner': type differs: directory vs regular file" \
  'rm -r nested/sub/inner && touch nested/sub/inner && touch -r ../src/nested/sub nested/sub'
perturb "long name" "'names/x{255}': only in A" 'rm names/$(printf "x%.0s" {1..255}); touch -r ../src/names names'

# root metadata: ignored by default, compared with --with-root
rm -rf t && cp -a --sparse=always base t && chmod 0700 t
if ! python3 "$HERE/compare_tree.py" src t >/dev/null; then
  echo "FAIL [root ignored]: root mode compared without --with-root"; failures=$((failures + 1))
elif ! python3 "$HERE/compare_tree.py" --with-root src t >out && grep -q "<root>: mode differs: 0755 vs 0700" out; then
  echo "ok   [root with --with-root]"
else
  echo "FAIL [root with --with-root]: not reported"; failures=$((failures + 1))
fi

# several perturbations at once: every one is listed
rm -rf t && cp -a --sparse=always base t
(cd t && chmod 0600 files/small.txt && rm files/empty && setfattr -n user.foo -v x xattrs/file_with_xattrs &&
  touch -h -d 2001-01-01 links/absolute)
python3 "$HERE/compare_tree.py" src t >out || true
n=$(grep -c "^'" out || true)
if [[ $n -ge 5 ]]; then
  echo "ok   [all listed]: $n differences"
else
  echo "FAIL [all listed]: only $n"
  failures=$((failures + 1))
fi

if [[ $failures -ne 0 ]]; then
  echo "selftest: $failures failure(s)"
  exit 1
fi
echo "selftest: all ok"
