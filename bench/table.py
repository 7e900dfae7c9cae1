#!/usr/bin/env python3
"""Reads every bench/out/<part>.json (rows, see bench/README.md) and prints ONE table, also
written to bench/RESULTS.md with the date, the machine and the commit.

ratio = theirs/ours when lower is better, ours/theirs when higher is better: above 1 we win.
Targets: ">= V" (V as "3x" or "90%") is met when ratio >= V; "<= V" ("within V times") when
ours is at most V times worse, i.e. ratio >= 1/V.

  python3 bench/table.py [--ran PART=ok|failed:SECONDS ...] [--out bench/RESULTS.md]

Exit status 1 when a part failed or wrote unreadable rows (the table still prints).
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GROUPS = ["Decoding", "Verification", "Relay", "Getting data", "Size and memory"]
FIELDS = ["group", "metric", "ours", "alternative", "theirs", "unit", "better", "target", "note"]


def ratio_of(row):
    ours, theirs = float(row["ours"]), float(row["theirs"])
    num, den = (theirs, ours) if row["better"] == "lower" else (ours, theirs)
    if den == 0:
        return 1.0 if num == 0 else math.inf
    return num / den


def parse_target(target):
    """'>= 3x' -> ('>=', 3.0); '>= 90%' -> ('>=', 0.9); '<= 2x' -> ('<=', 2.0)."""
    m = re.fullmatch(r"\s*(>=|<=)\s*([0-9]*\.?[0-9]+)\s*(x|%)\s*", target or "")
    if not m:
        return None
    value = float(m.group(2)) / (100.0 if m.group(3) == "%" else 1.0)
    return m.group(1), value


def target_met(row, ratio):
    parsed = parse_target(row.get("target"))
    if parsed is None:
        return None
    op, value = parsed
    if op == ">=":
        return ratio >= value
    return ratio >= 1.0 / value


def fmt_number(value):
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def fmt_ratio(ratio):
    return "∞" if math.isinf(ratio) else f"{ratio:.2f}"


def check_row(row, source):
    missing = [f for f in FIELDS if f not in row]
    if missing:
        raise ValueError(f"{source}: row without {', '.join(missing)}: {row}")
    if row["group"] not in GROUPS:
        raise ValueError(f"{source}: unknown group {row['group']!r}")
    if row["better"] not in ("lower", "higher"):
        raise ValueError(f"{source}: better must be lower or higher: {row}")
    float(row["ours"]), float(row["theirs"])
    if row["target"] is not None and parse_target(row["target"]) is None:
        raise ValueError(f"{source}: target {row['target']!r} is not '>= N(x|%)' or '<= N(x|%)'")


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs (nproc {nproc()}), {cpu}{memory}, {platform.system()} {platform.release()}"


def nproc():
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def commit():
    def git(*args):
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md")
    return head + (" (with uncommitted changes)" if dirty else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ran", action="append", default=[], help="PART=ok|failed|over-budget:SECONDS (from bench/run.sh)")
    parser.add_argument("--out-dir", default=os.path.join(HERE, "out"))
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = parser.parse_args()

    ran = {}
    for item in args.ran:
        name, _, rest = item.partition("=")
        status, _, seconds = rest.partition(":")
        ran[name] = (status, seconds)

    rows, problems = [], []
    files = sorted(f for f in os.listdir(args.out_dir) if f.endswith(".json")) if os.path.isdir(args.out_dir) else []
    for name in files:
        part = name[: -len(".json")]
        if part in ran and ran[part][0] not in ("ok", "over-budget"):
            continue  # a failed part's leftovers are not results (over budget: its rows are)
        path = os.path.join(args.out_dir, name)
        try:
            with open(path) as f:
                data = json.load(f)
            if not isinstance(data, list):
                raise ValueError(f"{name}: not a JSON array")
            for row in data:
                check_row(row, name)
                rows.append((part, row))
        except (OSError, ValueError, TypeError) as error:
            problems.append(f"{part}: unreadable rows ({error})")
    for part, (status, _) in sorted(ran.items()):
        if status == "over-budget":
            problems.append(f"{part}: over budget (its rows are in the table; see its output above)")
        elif status != "ok":
            problems.append(f"{part}: failed (see its output above)")
        elif not os.path.exists(os.path.join(args.out_dir, part + ".json")):
            problems.append(f"{part}: wrote no bench/out/{part}.json")

    header = ["Group", "Metric", "Ours", "Alternative", "Theirs", "Unit", "Ratio", "Target", "Met", "Note"]
    table, notes = [], []
    order = {g: i for i, g in enumerate(GROUPS)}
    for part, row in sorted(rows, key=lambda pr: order[pr[1]["group"]]):
        ratio = ratio_of(row)
        met = target_met(row, ratio)
        note_ref = ""
        if row.get("note"):
            notes.append(row["note"])
            note_ref = f"[{len(notes)}]"
        table.append([
            row["group"], row["metric"], fmt_number(row["ours"]), row["alternative"], fmt_number(row["theirs"]),
            row["unit"], fmt_ratio(ratio), row["target"] or "", {None: "", True: "met", False: "MISSED"}[met], note_ref,
        ])

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in table]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc = [
        "# Benchmark results",
        "",
        f"- Date: {now}",
        f"- Machine: {machine()}",
        f"- Commit: {commit()}",
        "- Command: `bash bench/run.sh` (see bench/README.md)",
    ]
    if ran:
        doc.append("- Parts: " + ", ".join(
            f"{p} ({s}{', ' + t + ' s' if t else ''})" for p, (s, t) in sorted(ran.items())))
    doc += [
        "",
        "Ratio: theirs/ours when lower is better, ours/theirs when higher is better — above 1 we win. "
        "Target `>= V` is met when ratio ≥ V; `<= V` (within V times) when ratio ≥ 1/V.",
        "",
        *lines,
        "",
    ]
    if notes:
        doc += ["Notes:", ""] + [f"{i}. {n}" for i, n in enumerate(notes, 1)] + [""]
    if problems:
        doc += ["Parts that failed:", ""] + [f"- {p}" for p in problems] + [""]
    if not rows:
        doc += ["(no rows)", ""]
    text = "\n".join(doc)
    print(text)
    with open(args.out, "w") as f:
        f.write(text)
    print(f"[table] wrote {os.path.relpath(args.out, ROOT)}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
