"""What the reports of compare.sh and vault.sh share: reading a run's rows and
metadata, number formatting, the header bullets about machine, load and corpus,
and the list of failed steps."""
import csv


def load(tsv_path, meta_path):
    """The run's metadata (key=value lines) and its rows (TSV with a header)."""
    meta = {}
    for line in open(meta_path):
        key, _, value = line.rstrip("\n").partition("=")
        meta[key] = value
    return meta, list(csv.DictReader(open(tsv_path), delimiter="\t"))


def f(x, d=1):
    """x with d decimals, or an en dash for a missing value."""
    return "–" if x is None else f"{x:.{d}f}"


def header_lines(meta):
    """The bullets every report starts with: where and when, load, corpus."""
    size_mb = int(meta["data_bytes"]) / 1e6
    return [
        f"- **When / where:** {meta['date']}; {meta['host']}; work dir on {meta['fs']}",
        f"- **Load average** at start {meta['load_start']}, at end {meta.get('load_end', '?')} "
        "(anything else running on the machine shows up in the wall times)",
        f"- **Corpus:** {size_mb:,.0f} MB in {int(meta['data_files']):,} files, "
        f"{int(meta['data_links'])} symlinks, {int(meta['data_dirs']):,} directories "
        f"(gen_dataset.py seed {meta['seed']}); then mutated (seed {meta['mutate_seed']}, "
        f"fraction {meta['fraction']}): {meta.get('mutation', '?')}",
    ]


def problems(rows, column, names, meta, missing=lambda name: f"{name}: binary missing"):
    """One entry per contender (rows[column] == name) with steps that did not end "ok"."""
    found = []
    for name in names:
        bad = [(r["run"], r["step"], r["status"]) for r in rows if r[column] == name and r["status"] != "ok"]
        if bad and all(status == "missing" for _, _, status in bad):
            found.append(missing(name))
        elif bad:
            found.append(f"{name}: " + ", ".join(
                f"{step} {status}" + (f" (run {run})" if meta["runs"] != "1" else "")
                for run, step, status in bad))
    return found
