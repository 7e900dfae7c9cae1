#!/usr/bin/env bash
# Profile of our slowest path (the 128-update updates_by_range stream: framing + SSZ +
# hash_tree_root) and the hashing experiment. Run bench/parts/decode.sh first: it builds the
# harness and the wasm module and writes the inputs to bench/out/decode/.
#
# Writes, next to this script:
#   updates_by_range.callgrind.txt  callgrind_annotate, exclusive and inclusive (valgrind has no
#                                   SHA-NI, so sha2 runs its portable code, as in wasm32)
#   updates_by_range.perf.txt       perf (cpu-clock, DWARF call graphs) on the real CPU: flat
#                                   profile and the inclusive call tree
#   updates_by_range.folded         the perf stacks folded (flamegraph.pl / inferno / speedscope)
#   hashing.json                    the hashing experiment, native and wasm32 in Node
#                                   (HASHING_REPS rounds, default 41)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH="$(dirname "$HERE")"
WORK="$BENCH/out/decode"
RAW="$BENCH/out/profile"
target_dir=$(cd "$BENCH/decode-wasm" && cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
HARNESS="$target_dir/release/bench-decode"
mkdir -p "$RAW"
# First $1 lines, reading all input (head would end the pipe early and trip pipefail).
top() { awk -v n="$1" 'NR <= n'; }
[ -x "$HARNESS" ] && [ -f "$WORK/updates_stream.bin" ] || { echo "run bench/parts/decode.sh first" >&2; exit 1; }

# callgrind: 3 passes over the stream.
valgrind --tool=callgrind --callgrind-out-file="$RAW/updates.callgrind" \
  "$HARNESS" profile "$WORK" updates 3 2> "$RAW/callgrind.log"
{
  echo "# callgrind, 3 passes of the 128-update stream (bench-decode profile DIR updates 3)"
  echo "# exclusive instructions per function"
  callgrind_annotate --threshold=98 "$RAW/updates.callgrind" | sed -n '/^Ir/,$p' | top 40
  echo
  echo "# inclusive"
  callgrind_annotate --inclusive=yes --threshold=99 "$RAW/updates.callgrind" | sed -n '/^Ir/,$p' | top 45
} > "$HERE/updates_by_range.callgrind.txt"

if command -v perf >/dev/null && perf record -e cpu-clock -o "$RAW/perf.probe" true 2>/dev/null; then
  perf record -e cpu-clock -F 2000 --call-graph dwarf -o "$RAW/perf.data" \
    "$HARNESS" profile "$WORK" updates 20 2> "$RAW/perf.log"
  {
    echo "# perf record -e cpu-clock -F 2000 --call-graph dwarf, 20 passes of the 128-update stream"
    echo "# flat (self time)"
    perf report -i "$RAW/perf.data" --stdio --no-children --sort dso,symbol -g none 2>/dev/null | grep '%' | top 30 | cut -c1-150
    echo
    echo "# inclusive (children)"
    perf report -i "$RAW/perf.data" --stdio --children --sort symbol -g none 2>/dev/null | grep '%' | top 45 | cut -c1-170
  } > "$HERE/updates_by_range.perf.txt"
  perf script -i "$RAW/perf.data" 2>/dev/null | python3 "$HERE/fold.py" > "$HERE/updates_by_range.folded"
else
  echo "perf unavailable: skipping the perf profile" >&2
fi

native=$("$HARNESS" hashing "$WORK" --reps "${HASHING_REPS:-41}")
wasm=$(node "$BENCH/js/hashing.mjs" --dir "$WORK" --reps "${HASHING_REPS:-41}")
printf '[%s,\n%s]\n' "$native" "$wasm" > "$HERE/hashing.json"
cat "$HERE/hashing.json"
