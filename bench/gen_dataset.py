#!/usr/bin/env python3
"""Deterministic benchmark corpus generator for ferry (python3, stdlib only).

Generate a mixed corpus:

    gen_dataset.py OUT_DIR --size 2G [--seed 1]

  * many small text / source-like files (compressible): Python- and C-like code,
    prose and Markdown, logs, CSV, JSON/YAML/INI config, built from a seeded
    vocabulary and statement templates;
  * medium binaries (semi-compressible): fixed-size records whose columns range from
    constant over counters and low-entropy bytes to random bytes, some with string
    tables; some incompressible "photos";
  * large incompressible files (seeded PRNG, written in 8 MiB blocks);
  * exact duplicates (single files and whole directory copies) and shifted copies
    (the same content with 1-16 bytes inserted at the start);
  * nested directories (up to 8 levels; names with spaces and dots), a few empty
    files and relative symlinks; deterministic mtimes.

About 15k files per GiB (≈ 30k at 2G), scaled proportionally for smaller sizes.
Sizes accept K/M/G/T suffixes (powers of 1024). The same seed and size give
byte-identical content, names and mtimes (directory mtimes aside).

Mutate an existing corpus in place (deterministic for the same corpus and seed):

    gen_dataset.py OUT_DIR --mutate [--seed 2] [--fraction 0.01]

  changes about FRACTION of the corpus bytes: inserts in the middle of some large
  files, appends to some files (log lines to logs), small edits to some text files,
  new files (and one new directory), deleted files.
"""

import argparse
import array
import math
import os
import random
import re
import shutil
import sys
import time
from itertools import accumulate

BLOCK = 8 << 20
BASE_MTIME = 1_672_531_200  # 2023-01-01T00:00:00Z
MUTATE_MTIME = BASE_MTIME + 400 * 86400

TEXT_EXTS = {".py", ".c", ".h", ".cc", ".js", ".md", ".txt", ".rst", ".log", ".csv",
             ".json", ".yaml", ".ini", ".conf", ""}
# (extension, pool, weight)
TEXT_KINDS = [
    (".py", "py", 16), (".c", "c", 10), (".h", "c", 5), (".cc", "c", 4), (".js", "c", 5),
    (".md", "md", 8), (".txt", "prose", 8), (".rst", "prose", 2), (".log", "log", 10),
    (".csv", "csv", 7), (".json", "json", 8), (".yaml", "conf", 5), (".ini", "conf", 3),
    (".conf", "conf", 3), ("", "prose", 2),
]
MEDIUM_EXTS = [".bin", ".dat", ".db", ".idx", ".o", ".so", ".sqlite", ".pack", ".rec", ".a"]
PHOTO_EXTS = [".jpg", ".png", ".webp", ".heic"]
LARGE_EXTS = [".img", ".iso", ".tar.zst", ".mp4", ".mkv", ".vmdk", ".zip", ".qcow2"]

COMMON_WORDS = """the of and to in is that for it as with was on be by at this from or
have an are not but which one all were can when there been has more if will would
each other their time about many then them these some her into two could first new
data file value list error user system return state node index buffer cache table
record block chunk stream config server client request response update delete create
read write open close start stop count size length offset key path name type""".split()

CONS = "b c d f g h j k l m n p r s t v w z br cr dr fl gr pl pr sh st th tr ch qu".split()
VOWS = "a e i o u a e i o ai ea io ou".split()
DIR_NAMES = """src lib include docs test tests assets build config scripts data logs photos
home projects backup archive vendor tools cmd internal pkg util web static templates
migrations fixtures examples bench notes reports 2021 2022 2023 misc tmp old share
etc var opt media images""".split()


# ----------------------------------------------------------------------------- helpers

def parse_size(text):
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (use e.g. 200M, 2G)")
    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2).upper()]
    return int(float(m.group(1)) * mult)


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024


def low_entropy_table(k, base):
    """translate() table mapping bytes uniformly onto k symbols starting at base."""
    return bytes((base + (i % k)) & 0xFF for i in range(256))


# ----------------------------------------------------------------------------- text pools

class Pools:
    """Seeded vocabulary and per-kind pools of text snippets (lines or code blocks)."""

    def __init__(self, seed):
        R = random.Random(f"ferry-bench:{seed}:pools")
        self.R = R
        vocab = list(COMMON_WORDS)
        seen = set(vocab)
        while len(vocab) < 4000:
            w = "".join(R.choice(CONS) + R.choice(VOWS) for _ in range(R.choice((1, 2, 2, 2, 3, 3, 4))))
            if R.random() < 0.3:
                w += R.choice("nrstlmx")
            if w not in seen:
                seen.add(w)
                vocab.append(w)
        self.vocab = vocab
        self.cum = list(accumulate(1.0 / (i + 1) ** 1.05 for i in range(len(vocab))))
        self.idents = [self._make_ident() for _ in range(6000)]
        self.pools = {
            "py": [self._py_block() for _ in range(3000)],
            "c": [self._c_block() for _ in range(3000)],
            "prose": [self._prose_para() for _ in range(3000)],
            "md": [self._md_section() for _ in range(2000)],
            "log": [self._log_line() for _ in range(10000)],
            "csv": [self._csv_row() for _ in range(10000)],
            "json": [self._json_entry() for _ in range(6000)],
            "conf": [self._conf_line() for _ in range(6000)],
        }
        self.avg = {k: sum(map(len, v)) / len(v) for k, v in self.pools.items()}

    # small building blocks
    def words(self, k):
        return self.R.choices(self.vocab, cum_weights=self.cum, k=k)

    def ident(self):
        return self.R.choice(self.idents)

    def _make_ident(self):
        R = self.R
        parts = self.words(R.choice((1, 2, 2, 3)))
        style = R.random()
        if style < 0.6:
            return "_".join(parts)
        if style < 0.9:
            return parts[0] + "".join(p.capitalize() for p in parts[1:])
        return "".join(p.capitalize() for p in parts)

    def sentence(self):
        w = self.words(self.R.randint(5, 18))
        return " ".join(w).capitalize() + self.R.choice(".....?!")

    def _py_block(self):
        R = self.R
        args = [self.ident() for _ in range(R.randint(0, 4))]
        if R.random() < 0.3:
            args.insert(0, "self")
        lines = [f"def {self.ident()}({', '.join(args)}):", f'    """{self.sentence()}"""']
        names = args[1:] if args and args[0] == "self" else args
        names = names + [self.ident() for _ in range(3)]
        depth = 1
        for _ in range(R.randint(2, 14)):
            v, a, f = R.choice(names), R.choice(names), self.ident()
            n = R.choice((0, 1, 2, 8, 16, 64, 100, 255, 1024, R.randint(0, 99999)))
            t = R.randrange(12)
            ind = "    " * depth
            if t == 0 and depth < 4:
                lines.append(f"{ind}if {v} {R.choice(('>', '<', '==', '!=', 'is', 'in'))} {a}:")
                depth += 1
            elif t == 1 and depth < 4:
                lines.append(f"{ind}for {v} in {f}({a}):")
                depth += 1
            elif t == 2 and depth > 1:
                lines.append(f"{ind}return {v}")
                depth -= 1
            elif t == 3:
                lines.append(f"{ind}# {self.sentence()}")
            elif t == 4:
                lines.append(f'{ind}log.{R.choice(("debug", "info", "warning"))}("{self.sentence()}", {v})')
            elif t == 5:
                lines.append(f"{ind}{v}.{f}({a}, {n})")
            elif t == 6:
                lines.append(f'{ind}raise {R.choice(("ValueError", "KeyError", "RuntimeError"))}("{self.sentence()}")')
                if depth > 1:
                    depth -= 1
            elif t == 7:
                lines.append(f"{ind}{v} += {n}")
            else:
                lines.append(f"{ind}{v} = {f}({a}, {n})")
        lines.append(f"    return {R.choice(names) if names else 'None'}")
        return "\n".join(lines) + "\n\n\n"

    def _c_block(self):
        R = self.R
        args = [f"{R.choice(('int', 'size_t', 'const char *', 'uint8_t *', 'struct ' + self.ident() + ' *', 'double'))} {self.ident()}"
                for _ in range(R.randint(0, 4))]
        names = [a.split()[-1].lstrip("*") for a in args] + [self.ident() for _ in range(3)]
        ret = R.choice(("int", "void", "static int", "static void", "size_t", "bool"))
        lines = []
        if R.random() < 0.5:
            lines.append(f"/* {self.sentence()} */")
        lines += [f"{ret} {self.ident()}({', '.join(args) or 'void'})", "{"]
        depth = 1
        for _ in range(R.randint(2, 14)):
            v, a, f = R.choice(names), R.choice(names), self.ident()
            n = R.choice((0, 1, 4, 8, 16, 64, 256, 4096, R.randint(0, 65535)))
            t = R.randrange(10)
            ind = "\t" * depth
            if t == 0 and depth < 4:
                lines.append(f"{ind}if ({v} {R.choice(('>', '<', '==', '!='))} {n}) {{")
                depth += 1
            elif t == 1 and depth < 4:
                lines.append(f"{ind}for (size_t i = 0; i < {v}; i++) {{")
                depth += 1
            elif t == 2 and depth > 1:
                depth -= 1
                lines.append("\t" * depth + "}")
            elif t == 3:
                lines.append(f"{ind}// {self.sentence()}")
            elif t == 4:
                lines.append(f'{ind}fprintf(stderr, "{self.sentence()} %d\\n", {v});')
            elif t == 5:
                lines.append(f"{ind}{v} = {f}({a}, {n});")
            elif t == 6:
                lines.append(f"{ind}return -{R.choice(('EINVAL', 'ENOMEM', 'EIO', 'ENOENT'))};")
            else:
                lines.append(f"{ind}{v} += {a} * {n};")
        while depth > 1:
            depth -= 1
            lines.append("\t" * depth + "}")
        lines += ["\treturn 0;" if "void" not in ret else "\treturn;", "}"]
        return "\n".join(lines) + "\n\n"

    def _prose_para(self):
        R = self.R
        text = " ".join(self.sentence() for _ in range(R.randint(1, 6)))
        out, line = [], []
        width = 0
        for w in text.split():
            if width + len(w) > 76 and line:
                out.append(" ".join(line))
                line, width = [], 0
            line.append(w)
            width += len(w) + 1
        out.append(" ".join(line))
        return "\n".join(out) + "\n\n"

    def _md_section(self):
        R = self.R
        t = R.randrange(6)
        if t == 0:
            return f"{'#' * R.randint(1, 3)} {' '.join(self.words(R.randint(2, 6))).capitalize()}\n\n"
        if t == 1:
            return "".join(f"- {self.sentence()}\n" for _ in range(R.randint(2, 6))) + "\n"
        if t == 2:
            return f"```\n{self.ident()} --{self.ident()} {R.randint(1, 999)}\n```\n\n"
        return self._prose_para()

    def _log_line(self):
        R = self.R
        lvl = R.choices(("DEBUG", "INFO", "WARN", "ERROR"), weights=(30, 55, 10, 5))[0]
        return (f"2023-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:"
                f"{R.randint(0, 59):02d}:{R.randint(0, 59):02d}.{R.randint(0, 999):03d}Z {lvl:5} "
                f"[{self.ident()}] {' '.join(self.words(R.randint(3, 12)))} "
                f"id={R.getrandbits(32):08x} dur={R.randint(0, 5000)}ms\n")

    def _csv_row(self):
        R = self.R
        return (f"{R.randint(1, 10**7)},{self.words(1)[0]},{R.uniform(-1000, 1000):.3f},"
                f"{R.randint(0, 255)},2023-{R.randint(1, 12):02d}-{R.randint(1, 28):02d},"
                f"{R.choice(('true', 'false'))},{self.ident()}\n")

    def _json_entry(self):
        R = self.R
        v = R.choice((f'"{self.ident()}"', str(R.randint(0, 10**6)), "true", "null",
                      f"[{', '.join(str(R.randint(0, 99)) for _ in range(R.randint(1, 8)))}]",
                      f'"{self.sentence()}"'))
        return f'  "{self.ident()}": {v},\n'

    def _conf_line(self):
        R = self.R
        if R.random() < 0.08:
            return f"\n[{self.ident()}]\n"
        if R.random() < 0.1:
            return f"# {self.sentence()}\n"
        return f"{self.ident()} = {R.choice((self.ident(), str(R.randint(0, 65535)), 'yes', 'no'))}\n"

    # file content
    def text(self, r, pool, size, relpath):
        """Text file of exactly `size` bytes built from pool `pool` with RNG r."""
        uid = r.getrandbits(64)
        if pool == "py":
            head = f'# {relpath}\n# id {uid:016x}\n"""{" ".join(self.vocab[:3])} module."""\nimport os\nimport sys\n\n'
        elif pool == "c":
            head = f"/*\n * {relpath}\n * id {uid:016x}\n */\n#include <stdio.h>\n#include <stdlib.h>\n\n"
        elif pool == "csv":
            head = "id,name,value,flags,date,active,tag\n"
        elif pool == "json":
            head = f'{{\n  "file": "{relpath}",\n  "id": "{uid:016x}",\n'
        elif pool == "md":
            head = f"# {os.path.basename(relpath)}\n\n<!-- id {uid:016x} -->\n\n"
        else:
            head = f"{relpath} {uid:016x}\n"
        items = self.pools[pool]
        k = max(1, int((size - len(head)) / self.avg[pool] * 1.15) + 1)
        body = head + "".join(r.choices(items, k=k))
        data = body.encode()
        while len(data) < size:  # rare: unlucky short choices
            data += "".join(r.choices(items, k=k)).encode()
        data = data[:size]
        if size > 1:
            data = data[:-1] + b"\n"
        return data


def medium_bytes(r, size, pools):
    """Semi-compressible structured records of `size` bytes."""
    rs = r.choice((32, 48, 64, 96, 128, 256))
    n = (size + rs - 1) // rs
    ba = bytearray(n * rs)
    for g in range(rs // 4):
        off = g * 4
        cls = r.choices(("zero", "const", "counter", "low", "rand"), weights=(15, 10, 15, 35, 25))[0]
        if cls == "zero":
            continue
        if cls == "const":
            for j in range(4):
                c = r.getrandbits(8) if j == 0 or r.random() < 0.5 else 0
                if c:
                    ba[off + j::rs] = bytes((c,)) * n
        elif cls == "counter":
            start, step = r.getrandbits(24), r.choice((1, 1, 1, 7, 1000))
            cb = array.array("I", range(start, start + n * step, step)).tobytes()
            if sys.byteorder != "little":
                a = array.array("I", cb)
                a.byteswap()
                cb = a.tobytes()
            for j in range(4):
                ba[off + j::rs] = cb[j::4]
        elif cls == "low":
            k = r.choice((2, 4, 8, 16, 32))
            ba[off::rs] = r.randbytes(n).translate(low_entropy_table(k, r.getrandbits(8)))
            if r.random() < 0.4:
                ba[off + 1::rs] = r.randbytes(n).translate(low_entropy_table(2, 0))
        else:
            rb = r.randbytes(4 * n)
            for j in range(4):
                ba[off + j::rs] = rb[j::4]
    if r.random() < 0.3 and size > 4096:
        # a string table at the end, as in object files and databases
        st = pools.text(r, r.choice(("conf", "json", "log")), min(size // 4, 1 << 20), "strtab")
        ba[size - len(st):size] = st
    ba[:8] = b"FRYBENCH"
    del ba[size:]
    return ba


# ----------------------------------------------------------------------------- generation

def lognorm_size(R, median, sigma, lo, hi):
    return int(min(hi, max(lo, R.lognormvariate(math.log(median), sigma))))


def plan_corpus(seed, total):
    """Return (dirs, entries): the whole corpus as a list of deterministic entries."""
    R = random.Random(f"ferry-bench:{seed}:plan")
    budgets = {"text": 0.12, "medium": 0.28, "large": 0.40, "dup": 0.12, "shift": 0.08}
    budgets = {k: int(v * total) for k, v in budgets.items()}
    est_files = max(4, int(total / (1 << 30) * 15000))

    # directory tree
    dirs = [""]
    dirset = {""}
    names = DIR_NAMES
    for i in range(max(1, est_files // 12)):
        if R.random() < 0.5:
            parent = dirs[-1 - R.randrange(min(len(dirs), 8))]
        else:
            parent = R.choice(dirs)
        if parent.count("/") >= 7:
            parent = R.choice(dirs[:1 + len(dirs) // 4])
        base = R.choice(names) if R.random() < 0.4 else "".join(
            R.choice(CONS) + R.choice(VOWS) for _ in range(R.randint(1, 3)))
        if R.random() < 0.05:
            base += R.choice((" files", ".d", "-v2", " (old)", "_backup"))
        path = f"{parent}/{base}" if parent else base
        if path in dirset:
            path += f"-{i}"
        dirs.append(path)
        dirset.add(path)

    entries = []  # dicts: kind, path, size, mtime, ...
    used = set()

    def new_path(d, stem, ext):
        p = f"{d}/{stem}{ext}" if d else f"{stem}{ext}"
        while p in used or p in dirset:
            stem += R.choice("0123456789abcdef")
            p = f"{d}/{stem}{ext}" if d else f"{stem}{ext}"
        used.add(p)
        return p

    def stem():
        return "".join(R.choice(CONS) + R.choice(VOWS) for _ in range(R.randint(1, 4))) + (
            R.choice(("", "", "_" + str(R.randint(0, 99)), "-" + R.choice(DIR_NAMES))))

    def mtime():
        return BASE_MTIME + R.randrange(365 * 86400)

    ext_cum = list(accumulate(w for _, _, w in TEXT_KINDS))

    # small text files
    left = budgets["text"]
    text_dirs = dirs
    while left > 0:
        ext, pool, _ = R.choices(TEXT_KINDS, cum_weights=ext_cum)[0]
        size = min(left, lognorm_size(R, 5000, 1.1, 64, 512 << 10))
        st = stem() if ext else R.choice(("README", "Makefile", "LICENSE", "NOTES", "TODO", "CHANGES"))
        entries.append(dict(kind="text", path=new_path(R.choice(text_dirs), st, ext), size=size,
                            pool=pool, mtime=mtime()))
        left -= size

    # medium binaries (20 % of them incompressible "photos")
    left = budgets["medium"]
    hi = max(4096, min(16 << 20, budgets["medium"] // 4))
    while left > 0:
        size = min(left, lognorm_size(R, min(512 << 10, hi // 2), 1.0, min(48 << 10, hi // 4), hi))
        photo = R.random() < 0.2
        ext = R.choice(PHOTO_EXTS if photo else MEDIUM_EXTS)
        entries.append(dict(kind="photo" if photo else "medium",
                            path=new_path(R.choice(dirs), stem(), ext), size=size, mtime=mtime()))
        left -= size

    # large incompressible files
    left = budgets["large"]
    hi = max(1 << 16, min(256 << 20, budgets["large"] // 3))
    while left > 0:
        size = min(left, R.randint(hi // 8, hi))
        entries.append(dict(kind="large", path=new_path(R.choice(dirs), stem(), R.choice(LARGE_EXTS)),
                            size=size, mtime=mtime()))
        left -= size

    originals = list(entries)
    by_kind = {}
    for e in originals:
        by_kind.setdefault(e["kind"], []).append(e)
    n_text = len(by_kind.get("text", []))

    # empty files and (below) relative symlinks, ~0.3 % each
    for _ in range(max(1, n_text // 300)):
        entries.append(dict(kind="empty", path=new_path(R.choice(dirs), stem(), R.choice((".lock", ".keep", ""))),
                            size=0, mtime=mtime()))

    # duplicates: whole directory copies (up to half the budget), then single files
    left = budgets["dup"]
    files_in = {}
    for e in originals:
        files_in.setdefault(os.path.dirname(e["path"]), []).append(e)
    tries = 0
    while left > budgets["dup"] // 2 and tries < 50:
        tries += 1
        d = R.choice(dirs[1:]) if len(dirs) > 1 else ""
        members = [e for e in files_in.get(d, []) if e["kind"] == "text"]
        tot = sum(e["size"] for e in members)
        if not members or tot > left - budgets["dup"] // 2 + (64 << 10):
            continue
        nd = d + R.choice(("-copy", ".bak", " (copy)", "-old"))
        if nd in dirset:
            continue
        dirs.append(nd)
        dirset.add(nd)
        for e in members:
            p = nd + "/" + os.path.basename(e["path"])
            used.add(p)
            entries.append(dict(kind="dup", path=p, size=e["size"], src=e["path"], mtime=e["mtime"]))
        left -= tot
    tries = 0
    while left > 0 and tries < 1000:
        cat = R.choices(("text", "medium", "photo", "large"), weights=(55, 25, 10, 10))[0]
        cands = by_kind.get(cat)
        if not cands:
            tries += 1
            continue
        e = R.choice(cands)
        if e["size"] > left:
            tries += 1
            continue
        tries = 0
        base, ext = os.path.splitext(os.path.basename(e["path"]))
        p = new_path(R.choice(dirs), base + R.choice(("", "", "_copy", " (1)", ".orig")), ext)
        entries.append(dict(kind="dup", path=p, size=e["size"], src=e["path"], mtime=mtime()))
        left -= e["size"]

    # shifted copies: 1-16 bytes inserted at the start
    left = budgets["shift"]
    tries = 0
    while left > 0 and tries < 1000:
        cat = R.choices(("text", "medium", "large"), weights=(20, 50, 30))[0]
        cands = by_kind.get(cat)
        if not cands:
            tries += 1
            continue
        e = R.choice(cands)
        shift = R.randint(1, 16)
        if e["size"] + shift > left:
            tries += 1
            continue
        tries = 0
        base, ext = os.path.splitext(os.path.basename(e["path"]))
        p = new_path(R.choice(dirs), base + R.choice(("-v2", ".new", "-edited", "_1")), ext)
        entries.append(dict(kind="shift", path=p, size=e["size"] + shift, src=e["path"], shift=shift,
                            mtime=mtime()))
        left -= e["size"] + shift

    # relative symlinks to files elsewhere in the corpus
    for _ in range(max(1, n_text // 300)):
        tgt = R.choice(originals)["path"]
        d = R.choice(dirs)
        p = new_path(d, stem(), ".lnk")
        entries.append(dict(kind="link", path=p, size=0, target=os.path.relpath(tgt, d or "."),
                            mtime=mtime()))
    return dirs, entries


def write_random(f, r, size):
    left = size
    while left > 0:
        n = min(BLOCK, left)
        f.write(r.randbytes(n))
        left -= n


def copy_file(src, dst, prefix=b""):
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        if prefix:
            fo.write(prefix)
        shutil.copyfileobj(fi, fo, BLOCK)


def generate(out, size, seed):
    t0 = time.monotonic()
    if os.path.exists(out) and os.listdir(out):
        sys.exit(f"gen_dataset: {out} exists and is not empty (refusing to mix corpora)")
    os.makedirs(out, exist_ok=True)
    pools = Pools(seed)
    dirs, entries = plan_corpus(seed, size)
    for d in dirs:
        if d:
            os.makedirs(os.path.join(out, d), exist_ok=True)
    stats = {}
    for i, e in enumerate(entries):
        kind, path = e["kind"], os.path.join(out, e["path"])
        r = random.Random(f"ferry-bench:{seed}:file:{i}")
        if kind == "text":
            with open(path, "wb") as f:
                f.write(pools.text(r, e["pool"], e["size"], e["path"]))
        elif kind == "medium":
            with open(path, "wb") as f:
                left = e["size"]
                while left > 0:  # keep memory bounded for big --size
                    n = min(left, 16 << 20)
                    f.write(medium_bytes(r, n, pools))
                    left -= n
        elif kind in ("photo", "large"):
            with open(path, "wb") as f:
                write_random(f, r, e["size"])
        elif kind == "empty":
            open(path, "wb").close()
        elif kind == "dup":
            copy_file(os.path.join(out, e["src"]), path)
        elif kind == "shift":
            copy_file(os.path.join(out, e["src"]), path, r.randbytes(e["shift"]))
        elif kind == "link":
            os.symlink(e["target"], path)
        st = stats.setdefault(kind, [0, 0])
        st[0] += 1
        st[1] += e["size"]
    for e in entries:
        os.utime(os.path.join(out, e["path"]), (e["mtime"], e["mtime"]), follow_symlinks=False)
    for d in sorted(dirs, key=lambda p: -p.count("/")):  # deepest first
        os.utime(os.path.join(out, d) if d else out, (BASE_MTIME + 365 * 86400,) * 2)
    dt = time.monotonic() - t0
    nbytes = sum(v[1] for v in stats.values())
    nfiles = sum(v[0] for v in stats.values())
    print(f"gen_dataset: {out}: {nfiles} entries, {len(dirs)} dirs, {human(nbytes)} in {dt:.1f} s "
          f"({nbytes / 1e6 / max(dt, 1e-9):.0f} MB/s)", file=sys.stderr)
    for k in ("text", "medium", "photo", "large", "dup", "shift", "empty", "link"):
        if k in stats:
            print(f"  {k:7} {stats[k][0]:7d} files {human(stats[k][1]):>12}", file=sys.stderr)


# ----------------------------------------------------------------------------- mutation

def list_files(out):
    """Sorted (relpath, size) of all regular files (deterministic order)."""
    res = []
    for root, dnames, fnames in os.walk(out):
        dnames.sort()
        for n in sorted(fnames):
            p = os.path.join(root, n)
            if os.path.isfile(p) and not os.path.islink(p):
                res.append((os.path.relpath(p, out), os.path.getsize(p)))
    return res


def mutate(out, seed, fraction):
    t0 = time.monotonic()
    if not os.path.isdir(out):
        sys.exit(f"gen_dataset: {out}: no such directory")
    files = list_files(out)
    if not files:
        sys.exit(f"gen_dataset: {out}: empty corpus")
    total = sum(s for _, s in files)
    budget = max(1, int(total * fraction))
    R = random.Random(f"ferry-bench:{seed}:mutate")
    pools = Pools(seed)
    mt = MUTATE_MTIME + seed * 3600
    touched = {}
    report = dict(inserted=0, insert_files=0, appended=0, append_files=0, edited_files=0,
                  new_files=0, new_bytes=0, deleted_files=0, deleted_bytes=0)

    text_files = [(p, s) for p, s in files if os.path.splitext(p)[1] in TEXT_EXTS and 0 < s < (256 << 10)]
    big = sorted(files, key=lambda x: (-x[1], x[0]))
    big = [f for f in big[:max(1, len(files) // 50)] if f[1] >= 64 << 10] or big[:1]

    # 1. inserts in the middle of large files (40 % of the budget)
    left = int(budget * 0.40)
    targets = R.sample(big, min(len(big), 8))
    for p, s in targets:
        if left <= 0:
            break
        n_ins = R.randint(1, 3)
        pieces = []
        for _ in range(n_ins):
            ln = max(1, min(left, R.randint(4 << 10, max(4 << 10, min(2 << 20, budget // 10)))))
            pieces.append((R.randrange(s // 8, max(s // 8 + 1, s - s // 8)), R.randbytes(ln)))
            left -= ln
        pieces.sort(key=lambda x: x[0])
        path = os.path.join(out, p)
        with open(path, "r+b") as f:
            f.seek(pieces[0][0])
            tail = f.read()
            f.seek(pieces[0][0])
            pos = pieces[0][0]
            for off, data in pieces:
                f.write(tail[pos - pieces[0][0]:off - pieces[0][0]])
                f.write(data)
                pos = off
            f.write(tail[pos - pieces[0][0]:])
        touched[p] = 1
        report["insert_files"] += 1
        report["inserted"] += sum(len(d) for _, d in pieces)
        del tail

    # 2. appends (25 %): log lines to logs, records/random bytes to binaries
    left = int(budget * 0.25)
    logs = [f for f in text_files if f[0].endswith(".log")]
    cands = R.sample(logs, min(len(logs), 40)) + R.sample(big, min(len(big), 6))
    R.shuffle(cands)
    for p, s in cands:
        if left <= 0:
            break
        r = random.Random(f"ferry-bench:{seed}:append:{p}")
        if p.endswith(".log"):
            n = min(left, R.randint(512, 64 << 10))
            data = pools.text(r, "log", n, p)
        else:
            n = min(left, R.randint(64 << 10, max(64 << 10, budget // 8)))
            data = r.randbytes(n)
        with open(os.path.join(out, p), "ab") as f:
            f.write(data)
        touched[p] = 1
        left -= n
        report["append_files"] += 1
        report["appended"] += n

    # 3. small edits to text files (replace one line in the middle)
    for p, s in R.sample(text_files, min(len(text_files), max(1, len(text_files) // 200))):
        path = os.path.join(out, p)
        with open(path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        i = R.randrange(len(lines))
        lines[i] = ("# edited: " + pools.sentence()).encode()
        with open(path, "wb") as f:
            f.write(b"\n".join(lines))
        touched[p] = 1
        report["edited_files"] += 1

    # 4. new files (25 %): mostly text, some binaries, one new directory
    left = int(budget * 0.25)
    dirs = sorted({os.path.dirname(p) for p, _ in files})
    newdir = f"new-s{seed}"
    os.makedirs(os.path.join(out, newdir), exist_ok=True)
    dirs.append(newdir)
    i = 0
    while left > 0:
        i += 1
        d = R.choice(dirs) if R.random() < 0.8 else newdir
        r = random.Random(f"ferry-bench:{seed}:new:{i}")
        if R.random() < 0.85:
            ext, pool, _ = R.choice(TEXT_KINDS)
            n = min(left, lognorm_size(R, 3500, 1.1, 64, 256 << 10))
            data = pools.text(r, pool, n, f"{d}/new{i}")
        else:
            ext = R.choice(MEDIUM_EXTS)
            n = min(left, R.randint(64 << 10, max(64 << 10, budget // 6)))
            data = medium_bytes(r, n, pools)
        p = os.path.join(d, f"new-s{seed}-{i}{ext}")
        with open(os.path.join(out, p), "wb") as f:
            f.write(data)
        touched[p] = 1
        left -= len(data)
        report["new_files"] += 1
        report["new_bytes"] += len(data)

    # 5. deletions (files worth ~10 % of the budget, at least one)
    left = max(1, int(budget * 0.10))
    cands = [f for f in files if f[0] not in touched and f[1] <= max(left, 1)]
    R.shuffle(cands)
    for p, s in cands:
        if left <= 0:
            break
        os.unlink(os.path.join(out, p))
        left -= max(s, 1)
        report["deleted_files"] += 1
        report["deleted_bytes"] += s

    for p in sorted(touched):
        fp = os.path.join(out, p)
        if os.path.exists(fp):
            os.utime(fp, (mt, mt))
    dt = time.monotonic() - t0
    print(f"gen_dataset: mutated {out} (corpus {human(total)}, budget {human(budget)}) in {dt:.1f} s: "
          f"inserted {human(report['inserted'])} into {report['insert_files']} large files, "
          f"appended {human(report['appended'])} to {report['append_files']} files, "
          f"edited {report['edited_files']} text files, "
          f"{report['new_files']} new files ({human(report['new_bytes'])}), "
          f"deleted {report['deleted_files']} files ({human(report['deleted_bytes'])})", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 1)[1])
    ap.add_argument("out", metavar="OUT_DIR")
    ap.add_argument("--size", type=parse_size, default=None, help="corpus size, e.g. 200M, 2G (default 2G)")
    ap.add_argument("--seed", type=int, default=None, help="PRNG seed (default 1; 2 with --mutate)")
    ap.add_argument("--mutate", action="store_true", help="mutate an existing corpus in place")
    ap.add_argument("--fraction", type=float, default=0.01,
                    help="with --mutate: fraction of the corpus bytes to change (default 0.01)")
    a = ap.parse_args()
    if a.mutate:
        if a.size is not None:
            ap.error("--size makes no sense with --mutate")
        if not 0 < a.fraction < 1:
            ap.error("--fraction must be in (0, 1)")
        mutate(a.out, 2 if a.seed is None else a.seed, a.fraction)
    else:
        generate(a.out, parse_size("2G") if a.size is None else a.size, 1 if a.seed is None else a.seed)


if __name__ == "__main__":
    main()
