#!/usr/bin/env bash
# Installs what building and testing beacon-p2p needs on a Debian 12 machine, reusing whatever
# is already installed: the wasm32 target, wasm-pack, the wasm-bindgen CLI that matches
# Cargo.lock, Chromium and its WebDriver, Node and the test peer's npm packages.
# Safe to run again; prints what it does.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
command -v cargo >/dev/null 2>&1 || { log "cargo not found: install Rust with rustup first"; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: the browser and driver for the wasm tests, a C toolchain for crates with
# build scripts, python3 for scripts/wasm.py.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v wasm-pack >/dev/null 2>&1; then
  log "cargo install wasm-pack (a few minutes, once)"
  cargo install wasm-pack --locked
fi

# The CLI must be exactly the wasm-bindgen version the crate links.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ -z "$want" ]; then
  log "Cargo.lock names no wasm-bindgen"; exit 1
fi
if [ "$have" != "$want" ]; then
  log "cargo install wasm-bindgen-cli $want (have: ${have:-none}; a few minutes, once)"
  cargo install wasm-bindgen-cli --version "=$want" --locked --force
fi

# The CL test peer (js-libp2p) the integration tests run: installed from its lockfile, again
# only when the lockfile changed.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  log "warning: Node $(node --version) found; the test peer's packages are checked on Node 20"
fi
# shellcheck source=scripts/npm-ci.sh
. scripts/npm-ci.sh
npm_ci tests/peer
# npm binaryen (wasm-opt) for the release package.
npm_ci scripts/npm

log "ready: $(cargo --version), wasm-pack $(wasm-pack --version | awk '{print $2}'), wasm-bindgen $want, $(chromium --version 2>/dev/null | head -1), node $(node --version)"
