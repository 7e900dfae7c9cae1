#!/usr/bin/env python3
"""Turns the runs of bench/parts/decode.sh into rows for bench/table.py.

    decode_rows.py WORK ROUNDS OUT.json

Checks first: every implementation, in every round, returned exactly the roots in
WORK/expected.json (see `bench-decode inputs`: the vectors' spec roots, or for payloads whose
uint64s were reduced, beacon-p2p's root — which makes Lodestar the independent check); exits 1
otherwise. Then pools each implementation's timed passes over all rounds and takes the median.
"""
import json
import os
import statistics
import sys
from pathlib import Path

IMPLS = {
    "native": "beacon-p2p, native",
    "wasm": "beacon-p2p, wasm32 in Node",
    "lodestar": "Lodestar",
    "lodestar-latest": "Lodestar (newest)",
}


def main():
    work, rounds, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    expected = json.loads((work / "expected.json").read_text())
    runs = {impl: [json.loads((work / f"{impl}.{r}.json").read_text()) for r in range(1, rounds + 1)] for impl in IMPLS}

    failures = []
    for impl, impl_runs in runs.items():
        for r, run in enumerate(impl_runs, 1):
            for workload, key in (("updates", "updates_roots"), ("gossip", "gossip_roots")):
                want, got = expected[workload]["roots"], run[key]
                if got != want:
                    bad = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
                    failures.append(f"{impl} round {r} {workload}: {len(got)} roots, first difference at #{bad}")
    if failures:
        sys.exit("decode: ROOTS DIFFER — not writing rows:\n  " + "\n  ".join(failures))

    def median(impl, workload):
        samples = [s for run in runs[impl] for s in run[workload]["samples_ms"]]
        return statistics.median(samples), len(samples)

    node = runs["wasm"][0].get("node", "?")
    load = os.getloadavg()
    lodestars = {
        impl: runs[impl][0]["versions"] for impl in ("lodestar", "lodestar-latest")
    }

    def alt_name(impl):
        v = lodestars[impl]
        return f"Lodestar @lodestar/types {v['@lodestar/types']} (@chainsafe/ssz {v['@chainsafe/ssz']}), Node {node}"

    workloads = {
        "updates": (
            f"updates_by_range response, {expected['updates']['chunks']} electra updates (mainnet), frames+SSZ+hash_tree_root",
            f"one {expected['updates']['bytes']}-byte ssz_snappy stream (3 electra ssz_random LightClientUpdate vectors cycled, "
            "uint64 fields reduced mod 2^32, mainnet electra context bytes); root = hash_tree_root of each whole LightClientUpdate",
        ),
        "gossip": (
            f"{expected['gossip']['messages']} gossip finality updates (electra, mainnet), snappy+SSZ+hash_tree_root",
            f"{expected['gossip']['distinct_messages']} distinct snappy-block payloads from the electra/fulu vectors cycled "
            "(uint64 fields reduced mod 2^32 where larger); "
            "one call per message; root = hash_tree_root of each whole LightClientFinalityUpdate",
        ),
    }
    rows = []
    for workload, (metric, what) in workloads.items():
        for ours_impl, label in (("native", "native"), ("wasm", "wasm32 in Node")):
            ours, n_ours = median(ours_impl, workload)
            for alt in ("lodestar", "lodestar-latest"):
                theirs, n_theirs = median(alt, workload)
                rows.append({
                    "group": "Decoding",
                    "metric": f"{metric} — ours {label}",
                    "ours": round(ours, 3),
                    "alternative": alt_name(alt),
                    "theirs": round(theirs, 3),
                    "unit": "ms",
                    "better": "lower",
                    "target": ">= 3x",
                    "note": (
                        f"median of {n_ours} (ours) / {n_theirs} (theirs) passes over {rounds} rounds in fresh processes, "
                        f"after warm-up; {what}; native, wasm and both Lodestars returned the same roots "
                        f"(each source vector's spec root checked before the uint64 reduction); "
                        f"Lodestar: snappyjs, CRC32C via {runs[alt][0]['crc32c']}, req/resp framing read by bench/js/decode.mjs; "
                        f"load average at the end {load[0]:.2f} on {os.cpu_count()} cores (shared machine)"
                    ),
                })
    out.write_text(json.dumps(rows, indent=1) + "\n")
    for row in rows:
        ratio = row["theirs"] / row["ours"]
        print(f"{row['metric']} vs {row['alternative']}: {row['ours']} vs {row['theirs']} ms ({ratio:.1f}x)", file=sys.stderr)


if __name__ == "__main__":
    main()
