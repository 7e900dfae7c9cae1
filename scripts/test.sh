#!/usr/bin/env bash
# Runs every test: formatting and lints for both targets, the native suites (conformance
# vectors, devnet capture, CLI), and the wasm32 suite inside headless Chromium.
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
step "native tests"
cargo test --locked
step "wasm32 tests in headless Chromium"
python3 scripts/wasm.py test
step "wasm release package builds"
python3 scripts/wasm.py build
