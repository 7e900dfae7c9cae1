#!/usr/bin/env bash
# Browser tests of the release artifacts in headless Chromium (tests/browser/):
#   1. lodestar-bundle.mjs: both Lodestar bundles load and run their preset; the page's Lodestar and
#      replay logic verify the devnet capture (no wasm, no bridge).
#   2. demo.mjs: the js-libp2p test peer replaying the capture, the release bridge serving www/ with
#      the release wasm package, the demo page at /?replay: finalized header, gossip, Lodestar
#      verifying the head. Screenshot in tests/browser/out/demo.png.
#   3. helios.mjs: the test peer replaying synthnet (signed, mainnet-shaped) on a shifted clock, the
#      bridge on mainnet, the demo page with Helios (@a16z/helios, unmodified) fed only by the wasm
#      client and Lodestar on the same run; Helios against the peer's REST API for comparison.
#      Screenshot in tests/browser/out/helios.png.
# Builds what they need first: npm ci's (only when a lockfile changed), the Lodestar bundles and the
# release wasm package into www/ (scripts/www.sh --pkg), the release beacon-p2p binary.
# env: BROWSER_SOAK_SECONDS=600 keeps the demo page open that long and prints its memory;
#      BROWSER_TEST_LOG=1 shows the peer's, bridge's and page's logs.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[browser-test] %s\n' "$*" >&2; }

bash scripts/setup.sh

# shellcheck source=scripts/npm-ci.sh
. scripts/npm-ci.sh
npm_ci tests/browser

bash scripts/www.sh --pkg

log "cargo build --release --bin beacon-p2p"
cargo build --release --locked --bin beacon-p2p

log "Lodestar bundles in Chromium"
node tests/browser/lodestar-bundle.mjs
log "demo page end to end"
node tests/browser/demo.mjs
log "Helios fed by the wasm client (synthnet, mainnet)"
node tests/browser/helios.mjs
