#!/usr/bin/env bash
# Builds what the demo page (www/) needs besides its own files:
#   www/vendor/lodestar-{minimal,mainnet}.js   Lodestar's light client, bundled by www/lodestar/build.mjs
#   www/pkg/                                   the release wasm package, copied from pkg/ with --pkg
# npm ci runs only when www/lodestar/package-lock.json changed (like scripts/setup.sh does for the
# test peer). Both outputs are git-ignored.
#   scripts/www.sh            # Lodestar bundles
#   scripts/www.sh --pkg      # also build the wasm package (scripts/wasm.py build) and copy it to www/pkg
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[www] %s\n' "$*" >&2; }

# shellcheck source=scripts/npm-ci.sh
. scripts/npm-ci.sh

npm_ci www/lodestar
log "bundling Lodestar (www/lodestar/build.mjs)"
node www/lodestar/build.mjs minimal mainnet

if [ "${1:-}" = "--pkg" ]; then
  log "python3 scripts/wasm.py build"
  python3 scripts/wasm.py build
  out=$(python3 -c 'import tomllib; print(tomllib.load(open("wasm-pack.toml","rb")).get("build",{}).get("out-dir","pkg"))')
  rm -rf www/pkg
  mkdir -p www/pkg
  # The whole package: beacon_p2p.js imports its JS snippets (snippets/…) too.
  cp -R "$out"/. www/pkg/
  log "copied $out to www/pkg ($(du -sh www/pkg | awk '{ print $1 }'))"
fi
