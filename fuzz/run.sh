#!/usr/bin/env bash
# Runs fuzz targets one after another, never in parallel (one core), each for FUZZ_SECONDS,
# with the limits the targets are meant to hold to. A crash, leak or oversize allocation stops
# only that target's run: its artifact lands in fuzz/artifacts/<target>/ and the next target
# starts. Logs: fuzz/artifacts/logs/<target>.log; final stats lines: fuzz/artifacts/logs/summary.txt.
#
# Usage: fuzz/run.sh [target ...]          (default: every target, from `cargo fuzz list`)
# Env:   FUZZ_SECONDS  seconds per target (default 600)
#        NO_BUILD=1    use the binaries already built (don't rebuild from the current src/)
set -uo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$FUZZ_DIR")"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-600}"
BIN_DIR="$FUZZ_DIR/target/x86_64-unknown-linux-gnu/release"
LOG_DIR="$FUZZ_DIR/artifacts/logs"

cd "$REPO_DIR"
if [ "${NO_BUILD:-0}" != 1 ]; then
    cargo +nightly fuzz build || exit 1
fi
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

mkdir -p "$LOG_DIR"
for target in "${targets[@]}"; do
    max_len=4000000
    # The p2p messages are at most a few hundred bytes.
    [ "$target" = ssz_p2p_messages ] && max_len=100000
    mkdir -p "$FUZZ_DIR/corpus/$target" "$FUZZ_DIR/artifacts/$target"
    echo "=== $target: ${SECONDS_PER_TARGET}s, max_len=$max_len ($(date -u +%FT%TZ))"
    "$BIN_DIR/$target" \
        -max_total_time="$SECONDS_PER_TARGET" \
        -rss_limit_mb=2048 \
        -malloc_limit_mb=64 \
        -max_len="$max_len" \
        -print_final_stats=1 \
        -artifact_prefix="$FUZZ_DIR/artifacts/$target/" \
        "$FUZZ_DIR/corpus/$target" >"$LOG_DIR/$target.log" 2>&1
    status=$?
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$LOG_DIR/$target.log" | tail -1)"
    last_line="$(grep -E '^#[0-9]+[[:space:]]+(pulse|NEW|REDUCE|INITED)' "$LOG_DIR/$target.log" | tail -1)"
    echo "$target exit=$status ${done_line:-"(no DONE line; last: $last_line)"}" | tee -a "$LOG_DIR/summary.txt"
    if [ "$status" -ne 0 ]; then
        grep -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY|Test unit written' \
            "$LOG_DIR/$target.log" | head -8
    fi
done
