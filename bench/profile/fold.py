#!/usr/bin/env python3
"""Folds `perf script` output (stdin) into `frame;frame;… count` lines, root first, the input
format of flamegraph.pl, inferno-flamegraph and speedscope."""
import collections
import re
import sys

counts = collections.Counter()
stack = []
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line.strip():
        if stack:
            counts[";".join(reversed(stack))] += 1
        stack = []
    elif line.startswith((" ", "\t")):
        # "    addr symbol+off (dso)"
        parts = line.strip().split(" ", 1)
        symbol = parts[1] if len(parts) > 1 else parts[0]
        symbol = re.sub(r"\+0x[0-9a-f]+ \(.*\)$| \(.*\)$", "", symbol)
        # Drop generic arguments (`collect<…>` → `collect`), keeping `<T as Trait>::f` heads.
        while True:
            shorter = re.sub(r"(?<=[\w\]])<[^<>]*>", "", symbol)
            if shorter == symbol:
                break
            symbol = shorter
        stack.append(symbol.replace(";", ":"))
if stack:
    counts[";".join(reversed(stack))] += 1
for folded, count in counts.most_common():
    print(f"{folded} {count}")
