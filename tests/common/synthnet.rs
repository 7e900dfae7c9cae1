//! The synthnet (a signed mainnet-shaped chain, `tests/data/synthnet`): where it is, its clock,
//! a test peer replaying it and a client on its network and clock.

use std::path::PathBuf;
use std::time::Duration;

use beacon_p2p::chain::{Clock, Network};
use beacon_p2p::client::{Client, Config};
use beacon_p2p::primitives::Root;

use super::peer::TestPeer;
use super::{data_dir, read_json};

/// The checkpoint the synthnet's light-client data starts from.
pub const CHECKPOINT_ROOT: &str =
    "0x566d487e54840062b59797f748ac8b9d84086dbe8be42c1e4fe5e3d01a7b5adf";

/// `tests/data/synthnet`.
pub fn dir() -> PathBuf {
    data_dir().join("synthnet")
}

/// `meta.json`'s clock window start (unix seconds): the synthnet's "now".
pub fn clock_start() -> u64 {
    read_json(&dir().join("meta.json"))["clock"]["start"]
        .as_u64()
        .unwrap()
}

/// The root of the synthnet block at `slot` (from the blocks' file names).
pub fn block_root_at(slot: u64) -> Root {
    let prefix = format!("{slot}_");
    let name = std::fs::read_dir(dir().join("blocks"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .find(|name| name.starts_with(&prefix) && name.ends_with(".json"))
        .unwrap_or_else(|| panic!("no synthnet block at slot {slot}"));
    Root::from_hex(&name[prefix.len()..prefix.len() + 66]).unwrap()
}

/// A test peer replaying the synthnet at its clock window (mplex only, no gossip), `extra` args
/// appended.
pub fn peer(extra: &[&str]) -> TestPeer {
    let mut args = vec!["--no-gossip"];
    args.extend_from_slice(extra);
    start_peer(clock_start(), &args, false)
}

/// Unix time `seconds_before` the `from_end`-th last entry of `arrivals.json` arrives: a clock
/// start from which the peer still has that many updates to publish live.
pub fn live_start(from_end: usize, seconds_before: u64) -> u64 {
    let arrivals = read_json(&dir().join("arrivals.json"));
    let arrivals = arrivals.as_array().unwrap();
    let genesis = read_json(&dir().join("meta.json"))["genesis_time"]
        .as_u64()
        .unwrap();
    genesis + arrivals[arrivals.len() - from_end]["t"].as_u64().unwrap() - seconds_before
}

/// A test peer replaying the synthnet live from unix time `start` (mplex only, gossip on, its
/// "published" events kept), `extra` args appended.
pub fn live_peer(start: u64, extra: &[&str]) -> TestPeer {
    start_peer(start, extra, true)
}

fn start_peer(start: u64, extra: &[&str], keep_published: bool) -> TestPeer {
    let start = start.to_string();
    let mut args = vec![
        "--data",
        "tests/data/synthnet",
        "--clock-start",
        &start,
        "--muxers",
        "mplex",
    ];
    args.extend_from_slice(extra);
    TestPeer::start_with(&args, keep_published)
}

/// A client on mainnet (the synthnet's network) whose clock reads the synthnet's "now", with
/// short timeouts and no per-peer quota; `tweak` adjusts the rest.
pub fn client(peers: &[&TestPeer], tweak: impl FnOnce(&mut Config)) -> Client {
    let mut config = Config::new(Network::Mainnet.config());
    config.peers = peers
        .iter()
        .map(|peer| peer.multiaddr.parse().unwrap())
        .collect();
    config.request_timeout = Duration::from_secs(3);
    config.request_deadline = Duration::from_secs(20);
    config.clock = Clock::starting_at_unix_ms(clock_start() * 1000);
    config.rate_limited_interval = Duration::ZERO;
    tweak(&mut config);
    Client::start(config).unwrap()
}
