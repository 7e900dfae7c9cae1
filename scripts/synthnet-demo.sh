#!/usr/bin/env bash
# The demo page on synthnet (tests/data/synthnet: a signed mainnet-shaped chain), with all three
# panels live: the test peer replays it from a minute before its last new finalized header, the
# bridge runs on mainnet with the same shifted clock, and the page (?replay) adopts that clock so
# Lodestar and Helios accept the data. The stream lasts about seven minutes; after that Helios
# reports its head as too old. Stops the peer when the bridge exits (Ctrl-C).
#   bash scripts/synthnet-demo.sh            # then open the URL it prints
# env: PORT (default 8080)
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8080}

bash scripts/setup.sh
bash scripts/www.sh --pkg
cargo build --release --locked --bin beacon-p2p >&2

start=$(python3 - <<'PY'
import json
meta = json.load(open("tests/data/synthnet/meta.json"))
arrivals = json.load(open("tests/data/synthnet/arrivals.json"))
print(meta["genesis_time"] + [a for a in arrivals if a.get("new_finalized")][-1]["t"] - 60)
PY
)
checkpoint=$(python3 -c 'import json; print(json.load(open("tests/data/synthnet/meta.json"))["checkpoint_root"])')

out=$(mktemp)
node tests/peer/peer.mjs --data tests/data/synthnet --clock-start "$start" --port 0 --muxers mplex >"$out" &
peer_pid=$!
trap 'kill "$peer_pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do
  [ -s "$out" ] && break
  sleep 0.1
done
multiaddr=$(head -n 1 "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["multiaddr"])')

printf '\nopen http://127.0.0.1:%s/?replay&checkpoint=%s\n\n' "$port" "$checkpoint" >&2
target/release/beacon-p2p bridge --network mainnet --clock-start "$start" --listen "127.0.0.1:$port" \
  --no-discovery --allow-private --peer "$multiaddr" --www www
