#!/usr/bin/env python3
"""Turns the runs of bench/parts/verify.sh into rows for bench/table.py.

    verify_rows.py WORK CRATE OUT.json

Checks first: on each capture, every implementation (beacon-p2p native and both wasm builds,
Lodestar in Node and in Chromium) reached the same finalized and optimistic slots and verified
the same number of objects completely; exits 1 otherwise. Then one row per capture, kind and
pairing: ours native vs Lodestar in Node, each of our wasm builds vs Lodestar in Chromium.
"""
import gzip
import json
import os
import sys
from pathlib import Path

DATASETS = {
    "synthnet": "synthnet (mainnet preset, 512 keys)",
    "devnet": "devnet capture (minimal preset, 32 keys)",
}
KINDS = {
    "update": "per-period update (first use of its committee: keys decompressed)",
    "finality_update": "finality update",
}
BUILDS = {
    "pkg-z": "wasm32 in Chromium as shipped (opt-level z, wasm-opt -Oz)",
    "pkg-3": "wasm32 in Chromium, opt-level 3",
}


def main():
    work, crate, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    rows, failures = [], []
    for name, label in DATASETS.items():
        native = json.loads((work / f"{name}.native.json").read_text())
        node = json.loads((work / f"{name}.lodestar-node.json").read_text())
        chromium = {}
        for line in (work / f"{name}.chromium.json").read_text().splitlines():
            result = json.loads(line)
            chromium[result.get("build", "lodestar")] = result
        # Heads must agree everywhere. The number of objects verified completely agrees within
        # each family only: the spec (and beacon-p2p) refuses an update that is not relevant
        # (attested slot <= the store's finalized slot) before its signature is checked, while
        # Lodestar checks the signature first and then leaves the store unchanged.
        reached = {
            "beacon-p2p native": (native["finalized"], native["optimistic"], "ours", native["verified"]),
            "Lodestar Node": (node["finalized"]["slot"], node["optimistic"]["slot"], "lodestar", node["verified"]),
        }
        for key, result in chromium.items():
            family = "lodestar" if key == "lodestar" else "ours"
            reached[result["impl"]] = (result["finalized"], result["optimistic"], family, result["verified"])
        if len({(f, o) for f, o, _, _ in reached.values()}) != 1 or len(set((fam, v) for _, _, fam, v in reached.values())) != 2:
            failures.append(f"{name}: implementations disagree (finalized, optimistic, family, verified): {reached}")
            continue
        finalized, optimistic, _, _ = next(iter(reached.values()))
        verified = {fam: v for _, _, fam, v in reached.values()}
        agreed = (f"all five reached finalized {finalized} / optimistic {optimistic}; objects verified completely "
                  f"(signature included): {verified['ours']} by beacon-p2p, {verified['lodestar']} by Lodestar "
                  "(which checks the signature of updates the spec refuses earlier as not relevant)")
        load = os.getloadavg()
        common = (f"mean per processing call over the calls that verified completely, each object at its signature slot + 1, "
                  f"JSON decoded before the clock; {agreed}; load average {load[0]:.2f} on {os.cpu_count()} cores")
        lodestar = chromium["lodestar"]
        for kind, what in KINDS.items():
            rows.append({
                "group": "Verification",
                "metric": f"{label}: {what} — ours native",
                "ours": native["ms_by_kind"][kind],
                "alternative": f"Lodestar 1.28.1 light client, Node {node.get('bls', '?')}",
                "theirs": node["ms_by_kind"][kind],
                "unit": "ms",
                "better": "lower",
                "target": None,
                "note": f"ours: median of {native['rounds']} replays; Lodestar: one replay (tests/peer/lodestar-sync.mjs); {common}",
            })
            for build, build_label in BUILDS.items():
                ours = chromium[build]
                wasm = crate / build / "beacon_p2p_bench_verify_bg.wasm"
                size = f"{len(gzip.compress(wasm.read_bytes(), 9)):,} B gzipped harness module" if wasm.exists() else "size unknown"
                rows.append({
                    "group": "Verification",
                    "metric": f"{label}: {what} — ours {build_label}",
                    "ours": ours["ms_by_kind"][kind],
                    "alternative": "Lodestar 1.28.1 light client in Chromium (the demo page's bundle, herumi BLS wasm)",
                    "theirs": lodestar["ms_by_kind"][kind],
                    "unit": "ms",
                    "better": "lower",
                    "target": None,
                    "note": f"median of {ours['rounds']} replays each, a fresh page per implementation ({size}); {common}",
                })
    if failures:
        sys.exit("verify: " + "\n  ".join(failures))
    out.write_text(json.dumps(rows, indent=1))
    print(f"verify: {len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
