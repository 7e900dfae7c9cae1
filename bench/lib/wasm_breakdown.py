#!/usr/bin/env python3
"""Code size of a .wasm by crate, from its name section (use the module cargo writes, before
wasm-bindgen and wasm-opt strip the names):

    wasm_breakdown.py target/wasm32-unknown-unknown/release/beacon_p2p.wasm [TOP]

Attribution is by the first path segment of each function's (demangled) name — for
`<a::T as b::Trait>::f` that is `a`, the type's crate — so generic code instantiated for
another crate's types counts where its type lives. Approximate, but enough to see what to cut.
"""
import collections
import re
import sys
from pathlib import Path

from size_rows import leb128


ESCAPES = {"$LT$": "<", "$GT$": ">", "$RF$": "&", "$BP$": "*", "$u20$": " ", "$C$": ",",
           "$u5b$": "[", "$u5d$": "]", "$u7b$": "{", "$u7d$": "}", "$u3b$": ";", "$u27$": "'"}


def demangle_first_segment(name):
    """The first path segment of a legacy-mangled Rust symbol (`_ZN<len><ident>…E`), with its
    escapes decoded (`_$LT$a..T$u20$as$u20$…` → `<a::T as …`); other names unchanged."""
    match = re.match(r"_ZN(\d+)", name)
    if not match:
        return name
    start = match.end()
    segment = name[start:start + int(match.group(1))]
    if segment.startswith("_$"):
        segment = segment[1:]
    for escape, text in ESCAPES.items():
        segment = segment.replace(escape, text)
    return segment.replace("..", "::")


def main():
    data = Path(sys.argv[1]).read_bytes()
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    assert data[:4] == b"\0asm"
    pos, imported, bodies, names, data_bytes = 8, 0, [], {}, 0
    while pos < len(data):
        section_id = data[pos]
        size, body = leb128(data, pos + 1)
        end = body + size
        if section_id == 2:  # imports: functions among them shift the code section's indices
            count, at = leb128(data, body)
            for _ in range(count):
                for _ in range(2):
                    n, at = leb128(data, at)
                    at += n
                kind = data[at]
                at += 1
                if kind == 0:
                    imported += 1
                    _, at = leb128(data, at)
                elif kind == 1:
                    at += 1
                    flags, at = leb128(data, at)
                    _, at = leb128(data, at)
                    if flags & 1:
                        _, at = leb128(data, at)
                elif kind == 2:
                    flags, at = leb128(data, at)
                    _, at = leb128(data, at)
                    if flags & 1:
                        _, at = leb128(data, at)
                elif kind == 3:
                    at += 2
                else:
                    _, at = leb128(data, at + 1)
        elif section_id == 10:
            count, at = leb128(data, body)
            for _ in range(count):
                n, start = leb128(data, at)
                bodies.append(n + (start - at))
                at = start + n
        elif section_id == 11:
            data_bytes = size
        elif section_id == 0:
            name_len, name_at = leb128(data, body)
            if data[name_at:name_at + name_len] == b"name":
                at = name_at + name_len
                while at < end:
                    sub, at = data[at], at + 1
                    sub_size, at = leb128(data, at)
                    if sub == 1:
                        count, p = leb128(data, at)
                        for _ in range(count):
                            index, p = leb128(data, p)
                            n, p = leb128(data, p)
                            names[index] = data[p:p + n].decode(errors="replace")
                            p += n
                    at += sub_size
        pos = end
    if not names:
        sys.exit("no name section: use the module cargo writes, before wasm-opt --strip-debug")
    by_crate = collections.Counter()
    for offset, size in enumerate(bodies):
        name = demangle_first_segment(names.get(imported + offset, "?"))
        match = re.match(r"[<&\s*]*(?:dyn |mut |const |impl )?([A-Za-z_][A-Za-z0-9_]*)", name)
        by_crate[match.group(1) if match else "?"] += size
    total = sum(bodies)
    print(f"code {total:,} bytes in {len(bodies):,} functions; data segments {data_bytes:,} bytes; file {len(data):,} bytes")
    for crate, size in by_crate.most_common(top):
        print(f"{size:>10,}  {100 * size / total:5.1f}%  {crate}")


if __name__ == "__main__":
    main()
