#!/usr/bin/env bash
# Runs every test: formatting and lints for both targets, the test peer's self-test, the native
# suites (conformance vectors, devnet capture, CLI, the p2p client against the js-libp2p test
# peer, the bridge and its relay), the wasm32 suites inside headless Chromium (codec tests, and
# the browser client through a bridge to the test peer: scripts/wasm.py test starts both), and the
# release npm package in a page (scripts/browser-test.sh: the demo page, Lodestar verifying). The
# 30-minute soak, the bridge measurements and the comparisons (bench/run.sh) are separate:
#   SOAK_SECONDS=1800 cargo test --release --test soak -- --ignored --nocapture
#   cargo test --test bridge_bench -- --ignored --nocapture
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

step() { printf '\n== %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (native)"
cargo clippy --all-targets --locked -- -D warnings
step "cargo clippy (wasm32)"
cargo clippy --all-targets --locked --target wasm32-unknown-unknown -- -D warnings
step "test peer self-test (js-libp2p fixture against the conformance vectors)"
(cd tests/peer && node selftest.mjs)
step "native tests (conformance, devnet capture, CLI, p2p and bridge against the test peer)"
cargo test --locked
step "wasm32 tests in headless Chromium"
python3 scripts/wasm.py test
step "release package in the browser: the demo page against a bridge and the test peer, Lodestar verifying"
bash scripts/browser-test.sh
