#!/usr/bin/env python3
"""Build a deterministic directory tree holding every kind of file ferry must back up.

usage: make_tree.py DIR [--seed N] [--only-bulk] [--bulk-big N] [--bulk-big-mib M]
                        [--bulk-small N] [--bulk-small-max-kib K]

The default tree (a few dozen MiB of apparent size, ~25 MiB on disk) contains:
  files/     empty, 1-byte, small, multi-MiB random, multi-MiB compressible, zero-filled, duplicate
  nested/    a deep chain of directories, an empty directory, a read-only directory
  links/     symlinks: relative, absolute, dangling, to a directory, self loop, long and
             non-UTF-8 targets
  hardlinks/ one file with 3 names in different directories, one with 2 names
  sparse/    64 MiB file with a few data regions, file ending in a hole, file that is all hole
  special/   fifo, character device (1,3), block device (7,200)      [devices: root only]
  perms/     0600, 0755, 0000, setuid, setgid files; setgid, sticky, 0000, 0555 directories
  owners/    file, directory, symlink and fifo owned by 1234:5678     [root only]
  xattrs/    user.* xattrs on files and directories (binary, empty, long values)
  names/     spaces, unicode, non-UTF-8 bytes, newline, leading dash, 255-byte name
  times/     mtimes at the epoch, before the epoch and in 2100
Every entry gets a pseudo-random nanosecond mtime and atime (os.utime(ns=...)); directory
times are set last, after all children exist.

--bulk-* adds bulk/ with big files (alternating random / compressible content) and many small
files (bulk/small/dNN/fNNNN.dat); --only-bulk leaves out everything but bulk/, so that every
file in the tree is a regular file with a single name.

The same seed gives the same names, contents, modes, owners, xattrs and times.
Anything the platform refuses (not root, no user xattrs, ...) is skipped with a NOTE on stderr.
"""

import argparse
import errno
import os
import random
import stat
import sys

MiB = 1 << 20
KiB = 1 << 10

notes = []


def note(msg):
    notes.append(msg)
    print("make_tree: NOTE: " + msg, file=sys.stderr)


def is_root():
    return os.geteuid() == 0


class Maker:
    def __init__(self, root, seed):
        self.root = os.fsencode(root)
        self.rng = random.Random(seed)
        self.seed = seed

    def p(self, rel):
        if isinstance(rel, str):
            rel = os.fsencode(rel)
        return os.path.join(self.root, rel)

    # ---- content ----------------------------------------------------------------------
    def random_bytes(self, n):
        return self.rng.randbytes(n)

    def compressible_bytes(self, n):
        # 16-symbol alphabet: ~4 bits of entropy per byte, so zstd roughly halves it, but
        # there are no long repeats that would make it trivially small.
        table = bytes(b"etaoinshrdlu \n.,"[i % 16] for i in range(256))
        return self.rng.randbytes(n).translate(table)

    # ---- primitives ------------------------------------------------------------------
    def mkdir(self, rel, mode=0o755):
        os.makedirs(self.p(rel), exist_ok=True)
        os.chmod(self.p(rel), mode)

    def write(self, rel, data, mode=0o644):
        path = self.p(rel)
        with open(path, "wb") as f:
            # write in pieces so big buffers do not need to be copied
            view = memoryview(data)
            for off in range(0, len(view), 4 * MiB):
                f.write(view[off:off + 4 * MiB])
        os.chmod(path, mode)

    def setxattr(self, rel, name, value):
        try:
            os.setxattr(self.p(rel), name, value, follow_symlinks=False)
            return True
        except OSError as e:
            if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES, errno.ENOSPC,
                           errno.E2BIG):
                note("setxattr %s on %r refused (%s); skipped" % (name, rel, e.strerror))
                return False
            raise

    def chown(self, rel, uid, gid):
        if not is_root():
            note("not root: cannot chown %r to %d:%d; skipped" % (rel, uid, gid))
            return
        os.chown(self.p(rel), uid, gid, follow_symlinks=False)

    # ---- the default tree --------------------------------------------------------------
    def files(self):
        self.mkdir("files")
        self.write("files/empty", b"")
        self.write("files/one_byte", b"x")
        self.write("files/small.txt", b"hello, ferry\n" * 8)
        self.write("files/4k.bin", self.random_bytes(4096))
        rnd = self.random_bytes(3 * MiB + 12345)
        self.write("files/random_3m.bin", rnd)
        self.write("files/duplicate_of_random_3m.bin", rnd)  # dedups against the above
        self.write("files/compressible_5m.txt", self.compressible_bytes(5 * MiB + 777))
        self.write("files/zeros_2m.bin", bytes(2 * MiB))  # written zeros: allocated, not sparse

    def nested(self):
        deep = "nested/deep"
        for i in range(12):
            deep += "/level%02d" % i
        os.makedirs(self.p(deep))
        self.write(deep + "/bottom.txt", b"at the bottom\n")
        self.mkdir("nested/empty_dir")
        self.mkdir("nested/sub")
        for i in range(5):
            self.write("nested/sub/file%d.txt" % i, self.compressible_bytes(self.rng.randrange(1, 20000)))
        self.mkdir("nested/sub/inner")
        self.write("nested/sub/inner/data.bin", self.random_bytes(70000))
        self.mkdir("nested/readonly_dir")
        self.write("nested/readonly_dir/inside.txt", b"in a 0555 directory\n", 0o444)
        os.chmod(self.p("nested/readonly_dir"), 0o555)

    def links(self):
        self.mkdir("links")
        os.symlink("../files/small.txt", self.p("links/relative"))
        # absolute targets that are harmless should a buggy restore write through them
        os.symlink("/dev/null", self.p("links/absolute"))
        os.symlink("/nonexistent/ferry-e2e/target", self.p("links/absolute_dangling"))
        os.symlink("does/not/exist", self.p("links/dangling"))
        os.symlink("../nested", self.p("links/to_dir"))
        os.symlink("self_loop", self.p("links/self_loop"))
        os.symlink("t" * 1000, self.p("links/long_target"))
        os.symlink(b"caf\xe9/target", self.p("links/nonutf8_target"))
        os.symlink("with space/and ünïcødé", self.p("links/unicode target"))

    def hardlinks(self):
        for d in ("a", "b", "c"):
            self.mkdir("hardlinks/" + d)
        self.write("hardlinks/a/one.txt", self.compressible_bytes(30000), 0o640)
        os.link(self.p("hardlinks/a/one.txt"), self.p("hardlinks/b/two.txt"))
        os.link(self.p("hardlinks/a/one.txt"), self.p("hardlinks/c/three.txt"))
        self.write("hardlinks/pair_first", self.random_bytes(5000))
        os.link(self.p("hardlinks/pair_first"), self.p("hardlinks/a/pair_second"))
        self.write("hardlinks/empty_linked", b"")
        os.link(self.p("hardlinks/empty_linked"), self.p("hardlinks/b/empty_linked_too"))

    def sparse(self):
        self.mkdir("sparse")

        def make(rel, size, regions):
            fd = os.open(self.p(rel), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                for off, length in regions:
                    os.pwrite(fd, self.random_bytes(length), off)
                os.ftruncate(fd, size)
            finally:
                os.close(fd)
            st = os.stat(self.p(rel))
            if st.st_blocks * 512 > size // 2:
                note("filesystem did not keep %r sparse (%d of %d bytes allocated)"
                     % (rel, st.st_blocks * 512, size))

        # 64 MiB, data at the start, in the middle and at the very end
        make("sparse/holes_64m", 64 * MiB,
             [(0, 4 * KiB), (8 * MiB + 100, 64 * KiB), (30 * MiB, 1 * MiB), (64 * MiB - 4 * KiB, 4 * KiB)])
        # data, then a long hole up to EOF (the size must come back exactly)
        make("sparse/hole_at_end", 16 * MiB, [(1 * MiB, 64 * KiB)])
        # nothing but hole
        make("sparse/all_hole", 32 * MiB, [])

    def special(self):
        self.mkdir("special")
        os.mkfifo(self.p("special/fifo"), 0o640)
        if is_root():
            os.mknod(self.p("special/char_1_3"), 0o644 | stat.S_IFCHR, os.makedev(1, 3))
            os.mknod(self.p("special/block_7_200"), 0o600 | stat.S_IFBLK, os.makedev(7, 200))
        else:
            note("not root: device nodes special/char_1_3 and special/block_7_200 skipped")

    def perms(self):
        self.mkdir("perms")
        for mode in (0o600, 0o755, 0o000, 0o4755, 0o2755, 0o444, 0o777):
            self.write("perms/file_%04o" % mode, b"mode %04o\n" % mode, 0o644)
        self.mkdir("perms/dir_setgid")
        self.write("perms/dir_setgid/child", b"child\n")
        self.mkdir("perms/dir_sticky")
        self.write("perms/dir_sticky/child", b"child\n")
        self.mkdir("perms/dir_0000")
        self.write("perms/dir_0000/child", b"child of a 0000 dir\n")
        self.mkdir("perms/dir_0700")
        # chmod last: chown (in owners) would clear setuid/setgid, writes need permissions
        for mode in (0o600, 0o755, 0o000, 0o4755, 0o2755, 0o444, 0o777):
            os.chmod(self.p("perms/file_%04o" % mode), mode)
        os.chmod(self.p("perms/dir_setgid"), 0o2775)
        os.chmod(self.p("perms/dir_sticky"), 0o1777)
        os.chmod(self.p("perms/dir_0000"), 0o000)
        os.chmod(self.p("perms/dir_0700"), 0o700)

    def owners(self):
        self.mkdir("owners")
        self.write("owners/file_1234_5678", b"owned by someone else\n", 0o640)
        self.chown("owners/file_1234_5678", 1234, 5678)
        self.write("owners/setuid_1234", b"setuid, owned by 1234\n", 0o644)
        self.chown("owners/setuid_1234", 1234, 5678)
        os.chmod(self.p("owners/setuid_1234"), 0o4750)  # after chown, which clears it
        self.mkdir("owners/dir_1234_5678", 0o750)
        self.write("owners/dir_1234_5678/inner", b"inner\n")
        self.chown("owners/dir_1234_5678/inner", 0, 5678)
        self.chown("owners/dir_1234_5678", 1234, 5678)
        os.symlink("../files/small.txt", self.p("owners/link_1234_5678"))
        self.chown("owners/link_1234_5678", 1234, 5678)
        os.mkfifo(self.p("owners/fifo_4321"), 0o600)
        self.chown("owners/fifo_4321", 4321, 4321)

    def xattrs(self):
        self.mkdir("xattrs")
        f = "xattrs/file_with_xattrs"
        self.write(f, b"has xattrs\n")
        self.setxattr(f, "user.foo", b"bar")
        self.setxattr(f, "user.empty", b"")
        self.setxattr(f, "user.binary", b"\x00\x01\x02\xff\xfe\x00")
        self.setxattr(f, "user.long", self.random_bytes(3000))
        self.setxattr(f, "user.ünï", "cødé".encode())
        self.mkdir("xattrs/dir_with_xattr")
        self.setxattr("xattrs/dir_with_xattr", "user.dirattr", b"on a directory")
        self.write("xattrs/dir_with_xattr/plain", b"no xattrs here\n")
        self.write("xattrs/big_with_xattr.bin", self.random_bytes(1 * MiB + 3))
        self.setxattr("xattrs/big_with_xattr.bin", "user.checksum", b"whatever")
        self.write("xattrs/perm_0400_with_xattr", b"read-only with xattr\n", 0o644)
        self.setxattr("xattrs/perm_0400_with_xattr", "user.ro", b"1")
        os.chmod(self.p("xattrs/perm_0400_with_xattr"), 0o400)

    def names(self):
        self.mkdir("names")
        for name in ("with space.txt", "  leading and trailing  ", "résumé ünïcødé 日本語.txt",
                     "emoji 🦀.txt", "new\nline", "-leading-dash", "tab\there", "back\\slash",
                     "quote'\"s", "x" * 255):
            self.write("names/" + name, name.encode() + b"\n")
        self.write(b"names/caf\xe9", b"latin-1 name\n")
        self.mkdir(b"names/dir_\xff\xfe")
        self.write(b"names/dir_\xff\xfe/inside \xc3(", b"inside a non-UTF-8 dir, invalid UTF-8 name\n")
        self.mkdir("names/ünïcødé dir")
        self.write("names/ünïcødé dir/file", b"f\n")

    def times(self):
        self.mkdir("times")
        for name in ("epoch", "pre_epoch", "year_2100", "whole_second"):
            self.write("times/" + name, name.encode() + b"\n")

    FIXED_TIMES = {
        b"times/epoch": 0,
        b"times/pre_epoch": -315_619_200 * 10**9 + 123_456_789,  # 1960
        b"times/year_2100": 4_102_444_800 * 10**9 + 999_999_999,
        b"times/whole_second": 1_500_000_000 * 10**9,
    }

    # ---- bulk data ---------------------------------------------------------------------
    def bulk(self, big, big_mib, small, small_max_kib):
        self.mkdir("bulk")
        for i in range(big):
            size = big_mib * MiB + self.rng.randrange(0, 4096)
            if i % 2 == 0:
                data = self.random_bytes(size)
            else:
                data = self.compressible_bytes(size)
            self.write("bulk/big_%02d.bin" % i, data)
            del data
        if small:
            self.mkdir("bulk/small")
        for i in range(small):
            d = "bulk/small/d%02d" % (i // 50)
            if i % 50 == 0:
                self.mkdir(d)
            size = self.rng.randrange(1, small_max_kib * KiB + 1)
            data = self.random_bytes(size) if i % 3 else self.compressible_bytes(size)
            self.write("%s/f%04d.dat" % (d, i), data)

    # ---- times, last -------------------------------------------------------------------
    def set_times(self):
        """Give every entry a pseudo-random ns mtime/atime; directories after their children."""
        base = 1_000_000_000 * 10**9

        def stamp():
            return base + self.rng.randrange(0, 700_000_000 * 10**9)

        def walk(dirpath):
            entries = sorted(os.scandir(dirpath), key=lambda e: e.name)
            for e in entries:
                rel = os.path.relpath(e.path, self.root)
                if e.is_dir(follow_symlinks=False):
                    walk(e.path)
                mtime = self.FIXED_TIMES.get(rel, stamp())
                os.utime(e.path, ns=(stamp(), mtime), follow_symlinks=False)

        walk(self.root)
        os.utime(self.root, ns=(stamp(), stamp()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only-bulk", action="store_true", help="only bulk/ (regular files and directories)")
    ap.add_argument("--bulk-big", type=int, default=0, help="number of big files in bulk/")
    ap.add_argument("--bulk-big-mib", type=int, default=16, help="size of each big file in MiB")
    ap.add_argument("--bulk-small", type=int, default=0, help="number of small files in bulk/small/")
    ap.add_argument("--bulk-small-max-kib", type=int, default=64, help="small files are 1 B .. this")
    args = ap.parse_args()

    if os.path.lexists(args.dir):
        if not os.path.isdir(args.dir) or os.listdir(args.dir):
            sys.exit("make_tree: %s exists and is not an empty directory" % args.dir)
    else:
        os.makedirs(args.dir)
    os.chmod(args.dir, 0o755)
    os.umask(0o022)

    m = Maker(args.dir, args.seed)
    if not args.only_bulk:
        m.files()
        m.nested()
        m.links()
        m.hardlinks()
        m.sparse()
        m.special()
        m.perms()
        m.owners()
        m.xattrs()
        m.names()
        m.times()
    if args.bulk_big or args.bulk_small:
        m.bulk(args.bulk_big, args.bulk_big_mib, args.bulk_small, args.bulk_small_max_kib)
    m.set_times()
    print("make_tree: built %s (seed %d)%s" % (args.dir, args.seed,
                                              ", %d note(s)" % len(notes) if notes else ""))


if __name__ == "__main__":
    main()
