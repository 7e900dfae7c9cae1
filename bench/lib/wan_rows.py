#!/usr/bin/env python3
"""Turns what bench/js/wan.mjs measured into rows (bench/README.md) for bench/table.py.

    wan_rows.py WAN.json OUT.json

Per RTT: the first finality update from page start (ours over p2p vs a plain fetch of the REST
API), the first verified head per consumer (ours `sync`, Lodestar, Helios; p2p vs the same
consumer over REST), and the round trips the page waited for on the way (counted from the delay
proxies' traces, `critical`: answers on connections in flight at the same time count once).
Medians over the runs; each note lists the phases (median ms, round trips through the bridge /
the REST API / the bridge's leg to the peer).
"""
import json
import statistics
import sys

GROUP = "Getting data"
GOAL_RTT = 50  # the goal: first verified head <= 1.5x the REST path at 50 ms RTT
CONSUMERS = {
    "ours": "ours (BeaconP2P.sync: bootstrap, updates, our light-client store)",
    "lodestar": "Lodestar's light client (initializeFromCheckpointRoot + start)",
    "helios": "Helios-wasm 0.11.1 (createHeliosProvider + waitSynced)",
}


def median(values):
    return statistics.median(values) if values else float("nan")


def cells(data, rtt, consumer, path):
    return [c for c in data["cells"] if c["rtt"] == rtt and c["consumer"] == consumer and c["path"] == path]


def phase_summary(runs):
    """'wasm 310 ms (A 3, C 0, B 0) → connected …' from the medians of each phase over runs."""
    if not runs:
        return "no run"
    names = [p["name"] for p in runs[0]["phases"]]
    parts = []
    for name in names:
        phases = [p for r in runs for p in r["phases"] if p["name"] == name]
        ms = median([p["ms"] for p in phases])
        rt = {leg: round(median([p[leg]["critical"] for p in phases])) for leg in ("bridge", "rest", "peer")}
        parts.append(f"{name} {ms:.0f} ms (round trips: bridge {rt['bridge']}, REST {rt['rest']}, peer leg {rt['peer']})")
    return " → ".join(parts)


def waited(runs, until):
    """Median round trips the page waited for up to and including phase `until` (all legs the
    browser sees: bridge and REST)."""
    totals = []
    for run in runs:
        total = 0
        for phase in run["phases"]:
            total += phase["bridge"]["critical"] + phase["rest"]["critical"]
            if phase["name"] == until:
                break
        totals.append(total)
    return median(totals)


def time_row(metric, mark, ours, theirs, alternative, target, note):
    """A row of the median time (ms from page start) to `mark`, ours vs theirs."""
    return {
        "group": GROUP,
        "metric": metric,
        "ours": round(median([c["marks"][mark] for c in ours]), 1),
        "alternative": alternative,
        "theirs": round(median([c["marks"][mark] for c in theirs]), 1),
        "unit": "ms", "better": "lower", "target": target,
        "note": note,
    }


def main():
    data = json.load(open(sys.argv[1]))
    rows = []
    for rtt in data["rtts"]:
        ours = cells(data, rtt, "ours", "p2p")
        fetch = cells(data, rtt, "fetch", "rest")
        if ours and fetch:
            rows.append(time_row(
                f"first finality update from page start, RTT {rtt} ms", "finality", ours, fetch,
                "fetch() of the same peer's Beacon REST API (JSON)", None,
                f"ours: wasm load, /peers, WebSocket through the bridge's relay, noise, muxer, Status, request; "
                f"bridge↔peer leg {data['peerRttMs']} ms RTT; median of {len(ours)}/{len(fetch)}; "
                f"ours: {phase_summary(ours)}; REST: {phase_summary(fetch)}",
            ))
        for consumer, name in CONSUMERS.items():
            p2p, rest = cells(data, rtt, consumer, "p2p"), cells(data, rtt, consumer, "rest")
            if not p2p or not rest:
                continue
            rows.append(time_row(
                f"first verified head from page start, RTT {rtt} ms — {name}", "verified", p2p, rest,
                "the same consumer on the peer's Beacon REST API", "<= 1.5x" if rtt == GOAL_RTT else None,
                f"synthnet checkpoint → 9 periods; median of {len(p2p)}/{len(rest)}; "
                f"p2p: {phase_summary(p2p)}; REST: {phase_summary(rest)}",
            ))
            if rtt == 0:
                # Without delay the two directions' chunks interleave freely: the trace cannot
                # tell a wait for an answer from traffic that merely crossed.
                continue
            rows.append({
                "group": GROUP,
                "metric": f"round trips waited for until the verified head, RTT {rtt} ms — {consumer}",
                "ours": waited(p2p, "verified"),
                "alternative": "the same consumer on the peer's Beacon REST API",
                "theirs": waited(rest, "verified"),
                "unit": "round trips", "better": "lower", "target": None,
                "note": "counted from the delay proxies' traces (bench/js/delay-proxy.mjs roundTrips, critical): "
                        "the browser's legs (to the bridge and to the REST API), a TCP handshake counting one; "
                        "page, glue and .wasm downloads included; over p2p, gossip and pings on the "
                        "connection count too; median of the runs",
            })
    json.dump(rows, open(sys.argv[2], "w"), indent=1)


if __name__ == "__main__":
    main()
