#!/usr/bin/env python3
"""Inspect and damage a ferry repository on disk (local directory layout), for the e2e tests.

  repo_tool.py layout REPO [--allow-stray]
      Every file must be config, keys/ID, data/XX/ID (XX = first 2 hex of ID), index/ID,
      snapshots/ID or locks/ID, and every object except config must be named by the SHA-256
      of its bytes. Stray files (e.g. temp files left by a crash) are errors unless
      --allow-stray, which only lists them. Exit 1 on any problem.
  repo_tool.py objects REPO KIND          paths of KIND (keys|data|index|snapshots|locks) objects,
                                          largest first
  repo_tool.py flip FILE [OFFSET]         flip the lowest bit of the byte at OFFSET
                                          (default: the middle of the file)
  repo_tool.py truncate FILE N            remove the last N bytes
  repo_tool.py trailer FILE VALUE         overwrite a pack trailer's header length (u32 LE at
                                          size-8) with VALUE; checks the "FRY1" magic first
  repo_tool.py id FILE                    the object ID a file name says (basename)
"""

import hashlib
import os
import re
import stat
import struct
import sys

HEX64 = re.compile(r"^[0-9a-f]{64}$")
KINDS = ("keys", "data", "index", "snapshots", "locks")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def layout(repo, allow_stray):
    problems, strays = [], []
    counts = {k: 0 for k in KINDS}
    if not os.path.isfile(os.path.join(repo, "config")):
        problems.append("config is missing")
    for dirpath, dirnames, filenames in os.walk(repo):
        rel_dir = os.path.relpath(dirpath, repo)
        parts = [] if rel_dir == "." else rel_dir.split(os.sep)
        for name in filenames:
            rel = os.path.join(*parts, name) if parts else name
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                problems.append("%s: not a regular file" % rel)
                continue
            if not parts and name == "config":
                continue
            kind = parts[0] if parts else None
            ok_place = False
            if kind == "data" and len(parts) == 2 and HEX64.match(name) and name[:2] == parts[1]:
                ok_place = True
            elif kind in ("keys", "index", "snapshots", "locks") and len(parts) == 1 and HEX64.match(name):
                ok_place = True
            if not ok_place:
                strays.append(rel)
                continue
            counts[kind] += 1
            digest = sha256_file(path)
            if digest != name:
                problems.append("%s: SHA-256 of the bytes is %s, not the name" % (rel, digest))
        for d in dirnames:
            reld = os.path.join(*parts, d) if parts else d
            ok = (not parts and d in KINDS) or (parts == ["data"] and re.match(r"^[0-9a-f]{2}$", d))
            if not ok:
                strays.append(reld + "/")
    for s in strays:
        (print if allow_stray else problems.append)("stray entry: %s" % s)
    print("layout: " + ", ".join("%d %s" % (counts[k], k) for k in KINDS)
          + (", %d stray" % len(strays) if strays else ""))
    for p in problems:
        print("layout problem: " + p)
    return 1 if problems else 0


def objects(repo, kind):
    base = os.path.join(repo, kind)
    found = []
    for dirpath, _, filenames in os.walk(base):
        for name in filenames:
            if HEX64.match(name):
                p = os.path.join(dirpath, name)
                found.append((os.path.getsize(p), p))
    for _, p in sorted(found, key=lambda t: (-t[0], t[1])):
        print(p)
    return 0


def flip(path, offset=None):
    size = os.path.getsize(path)
    off = size // 2 if offset is None else int(offset)
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 1]))
    print("flipped bit 0 of byte %d of %s (size %d)" % (off, path, size))
    return 0


def truncate(path, n):
    size = os.path.getsize(path)
    os.truncate(path, size - int(n))
    print("truncated %s from %d to %d bytes" % (path, size, size - int(n)))
    return 0


def trailer(path, value):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(size - 8)
        old_len, magic = struct.unpack("<I4s", f.read(8))
        if magic != b"FRY1":
            print("%s: no FRY1 magic at the end (found %r): not a pack as docs describe" % (path, magic))
            return 1
        f.seek(size - 8)
        f.write(struct.pack("<I", int(value, 0)))
    print("%s: trailer header length %d -> %s" % (path, old_len, value))
    return 0


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "layout":
        return layout(args[0], "--allow-stray" in args[1:])
    if cmd == "objects":
        return objects(args[0], args[1])
    if cmd == "flip":
        return flip(*args)
    if cmd == "truncate":
        return truncate(*args)
    if cmd == "trailer":
        return trailer(*args)
    if cmd == "id":
        print(os.path.basename(args[0]))
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
