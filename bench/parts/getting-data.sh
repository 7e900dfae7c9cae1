#!/usr/bin/env bash
# Getting data: p2p through the bridge's relay vs the same peer's Beacon REST API
# (bench/README.md). Writes bench/out/getting-data.json.
# shellcheck disable=SC1091
. "$(dirname "$0")/../lib.sh"
"$BENCH" getting-data --bridge "$BEACON_P2P" --out bench/out/getting-data.json "$@"
