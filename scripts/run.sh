#!/usr/bin/env bash
# The main job. Builds the release `beacon-p2p` binary and runs it with the given arguments.
# With none, it decodes the finality update that a Lodestar node served over libp2p in the
# recorded devnet (tests/data/devnet-capture) and prints it as Beacon-API JSON.
# (Once `beacon-p2p bridge` exists, running it with no arguments will start the bridge and
# serve the demo page.)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
cargo build --release --locked --bin beacon-p2p >&2
if [ $# -eq 0 ]; then
  set -- ssz decode --type LightClientFinalityUpdate --fork deneb --preset minimal \
    tests/data/devnet-capture/p2p/finality_update_0.ssz
fi
exec target/release/beacon-p2p "$@"
