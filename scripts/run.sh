#!/usr/bin/env bash
# The main job. Builds the release `beacon-p2p` binary and runs it with the given arguments.
# With none, it starts the bridge on mainnet (discv5 from the network's bootnodes, the restricted
# relay, the Beacon-API light-client routes over p2p) and serves the demo page (www/, with the
# release wasm package and Lodestar's light client built into it) on http://127.0.0.1:8080/.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
if [ $# -eq 0 ]; then
  # The demo page needs the release wasm package and Lodestar's bundle in www/.
  bash scripts/setup.sh
  bash scripts/www.sh --pkg
  set -- bridge --network mainnet --listen 127.0.0.1:8080 --www www
fi
cargo build --release --locked --bin beacon-p2p >&2
exec target/release/beacon-p2p "$@"
