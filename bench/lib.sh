# Sourced by bench/parts/*.sh: builds the release binary and the bench tool (once; cargo makes
# the second call a no-op) and exports their paths.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
# The binary exactly as users build it. The bench tool (an example: it pulls in dev-dependency
# features, e.g. libp2p's WebSocket transport) gets a target directory of its own: the crate's
# cdylib has the same file name whatever the features, so sharing one directory would rebuild
# the crate on every alternation. The first run therefore builds the dependencies twice.
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
nice cargo build --release --locked --bin beacon-p2p
CARGO_TARGET_DIR="$target_dir/bench-tool" nice cargo build --release --locked --example bench
BEACON_P2P="$target_dir/release/beacon-p2p"
BENCH="$target_dir/bench-tool/release/examples/bench"
export BEACON_P2P BENCH
mkdir -p bench/out
