#!/usr/bin/env bash
# Builds what the demo page (www/) needs besides its own files:
#   www/vendor/lodestar-{minimal,mainnet}.js   Lodestar's light client, bundled by www/lodestar/build.mjs
#   www/vendor/helios.mjs                      Helios (@a16z/helios, www/helios): its own ES module, wasm inlined
#   www/pkg/                                   the release wasm package, copied from pkg/ with --pkg
# npm ci runs only when a package-lock.json (www/lodestar, www/helios) changed (like scripts/setup.sh does for the
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
npm_ci www/helios
# Helios's published dist/lib.mjs already bundles its dependencies and its wasm (a data: URL), so
# it is served as it is, unmodified.
mkdir -p www/vendor
cp www/helios/node_modules/@a16z/helios/dist/lib.mjs www/vendor/helios.mjs
log "copied Helios $(node -p 'require("./www/helios/node_modules/@a16z/helios/package.json").version') to www/vendor/helios.mjs"

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
