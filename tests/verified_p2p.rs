//! Verified mode against the test peer replaying synthnet: `Client::sync` from the checkpoint,
//! and peers judged by what they prove — a peer that lies (bad signature, bad branch) is scored
//! as bad data and dropped while every call returns verified data from the honest one; its
//! forged gossip is not forwarded; a peer with a stale finality update is not believed but not
//! punished either.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use beacon_p2p::client::{Client, Event};
use beacon_p2p::primitives::Root;
use common::peer::TestPeer;
use common::synthnet;
use futures::StreamExt;
use serde_json::Value;

fn checkpoint() -> Root {
    Root::from_hex(synthnet::CHECKPOINT_ROOT).unwrap()
}

/// The synthnet's newest finalized and optimistic slots (its README's table).
const FINALIZED: u64 = 13221792;
const OPTIMISTIC: u64 = 13221883;

fn peer_info(peers: &[beacon_p2p::node::peers::PeerInfo], peer: &TestPeer) -> (u64, u64, f64) {
    let info = peers
        .iter()
        .find(|info| info.peer_id == peer.peer_id)
        .unwrap_or_else(|| panic!("{} not among the peers", peer.peer_id));
    (info.invalid, info.stale, info.score)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_verifies_from_the_checkpoint_across_fulu_and_bpo1() {
    let peer = synthnet::peer(&[]);
    let client = synthnet::client(&[&peer], |_| {});
    let mut events = client.events().await;
    assert_eq!(
        client.verified_heads().await,
        None,
        "nothing verified before sync"
    );
    let heads = client.sync(checkpoint()).await.unwrap();
    assert_eq!(heads.checkpoint, checkpoint());
    assert_eq!(heads.finalized.slot, FINALIZED);
    // The peer's clock starts 4 s before the last step arrives: the newest or the one before.
    assert!(
        heads.optimistic.slot == OPTIMISTIC || heads.optimistic.slot == OPTIMISTIC - 1,
        "{}",
        heads.optimistic.slot
    );
    assert_eq!(
        heads.optimistic.block_root,
        synthnet::block_root_at(heads.optimistic.slot)
    );
    assert_eq!(
        heads.finalized.block_root,
        synthnet::block_root_at(FINALIZED)
    );
    assert_eq!(heads.period, 1613);
    let participation = heads.optimistic.participation.unwrap();
    assert!(participation * 3 >= 512 * 2, "{participation}");
    // `head`/`finalized` block ids now name the verified headers.
    let known = client.known_headers().await;
    assert_eq!(
        known.finalized,
        Some((FINALIZED, heads.finalized.block_root))
    );
    // The events said so as the store moved: the checkpoint, then each period to the newest.
    let mut finalized_slots = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(200), events.next()).await
    {
        if let Event::VerifiedFinality(head) = event {
            finalized_slots.push(head.slot);
        }
    }
    assert_eq!(
        finalized_slots.first(),
        Some(&13148160),
        "{finalized_slots:?}"
    );
    assert_eq!(
        finalized_slots.last(),
        Some(&FINALIZED),
        "{finalized_slots:?}"
    );
    assert!(
        finalized_slots.windows(2).all(|w| w[0] < w[1]),
        "{finalized_slots:?}"
    );
    let (invalid, _, _) = peer_info(&client.peers().await, &peer);
    assert_eq!(invalid, 0);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_no_peer_proves_fails_as_bad_data() {
    // Its bootstrap's committee branch is tampered with: nobody proves the checkpoint.
    let liar = synthnet::peer(&["--fault", "bad-branch"]);
    let client = synthnet::client(&[&liar], |config| {
        config.request_deadline = Duration::from_secs(6);
    });
    let error = client.sync(checkpoint()).await.unwrap_err();
    assert_eq!(error.code(), "BAD_DATA", "{error}");
    assert!(
        error.to_string().contains("current sync committee"),
        "{error}"
    );
    assert_eq!(client.verified_heads().await, None);
    client.shutdown().await;
}

/// Calls the latest updates until `done` says so or `within` has passed; every answer must be
/// the verified one (never the liar's).
async fn keep_asking(
    client: &Client,
    within: Duration,
    done: impl Fn(&[beacon_p2p::node::peers::PeerInfo]) -> bool,
) {
    let until = Instant::now() + within;
    loop {
        let finality = client.finality_update().await.unwrap();
        let heads = client.verified_heads().await.unwrap();
        assert!(
            finality.finalized_slot.unwrap() >= heads.finalized.slot
                || finality.slot >= heads.optimistic.slot,
            "an unverified finality update was handed out"
        );
        if done(&client.peers().await) || Instant::now() > until {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_with_forged_signatures_is_dropped_and_its_gossip_not_forwarded() {
    // One bit of every signature flipped.
    a_lying_peer_next_to_an_honest_one("bad-signature").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_with_wrong_branches_is_dropped_and_its_gossip_not_forwarded() {
    // One node of every branch changed, its bootstrap's committee branch too: whichever peer
    // the bootstrap is asked from first, the sync reaches the honest heads.
    a_lying_peer_next_to_an_honest_one("bad-branch").await;
}

/// A live stream: the last five steps of synthnet arrive 2 s, 14 s, … after start, on gossip
/// from both peers, the liar's tampered as `fault` says. Every call returns verified data, the
/// liar is dropped, and its gossip does not reach the honest peer through us.
async fn a_lying_peer_next_to_an_honest_one(fault: &str) {
    let start = synthnet::live_start(10, 2);
    let honest = synthnet::live_peer(start, &[]);
    let liar = synthnet::live_peer(start, &["--fault", fault]);
    let client = synthnet::client(&[&honest, &liar], |config| {
        config.clock = beacon_p2p::chain::Clock::starting_at_unix_ms(start * 1000);
    });
    let heads = client.sync(checkpoint()).await.unwrap();
    assert_eq!(heads.finalized.slot, FINALIZED);
    // The liar goes once two of its objects (answers or gossip) failed to verify.
    keep_asking(&client, Duration::from_secs(40), |peers| {
        peers
            .iter()
            .any(|p| p.peer_id == liar.peer_id && p.invalid >= 2 && !p.connected)
    })
    .await;
    let peers = client.peers().await;
    let (invalid, _, _) = peer_info(&peers, &liar);
    assert!(invalid >= 2, "{fault} liar: {invalid} invalid");
    // Dropped for its score: a goodbye with reason 250 (`GOODBYE_BAD_SCORE`).
    assert!(liar
        .wait_for(Duration::from_secs(5), |e| {
            e["event"] == "request"
                && e["protocol"]
                    .as_str()
                    .is_some_and(|p| p.contains("goodbye"))
                && e["request"]["reason"] == "250"
        })
        .is_some());
    let (honest_invalid, _, honest_score) = peer_info(&peers, &honest);
    assert!(peers
        .iter()
        .any(|p| p.peer_id == honest.peer_id && p.connected));
    assert_eq!(honest_invalid, 0);
    assert!(honest_score > 0.0, "{honest_score}");
    // Forged gossip reached us (the liar published it to us) but never went on to the honest
    // peer; the honest peer's did reach the liar through us (forwarding works).
    let ids = |peer: &TestPeer, event: &str| -> HashSet<String> {
        peer.events()
            .iter()
            .filter(|e| e["event"] == event)
            .filter_map(|e| e["msgId"].as_str().map(str::to_string))
            .collect()
    };
    let forged = ids(&liar, "published");
    assert!(!forged.is_empty(), "the liar published nothing");
    let honest_received = ids(&honest, "gossip-received");
    assert!(
        forged.is_disjoint(&honest_received),
        "{fault} gossip was forwarded to the honest peer"
    );
    let verified_heads = client.verified_heads().await.unwrap();
    assert!(verified_heads.optimistic.slot > OPTIMISTIC - 10);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_finality_update_is_not_handed_out_nor_punished_as_a_lie() {
    let honest = synthnet::peer(&[]);
    let stale = synthnet::peer(&["--fault", "stale-finality"]);
    let client = synthnet::client(&[&honest, &stale], |_| {});
    client.sync(checkpoint()).await.unwrap();
    // The stale update is valid: while the store knows nothing newer it may be believed. Once the
    // honest peer's newer one is in, no call hands the stale one out again.
    let mut calls = 0;
    // On a loaded machine the honest peer may finish its handshake a while after the stale one:
    // a call answered by the stale peer alone is no failure yet.
    while client.finality_update().await.unwrap().finalized_slot != Some(FINALIZED) {
        calls += 1;
        assert!(calls < 50, "the honest peer's update never came");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for _ in 0..6 {
        let finality = client.finality_update().await.unwrap();
        assert_eq!(finality.finalized_slot, Some(FINALIZED));
    }
    let asked = |peer: &TestPeer| {
        peer.events()
            .iter()
            .filter(|e: &&Value| {
                e["event"] == "request"
                    && e["protocol"]
                        .as_str()
                        .is_some_and(|p| p.contains("finality_update"))
            })
            .count()
    };
    let peers = client.peers().await;
    let (invalid, stale_count, _) = peer_info(&peers, &stale);
    assert_eq!(invalid, 0, "a stale update is not a lie");
    if asked(&stale) > 0 {
        assert!(stale_count > 0);
    }
    assert!(peers.iter().all(|p| p.connected), "nobody dropped");
    client.shutdown().await;
}
