#!/usr/bin/env bash
# Verification cost: beacon-p2p's light-client store (native, and wasm32 in Chromium as shipped:
# opt-level z + wasm-opt -Oz, plus an opt-level 3 build) against Lodestar's light client (Node
# with blst-native; Chromium with the demo page's bundle and its herumi BLS), on the same captures
# in the same order: synthnet (mainnet preset, 512-key committees, electra → fulu → BPO1) and the
# devnet capture (minimal preset, 32 keys). Writes bench/out/verify.json (rows for
# bench/table.py). Fails when an implementation does not reach the heads the others reach.
#
# Knobs (environment): VERIFY_ROUNDS (5) replays per implementation, each from a fresh store.
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$BENCH/.."
OUT="$BENCH/out"
WORK="$OUT/verify"
CRATE="$BENCH/verify-harness"
ROUNDS="${VERIFY_ROUNDS:-5}"
log() { echo "[verify] $*" >&2; }
mkdir -p "$WORK"
rm -f "$WORK"/*.json
started=$(date +%s)

# shellcheck source=scripts/npm-ci.sh
. "$ROOT/scripts/npm-ci.sh"
npm_ci "$ROOT/tests/peer"
npm_ci "$ROOT/tests/browser"
log "Lodestar's browser bundles (scripts/www.sh)"
bash "$ROOT/scripts/www.sh"

cp "$ROOT/Cargo.lock" "$CRATE/Cargo.lock"
log "building the native harness (release)"
(cd "$CRATE" && nice cargo build --release --bin bench-verify)
log "building the wasm module as shipped (opt-level z, then wasm-opt as wasm-pack.toml says)"
wasm_opt_args=$(python3 -c 'import tomllib; print(" ".join(tomllib.load(open("'"$ROOT"'/wasm-pack.toml","rb"))["build"]["wasm-opt"]))')
(cd "$CRATE" && CARGO_PROFILE_RELEASE_OPT_LEVEL=z nice wasm-pack build --release --target web --mode no-install --out-dir pkg-z)
# shellcheck disable=SC2086
"$ROOT/scripts/npm/node_modules/.bin/wasm-opt" $wasm_opt_args "$CRATE/pkg-z/beacon_p2p_bench_verify_bg.wasm" \
  -o "$CRATE/pkg-z/beacon_p2p_bench_verify_bg.wasm"
log "building the wasm module for speed (opt-level 3, no wasm-opt)"
(cd "$CRATE" && nice wasm-pack build --release --target web --mode no-install --out-dir pkg-3)

target_dir=$(cd "$CRATE" && cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
HARNESS="$target_dir/release/bench-verify"

while read -r name dir preset checkpoint; do
  data="$ROOT/tests/data/$dir"
  "$HARNESS" order --data "$data" --checkpoint "$checkpoint" > "$WORK/$name.order.json"
  log "$name: beacon-p2p native, $ROUNDS rounds"
  "$HARNESS" run --data "$data" --checkpoint "$checkpoint" --rounds "$ROUNDS" > "$WORK/$name.native.json"
  log "$name: Lodestar in Node (tests/peer/lodestar-sync.mjs, one replay)"
  node "$ROOT/tests/peer/lodestar-sync.mjs" --data "$data" --checkpoint "$checkpoint" | tail -n 1 > "$WORK/$name.lodestar-node.json"
  log "$name: beacon-p2p wasm (both builds) and Lodestar in Chromium, $ROUNDS rounds each"
  node "$BENCH/js/verify.mjs" --data "$data" --checkpoint "$checkpoint" --order "$WORK/$name.order.json" \
    --rounds "$ROUNDS" --preset "$preset" --impl "$CRATE/pkg-z" --impl "$CRATE/pkg-3" --impl lodestar \
    > "$WORK/$name.chromium.json"
done <<'DATASETS'
synthnet synthnet mainnet 0x566d487e54840062b59797f748ac8b9d84086dbe8be42c1e4fe5e3d01a7b5adf
devnet devnet-capture minimal 0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5
DATASETS

python3 "$BENCH/lib/verify_rows.py" "$WORK" "$CRATE" "$OUT/verify.json"
log "done in $(( $(date +%s) - started )) s"
