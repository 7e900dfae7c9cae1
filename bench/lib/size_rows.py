#!/usr/bin/env python3
"""Measures the artifacts bench/parts/size.sh prepared and writes its rows.

    size_rows.py ROOT WORK OUT.json

Sizes in KB = 1000 bytes; "gzip" is `gzip -9` of the file. Also reads the custom sections of
our .wasm, so the rows say whether it still carries a name section or debug info.

One budget row per build in wasm-pack.toml (`web` in out-dir, the others in <out-dir>-<target>).
Exits with OVER_BUDGET_EXIT after writing the rows when any build's .wasm is over the budget:
bench/run.sh then marks the part over budget (a failure) but still prints its rows.
"""
import json
import subprocess
import sys
import tomllib
from pathlib import Path

# Issue 14: the .wasm, gzip -9, with everything in (blocks, verification, both transports).
BUDGET_KB = 500
# bench/run.sh: the rows are valid, a limit was exceeded (any other non-zero status: no results).
OVER_BUDGET_EXIT = 3


def gzip9(path):
    return len(subprocess.run(["gzip", "-9", "-c", str(path)], check=True, capture_output=True).stdout)


def kb(n):
    return round(n / 1000, 1)


def leb128(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def sections(path):
    """(custom sections as (name, size), number of exported functions other than wasm-bindgen's
    own `__wbindgen_*`/`__wbg_*` helpers)."""
    data = path.read_bytes()
    assert data[:4] == b"\0asm", f"{path} is not a wasm module"
    pos, custom, functions = 8, [], 0
    while pos < len(data):
        section_id = data[pos]
        size, body = leb128(data, pos + 1)
        if section_id == 0:
            name_len, name_at = leb128(data, body)
            custom.append((data[name_at:name_at + name_len].decode(), size))
        elif section_id == 7:
            count, at = leb128(data, body)
            for _ in range(count):
                name_len, at = leb128(data, at)
                name = data[at:at + name_len].decode()
                kind = data[at + name_len]
                _, at = leb128(data, at + name_len + 1)
                functions += kind == 0 and not name.startswith(("__wbindgen", "__wbg"))
        pos = body + size
    return custom, functions


def version(js, package):
    return json.loads((js / "node_modules" / package / "package.json").read_text())["version"]


def main():
    root, work, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    js = root / "bench" / "js"
    with open(root / "wasm-pack.toml", "rb") as f:
        build = tomllib.load(f).get("build", {})
    pkg = root / build.get("out-dir", "pkg")
    # wasm-pack.toml: `target` (one package) or `targets` (the first one goes to out-dir).
    targets = build.get("targets", [build.get("target", "web")])
    wasm_opt = " ".join(build["wasm-opt"]) if build.get("wasm-opt") else "none"

    def measure(target, build_dir):
        wasm = build_dir / "beacon_p2p_bg.wasm"
        glue = build_dir / "beacon_p2p.js"
        for path in (wasm, glue):
            if not path.exists():
                sys.exit(f"size: {path} missing after scripts/wasm.py build")
        custom, exported = sections(wasm)
        names = [name for name, _ in custom]
        stripped = "name" not in names and not any(n.startswith(".debug") for n in names)
        state = (
            "stripped (no name section, no DWARF)" if stripped
            else f"NOT stripped: custom sections {', '.join(f'{n} ({kb(s)} KB)' for n, s in custom)}"
        )
        if exported == 0:
            # Without a wasm-bindgen API the linker drops everything: a tiny module that would
            # pass the budget row while saying nothing about the client.
            sys.exit(f"size: {wasm} exports no API function (no wasm-bindgen API in this tree): not measuring it")
        state += f"; {exported} exported API functions"
        how = (
            f"scripts/wasm.py build (wasm-pack --release, opt-level {build.get('opt-level', '?')}, "
            f"target {target}, wasm-opt: {wasm_opt}); {state}"
        )
        return wasm, glue, how

    builds = []
    for index, target in enumerate(targets):
        build_dir = pkg if index == 0 else pkg.with_name(f"{pkg.name}-{target}")
        wasm, glue, how = measure(target, build_dir)
        builds.append((target, build_dir, wasm, glue, how, gzip9(wasm)))
    # The comparisons use the first build (the web package the demo page loads).
    target, pkg, wasm, glue, how, ours_gz = builds[0]

    helios_v = version(js, "@a16z/helios")
    helios_wasm = js / "node_modules/@a16z/helios/pkg/index_bg.wasm"
    helios_mjs = js / "node_modules/@a16z/helios/dist/lib.mjs"
    lc_v = version(js, "@lodestar/light-client")
    lc_bundle = work / "lodestar-light-client.min.js"
    lc_shipped = js / "node_modules/@lodestar/light-client/dist/lightclient.min.mjs"

    ours_raw = wasm.stat().st_size
    # The JS a page loads with it: the wasm-bindgen glue and any snippets it imports.
    scripts = [glue, *sorted((pkg / "snippets").rglob("*.js"))]
    glue_raw = sum(path.stat().st_size for path in scripts)
    glue_gz = sum(gzip9(path) for path in scripts)
    rows = [
        {
            "group": "Size and memory",
            "metric": ".wasm, raw",
            "ours": kb(ours_raw),
            "alternative": f"Helios-wasm @a16z/helios {helios_v} (pkg/index_bg.wasm)",
            "theirs": kb(helios_wasm.stat().st_size),
            "unit": "KB",
            "better": "lower",
            "target": None,
            "note": f"ours: pkg/beacon_p2p_bg.wasm from {how}. Helios's npm entry dist/lib.mjs inlines its wasm as base64: {kb(helios_mjs.stat().st_size)} KB raw, {kb(gzip9(helios_mjs))} KB gzip -9",
        },
        {
            "group": "Size and memory",
            "metric": ".wasm, gzip -9",
            "ours": kb(ours_gz),
            "alternative": f"Helios-wasm @a16z/helios {helios_v} (pkg/index_bg.wasm)",
            "theirs": kb(gzip9(helios_wasm)),
            "unit": "KB",
            "better": "lower",
            "target": None,
            "note": f"ours: {how}",
        },
        {
            "group": "Size and memory",
            "metric": "light client download (ours: .wasm + JS glue and snippets), raw",
            "ours": kb(ours_raw + glue_raw),
            "alternative": f"Lodestar @lodestar/light-client {lc_v} bundled with esbuild (browser, minified)",
            "theirs": kb(lc_bundle.stat().st_size),
            "unit": "KB",
            "better": "lower",
            "target": None,
            "note": f"Lodestar entry: bench/js/lodestar-lc-entry.mjs (README example: Lightclient, REST transport, utils), Node built-ins aliased to an empty module; the package's own dist/lightclient.min.mjs is {kb(lc_shipped.stat().st_size)} KB raw, {kb(gzip9(lc_shipped))} KB gzip -9",
        },
        {
            "group": "Size and memory",
            "metric": "light client download (ours: .wasm + JS glue and snippets), gzip -9",
            "ours": kb(ours_gz + glue_gz),
            "alternative": f"Lodestar @lodestar/light-client {lc_v} bundled with esbuild (browser, minified)",
            "theirs": kb(gzip9(lc_bundle)),
            "unit": "KB",
            "better": "lower",
            "target": None,
            "note": f"ours: {len(scripts)} JS file(s) ({kb(glue_gz)} KB gzipped) + the .wasm, each gzipped separately and summed; Lodestar: one bundle",
        },
    ]
    over = []
    for target, out_dir, build_wasm, _, build_how, gz in builds:
        within = gz / 1000 <= BUDGET_KB
        if not within:
            over.append(f"{target} {kb(gz)} KB")
        rows.append({
            "group": "Size and memory",
            "metric": f".wasm, gzip -9, against the budget ({target} build, {out_dir.name}/)",
            "ours": kb(gz),
            "alternative": "budget",
            "theirs": BUDGET_KB,
            "unit": "KB",
            "better": "lower",
            # ratio = budget / ours: at least 1 means within the budget.
            "target": ">= 1x",
            "note": f"{'within' if within else 'OVER'} budget ({BUDGET_KB} KB); {kb(build_wasm.stat().st_size)} KB raw; {build_how}",
        })
    out.write_text(json.dumps(rows, indent=1) + "\n")
    for row in rows:
        print(f"{row['metric']}: ours {row['ours']} {row['unit']} vs {row['alternative']} {row['theirs']}", file=sys.stderr)
    if over:
        print(f"size: over the {BUDGET_KB} KB budget (gzip -9): {', '.join(over)}", file=sys.stderr)
        sys.exit(OVER_BUDGET_EXIT)


if __name__ == "__main__":
    main()
