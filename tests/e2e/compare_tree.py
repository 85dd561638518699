#!/usr/bin/env python3
"""Compare two directory trees and list every difference.

usage: compare_tree.py A B [--with-root] [--sparse-slack BYTES | --no-sparse] [--max-report N]

Compared for every entry below A and B (names are compared as bytes; nothing is followed,
everything uses lstat):
  - the set of names in each directory
  - file type
  - mode: all 12 permission bits (setuid, setgid, sticky, rwx)
  - uid, gid
  - size (regular files and symlinks)
  - content bytes (regular files)
  - symlink target (bytes)
  - mtime in nanoseconds (files, directories, symlinks, everything)
  - xattrs: names and values (whatever listxattr returns, without following symlinks)
  - rdev (character and block devices)
  - hard links: the groups of paths sharing an inode inside A must be exactly the groups in B
  - sparseness: a regular file that is sparse in A (allocated < size/2 and at least 1 MiB of
    holes) must be sparse in B too: B may allocate at most A's allocation + --sparse-slack
    (default 1 MiB); --no-sparse skips this check
Not compared: atime, ctime, inode numbers, link counts (beyond the groups above), directory
sizes. The metadata of A and B themselves is compared only with --with-root.

Exit status: 0 identical, 1 differences found (all listed on stdout), 2 usage or I/O error.
"""

import argparse
import os
import stat
import sys

MiB = 1 << 20
BLOCK = 1 << 20


def show(rel):
    """A readable, unambiguous rendering of a bytes path."""
    if rel == b"":
        return "<root>"
    s = rel.decode("utf-8", "backslashreplace")
    out = []
    for ch in s:
        if ch == "\\" or ch.isprintable():
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    return "'" + "".join(out) + "'"


TYPES = {
    stat.S_IFREG: "regular file",
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symlink",
    stat.S_IFIFO: "fifo",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
}


def type_name(st):
    return TYPES.get(stat.S_IFMT(st.st_mode), "type %o" % stat.S_IFMT(st.st_mode))


def read_xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in (getattr(os, "ENOTSUP", 95), 95, 61):
            return {}
        raise
    out = {}
    for n in names:
        try:
            out[n] = os.getxattr(path, n, follow_symlinks=False)
        except OSError as e:
            out[n] = "<unreadable: %s>" % e.strerror
    return out


def fmt_ns(ns):
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    return "%s%d.%09d" % (sign, ns // 10**9, ns % 10**9)


class Comparer:
    def __init__(self, a, b, with_root, sparse_slack, max_report):
        self.a = os.fsencode(a)
        self.b = os.fsencode(b)
        self.with_root = with_root
        self.sparse_slack = sparse_slack
        self.max_report = max_report
        self.diffs = 0
        self.entries = 0
        self.inodes_a = {}  # (dev, ino) -> [rel]
        self.inodes_b = {}

    def diff(self, rel, msg):
        self.diffs += 1
        if self.max_report <= 0 or self.diffs <= self.max_report:
            print("%s: %s" % (show(rel), msg))
        elif self.diffs == self.max_report + 1:
            print("... (more differences not shown)")

    def only_in(self, side, root, rel):
        """Report rel (and, for a directory, everything below it) as present on one side only."""
        path = os.path.join(root, rel)
        st = os.lstat(path)
        self.diff(rel, "only in %s (%s)" % (side, type_name(st)))
        if stat.S_ISDIR(st.st_mode):
            for name in sorted(os.listdir(path)):
                self.only_in(side, root, os.path.join(rel, name))

    def compare_content(self, rel, pa, pb):
        try:
            with open(pa, "rb") as fa, open(pb, "rb") as fb:
                off = 0
                while True:
                    ba = fa.read(BLOCK)
                    bb = fb.read(BLOCK)
                    if ba != bb:
                        n = min(len(ba), len(bb))
                        i = next((k for k in range(n) if ba[k] != bb[k]), n)
                        if i < n:
                            self.diff(rel, "content differs at byte offset %d" % (off + i))
                        # a pure length difference is reported by the size check
                        return
                    if not ba:
                        return
                    off += len(ba)
        except OSError as e:
            self.diff(rel, "cannot compare content: %s" % e)

    def compare_entry(self, rel, sa, sb, pa, pb):
        ta, tb = stat.S_IFMT(sa.st_mode), stat.S_IFMT(sb.st_mode)
        if ta != tb:
            self.diff(rel, "type differs: %s vs %s" % (type_name(sa), type_name(sb)))
            return False
        ma, mb = stat.S_IMODE(sa.st_mode), stat.S_IMODE(sb.st_mode)
        if ma != mb:
            self.diff(rel, "mode differs: %04o vs %04o" % (ma, mb))
        if sa.st_uid != sb.st_uid:
            self.diff(rel, "uid differs: %d vs %d" % (sa.st_uid, sb.st_uid))
        if sa.st_gid != sb.st_gid:
            self.diff(rel, "gid differs: %d vs %d" % (sa.st_gid, sb.st_gid))
        if sa.st_mtime_ns != sb.st_mtime_ns:
            self.diff(rel, "mtime differs: %s vs %s" % (fmt_ns(sa.st_mtime_ns), fmt_ns(sb.st_mtime_ns)))
        try:
            xa, xb = read_xattrs(pa), read_xattrs(pb)
        except OSError as e:
            self.diff(rel, "cannot read xattrs: %s" % e)
            xa = xb = {}
        for n in sorted(set(xa) | set(xb)):
            if n not in xb:
                self.diff(rel, "xattr %s missing in B" % n)
            elif n not in xa:
                self.diff(rel, "xattr %s only in B" % n)
            elif xa[n] != xb[n]:
                self.diff(rel, "xattr %s differs: %r vs %r" % (n, xa[n][:64], xb[n][:64]))
        if ta == stat.S_IFLNK:
            la, lb = os.readlink(pa), os.readlink(pb)
            if la != lb:
                self.diff(rel, "symlink target differs: %s vs %s" % (show(la), show(lb)))
        if ta in (stat.S_IFCHR, stat.S_IFBLK) and sa.st_rdev != sb.st_rdev:
            self.diff(rel, "rdev differs: %d,%d vs %d,%d" % (os.major(sa.st_rdev), os.minor(sa.st_rdev),
                                                           os.major(sb.st_rdev), os.minor(sb.st_rdev)))
        if ta == stat.S_IFREG:
            if sa.st_size != sb.st_size:
                self.diff(rel, "size differs: %d vs %d" % (sa.st_size, sb.st_size))
            self.compare_content(rel, pa, pb)
            alloc_a, alloc_b = sa.st_blocks * 512, sb.st_blocks * 512
            if (self.sparse_slack is not None and alloc_a < sa.st_size // 2
                    and sa.st_size - alloc_a >= MiB):
                if alloc_b > alloc_a + self.sparse_slack:
                    self.diff(rel, "not sparse: %d of %d bytes allocated in A, %d in B"
                              % (alloc_a, sa.st_size, alloc_b))
        if ta != stat.S_IFDIR:
            self.inodes_a.setdefault((sa.st_dev, sa.st_ino), []).append(rel)
            self.inodes_b.setdefault((sb.st_dev, sb.st_ino), []).append(rel)
        return True

    def walk(self, rel):
        pa, pb = os.path.join(self.a, rel), os.path.join(self.b, rel)
        try:
            na, nb = set(os.listdir(pa)), set(os.listdir(pb))
        except OSError as e:
            self.diff(rel, "cannot list directory: %s" % e)
            return
        for name in sorted(na | nb):
            crel = os.path.join(rel, name) if rel else name
            if name not in nb:
                self.only_in("A", self.a, crel)
                continue
            if name not in na:
                self.only_in("B", self.b, crel)
                continue
            cpa, cpb = os.path.join(self.a, crel), os.path.join(self.b, crel)
            sa, sb = os.lstat(cpa), os.lstat(cpb)
            self.entries += 1
            same_type = self.compare_entry(crel, sa, sb, cpa, cpb)
            if stat.S_ISDIR(sa.st_mode) and same_type:
                self.walk(crel)
            elif not same_type:
                # everything below the directory side exists on one side only
                for side, root, st in (("A", self.a, sa), ("B", self.b, sb)):
                    if stat.S_ISDIR(st.st_mode):
                        for name2 in sorted(os.listdir(os.path.join(root, crel))):
                            self.only_in(side, root, os.path.join(crel, name2))

    def compare_links(self):
        def groups(inodes):
            return {frozenset(v) for v in inodes.values() if len(v) > 1}

        ga, gb = groups(self.inodes_a), groups(self.inodes_b)

        def fmt(g):
            return "{" + ", ".join(show(r) for r in sorted(g)) + "}"

        for g in sorted(ga - gb, key=sorted):
            # say what B has for these paths instead
            parts = []
            for r in sorted(g):
                hit = next((h for h in gb if r in h), None)
                parts.append("%s in %s" % (show(r), fmt(hit) if hit else "no group"))
            self.diff(sorted(g)[0], "hard-link group %s of A is not a group in B (B: %s)"
                      % (fmt(g), "; ".join(parts)))
        for g in sorted(gb - ga, key=sorted):
            self.diff(sorted(g)[0], "hard-link group %s in B is not a group in A" % fmt(g))

    def run(self):
        sa, sb = os.lstat(self.a), os.lstat(self.b)
        for side, st, p in (("A", sa, self.a), ("B", sb, self.b)):
            if not stat.S_ISDIR(st.st_mode):
                print("compare_tree: %s (%s) is not a directory" % (side, show(p)), file=sys.stderr)
                return 2
        if self.with_root:
            self.compare_entry(b"", sa, sb, self.a, self.b)
        self.walk(b"")
        self.compare_links()
        if self.diffs:
            print("compare_tree: %d difference(s) between %s and %s (%d entries compared)"
                  % (self.diffs, show(self.a), show(self.b), self.entries))
            return 1
        print("compare_tree: %s and %s are identical (%d entries)" % (show(self.a), show(self.b), self.entries))
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--with-root", action="store_true", help="also compare A's and B's own metadata")
    ap.add_argument("--sparse-slack", type=int, default=MiB,
                    help="bytes B may allocate beyond A for a sparse file (default 1 MiB)")
    ap.add_argument("--no-sparse", action="store_true", help="do not check that sparse files stay sparse")
    ap.add_argument("--max-report", type=int, default=0, help="print at most N differences (0: all)")
    args = ap.parse_args()
    try:
        slack = None if args.no_sparse else args.sparse_slack
        rc = Comparer(args.a, args.b, args.with_root, slack, args.max_report).run()
    except OSError as e:
        print("compare_tree: error: %s" % e, file=sys.stderr)
        rc = 2
    sys.exit(rc)


if __name__ == "__main__":
    main()
