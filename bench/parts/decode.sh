#!/usr/bin/env bash
# Decoding speed: beacon-p2p (native, and wasm32 in Node) against Lodestar's decoder, on the same
# bytes, with the same work: frames/snappy + SSZ + hash_tree_root of every object.
# Writes bench/out/decode.json (rows for bench/table.py). Fails if any implementation's roots
# differ from the others' or from the conformance vectors' roots.
#
# Knobs (environment): DECODE_ROUNDS (3) rounds, each running every implementation once in a
# fresh process with DECODE_WARMUP (5) untimed then DECODE_REPS (11) timed passes; DECODE_GOSSIP
# (1000) gossip messages.
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$BENCH/out"
WORK="$OUT/decode"
CRATE="$BENCH/decode-wasm"
ROUNDS="${DECODE_ROUNDS:-3}"
REPS="${DECODE_REPS:-11}"
WARMUP="${DECODE_WARMUP:-5}"
GOSSIP="${DECODE_GOSSIP:-1000}"
log() { echo "[decode] $*" >&2; }
mkdir -p "$WORK"
started=$(date +%s)

# The bench crate takes the main crate's dependency versions: its lock file starts as a copy of
# the repository's Cargo.lock, to which cargo adds only the bench crate itself.
cp "$BENCH/../Cargo.lock" "$CRATE/Cargo.lock"
log "building the native harness (release)"
(cd "$CRATE" && nice cargo build --release --bin bench-decode)
log "building the wasm module (wasm-pack --release --target nodejs, opt-level 3, no wasm-opt)"
(cd "$CRATE" && nice wasm-pack build --release --target nodejs --mode no-install --out-dir pkg)
for dir in js js-latest; do
  if [ ! -d "$BENCH/$dir/node_modules" ]; then
    log "npm ci in bench/$dir"
    (cd "$BENCH/$dir" && npm ci --no-audit --no-fund)
  fi
done

target_dir=$(cd "$CRATE" && cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
HARNESS="$target_dir/release/bench-decode"
"$HARNESS" inputs "$WORK" --gossip "$GOSSIP"
export LODESTAR_PRESET=mainnet
for round in $(seq 1 "$ROUNDS"); do
  log "round $round/$ROUNDS: native"
  "$HARNESS" run "$WORK" --warmup "$WARMUP" --reps "$REPS" > "$WORK/native.$round.json"
  log "round $round/$ROUNDS: wasm in Node"
  node "$BENCH/js/decode.mjs" --impl wasm --dir "$WORK" --warmup "$WARMUP" --reps "$REPS" > "$WORK/wasm.$round.json"
  log "round $round/$ROUNDS: Lodestar (bench/js)"
  node "$BENCH/js/decode.mjs" --impl lodestar --dir "$WORK" --warmup "$WARMUP" --reps "$REPS" > "$WORK/lodestar.$round.json"
  log "round $round/$ROUNDS: Lodestar (bench/js-latest)"
  node "$BENCH/js/decode.mjs" --impl lodestar --deps "$BENCH/js-latest/lodestar-deps.mjs" \
    --dir "$WORK" --warmup "$WARMUP" --reps "$REPS" > "$WORK/lodestar-latest.$round.json"
done

python3 "$BENCH/lib/decode_rows.py" "$WORK" "$ROUNDS" "$OUT/decode.json"
log "done in $(( $(date +%s) - started )) s"
