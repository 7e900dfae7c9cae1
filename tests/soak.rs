//! Soak: the client stays peered with a test peer that gossips every slot, keeps delivering
//! updates, and its memory stays flat. Ignored by default (it runs for SOAK_SECONDS, 1800 unless
//! set): `SOAK_SECONDS=1800 cargo test --release --test soak -- --ignored --nocapture`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::{Duration, Instant};

use beacon_p2p::chain::ChainConfig;
use beacon_p2p::client::{Client, Config, Event};
use common::peer::TestPeer;
use common::*;
use futures::StreamExt;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long-running; see the module docs"]
async fn soak_gossip_every_slot() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1800);
    // Real devnet pace: one replay step per 2 s slot.
    let peer = TestPeer::start(&["--slot-ms", "2000", "--shift-slots-on-loop"]);
    let mut config = Config::new(ChainConfig::from_directory(&devnet_dir()).unwrap());
    config.peers = vec![peer.multiaddr.parse().unwrap()];
    let client = Client::start(config).unwrap();
    let mut events = client.events().await;

    let start = Instant::now();
    let (mut finality, mut optimistic, mut disconnects) = (0u64, 0u64, 0u64);
    let mut minute_updates = 0u64;
    let mut samples = Vec::new();
    let mut next_sample = Duration::from_secs(60);
    let mut last_update = Instant::now();
    while start.elapsed() < Duration::from_secs(seconds) {
        match tokio::time::timeout(Duration::from_secs(1), events.next()).await {
            Ok(Some(Event::FinalityUpdate(_))) => {
                finality += 1;
                minute_updates += 1;
                last_update = Instant::now();
            }
            Ok(Some(Event::OptimisticUpdate(_))) => {
                optimistic += 1;
                minute_updates += 1;
                last_update = Instant::now();
            }
            Ok(Some(Event::PeerDisconnected { .. })) => disconnects += 1,
            _ => {}
        }
        assert!(
            last_update.elapsed() < Duration::from_secs(60),
            "no update for a minute"
        );
        if start.elapsed() >= next_sample {
            let peers = client.peers().await;
            let connected = peers.iter().filter(|p| p.connected).count();
            let rss = rss_kib();
            println!(
                "soak t={:>4}s rss={rss} KiB updates/min={minute_updates} finality={finality} optimistic={optimistic} connected={connected} disconnects={disconnects}",
                start.elapsed().as_secs()
            );
            samples.push(rss);
            minute_updates = 0;
            next_sample += Duration::from_secs(60);
        }
    }
    let peers = client.peers().await;
    assert_eq!(
        peers.iter().filter(|p| p.connected).count(),
        1,
        "still connected"
    );
    assert_eq!(disconnects, 0);
    assert!(
        finality > 0 && optimistic > seconds / 4,
        "finality {finality}, optimistic {optimistic}"
    );
    if samples.len() >= 4 {
        // Flat memory: the last samples are within 20% of the early ones (after warm-up).
        let early = samples[1].max(1);
        let late = *samples.last().unwrap();
        println!("soak rss early={early} KiB late={late} KiB");
        assert!(
            late * 10 <= early * 12,
            "RSS grew from {early} KiB to {late} KiB"
        );
    }
    client.shutdown().await;
}
