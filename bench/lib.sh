# Sourced by bench/parts/*.sh: builds the release binary and the bench tool (once; cargo makes
# the second call a no-op) and exports their paths.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
# Two builds on purpose: the binary exactly as users build it (the example pulls in dev-dependency
# features), then the bench tool.
nice cargo build --release --locked --bin beacon-p2p
nice cargo build --release --locked --example bench
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BEACON_P2P="$target_dir/release/beacon-p2p"
BENCH="$target_dir/release/examples/bench"
export BEACON_P2P BENCH
mkdir -p bench/out
