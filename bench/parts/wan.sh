#!/usr/bin/env bash
# Getting data over a WAN-like link: page start → first finality update and → first verified head
# (ours, Lodestar's light client, Helios-wasm), p2p through the bridge vs the same consumers on the
# Beacon REST API, with delay proxies adding RTT 0/20/50/100 ms (bench/js/wan.mjs). Writes
# bench/out/wan.json.
# Knobs (environment): WAN_RTTS (0,20,50,100), WAN_RUNS (3), WAN_PEER_RTT_MS (2).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
# Only the release binary, as users build it (not the bench tool: nothing here needs it).
nice cargo build --release --locked --bin beacon-p2p
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BEACON_P2P="$target_dir/release/beacon-p2p"
# shellcheck source=scripts/npm-ci.sh
. scripts/npm-ci.sh
npm_ci tests/peer
npm_ci tests/browser
echo "[wan] the release wasm package and the Lodestar/Helios bundles (scripts/www.sh --pkg)" >&2
nice bash scripts/www.sh --pkg >&2
mkdir -p bench/out/wan
rm -rf bench/out/wan/traces
node bench/js/wan.mjs --out bench/out/wan/measured.json --trace-dir bench/out/wan/traces --bridge "$BEACON_P2P" \
  --rtt "${WAN_RTTS:-0,20,50,100}" --runs "${WAN_RUNS:-3}" --peer-rtt-ms "${WAN_PEER_RTT_MS:-2}"
python3 bench/lib/wan_rows.py bench/out/wan/measured.json bench/out/wan.json
