#!/usr/bin/env bash
# Sources: a Beacon-API source beside the peers — its cost when peers are healthy (p2p first, the
# default) and calls after the peer vanished, vs p2p alone and the Beacon API alone
# (bench/sources.rs). Writes bench/out/sources.json.
# shellcheck disable=SC1091
. "$(dirname "$0")/../lib.sh"
"$BENCH" sources --out bench/out/sources.json "$@"
