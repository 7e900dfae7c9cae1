#!/usr/bin/env bash
# Download size: our release .wasm (scripts/wasm.py build → pkg/) against Helios-wasm
# (@a16z/helios) and Lodestar's light client bundled for the browser (esbuild, minified).
# Writes bench/out/size.json (rows for bench/table.py): a budget row per build (web, bundler), and
# exits 3 (bench/run.sh: over budget, rows kept) when a .wasm is over size_rows.py's BUDGET_KB.
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(dirname "$BENCH")"
OUT="$BENCH/out"
WORK="$OUT/size"
log() { echo "[size] $*" >&2; }
mkdir -p "$WORK"
started=$(date +%s)

log "building our release package (python3 scripts/wasm.py build)"
(cd "$ROOT" && nice python3 scripts/wasm.py build) >&2
if [ ! -d "$BENCH/js/node_modules" ]; then
  log "npm ci in bench/js"
  (cd "$BENCH/js" && npm ci --no-audit --no-fund) >&2
fi

log "bundling @lodestar/light-client for the browser with esbuild (minified)"
# Node built-ins only reached on Node code paths (native BLS, Node's EventSource, file diffs)
# are replaced by an empty module, as browser bundlers do.
aliases=()
for builtin in crypto fs path url events https http util node:fs; do
  aliases+=("--alias:$builtin=./shims/empty.cjs")
done
(cd "$BENCH/js" && node_modules/.bin/esbuild lodestar-lc-entry.mjs --bundle --minify \
  --platform=browser --format=esm --log-level=warning "${aliases[@]}" \
  --outfile="$WORK/lodestar-light-client.min.js") >&2

status=0
python3 "$BENCH/lib/size_rows.py" "$ROOT" "$WORK" "$OUT/size.json" || status=$?
log "done in $(( $(date +%s) - started )) s (status $status)"
exit "$status"
