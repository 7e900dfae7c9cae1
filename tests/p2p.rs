//! The native client against the in-repo CL test peer (js-libp2p, an implementation we did not
//! write) serving real recorded devnet data: handshake, every light-client protocol, gossip, both
//! muxers, a peer without `updates_by_range`, and misbehaving peers.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::{Duration, Instant};

use beacon_p2p::chain::{ChainConfig, Clock, Fork};
use beacon_p2p::client::{Client, ClientError, Config, Event};
use beacon_p2p::primitives::Root;
use common::peer::TestPeer;
use common::*;
use futures::StreamExt;
use serde_json::Value;

fn devnet_chain() -> ChainConfig {
    ChainConfig::from_directory(&devnet_dir()).unwrap()
}

/// Debug logs on the test's output when `TEST_LOG` is set.
fn test_log() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("beacon_p2p=debug")
            .with_test_writer()
            .try_init();
    }
}

fn start_client(peers: &[&TestPeer], tweak: impl FnOnce(&mut Config)) -> Client {
    test_log();
    let mut config = Config::new(devnet_chain());
    config.peers = peers
        .iter()
        .map(|peer| peer.multiaddr.parse().unwrap())
        .collect();
    config.request_timeout = Duration::from_secs(3);
    config.request_deadline = Duration::from_secs(20);
    tweak(&mut config);
    Client::start(config).unwrap()
}

/// Whether the capture holds an object with exactly this Beacon-API JSON.
fn in_capture(kind: &str, json: &Value) -> bool {
    std::fs::read_dir(devnet_dir().join(kind))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .any(|path| &read_json(&path) == json)
}

const BOOTSTRAP_ROOT: &str = "0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5";

async fn fetch_everything_and_compare(client: &Client) {
    let bootstrap = client
        .bootstrap(Root::from_hex(BOOTSTRAP_ROOT).unwrap())
        .await
        .unwrap();
    let expected = read_json(&devnet_dir().join(format!("bootstrap/000088_{BOOTSTRAP_ROOT}.json")));
    assert_eq!(bootstrap.to_beacon_api_json(), &expected, "bootstrap JSON");

    let updates = client.updates(0, 2).await.unwrap();
    assert_eq!(updates.len(), 2);
    for (period, update) in updates.iter().enumerate() {
        let served = read_json(&devnet_dir().join(format!("updates/period_{period:04}.json")));
        assert_eq!(
            update.to_beacon_api_json(),
            &served[0],
            "update for period {period}"
        );
    }

    let finality = client.finality_update().await.unwrap();
    assert!(
        in_capture("finality_update", finality.to_beacon_api_json()),
        "finality update is one the peer served"
    );
    let optimistic = client.optimistic_update().await.unwrap();
    assert!(
        in_capture("optimistic_update", optimistic.to_beacon_api_json()),
        "optimistic update is one the peer served"
    );
}

fn assert_handshake(peer: &TestPeer, muxer: &str) {
    let connection = peer
        .wait_for(Duration::from_secs(10), |e| e["event"] == "connection")
        .expect("client connected");
    assert_eq!(connection["muxer"], muxer);
    peer.wait_for(Duration::from_secs(10), |e| e["event"] == "status")
        .expect("client sent Status");
    peer.wait_for(Duration::from_secs(10), |e| {
        e["event"] == "metadata-request"
    })
    .expect("client asked MetaData");
    for protocol in ["status", "ping", "metadata"] {
        let answer = peer
            .wait_for(Duration::from_secs(10), |e| {
                e["event"] == "peer-answered" && e["protocol"] == protocol
            })
            .unwrap_or_else(|| panic!("client answered {protocol}"));
        assert_eq!(answer["ok"], true, "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mplex_only_peer_like_lodestar() {
    let peer = TestPeer::start(&["--muxers", "mplex", "--slot-ms", "200"]);
    let client = start_client(&[&peer], |_| {});
    fetch_everything_and_compare(&client).await;
    assert_handshake(&peer, "/mplex/6.7.0");
    let peers = client.peers().await;
    assert_eq!(peers.len(), 1);
    assert!(peers[0].connected);
    assert_eq!(peers[0].serves_light_client, Some(true));
    assert!(peers[0].client.as_deref().unwrap().contains("js-libp2p"));
    client.shutdown().await;
    peer.wait_for(Duration::from_secs(5), |e| e["event"] == "goodbye")
        .expect("client said goodbye");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yamux_peer_and_gossip() {
    let peer = TestPeer::start(&["--muxers", "yamux,mplex", "--slot-ms", "100"]);
    let client = start_client(&[&peer], |_| {});
    let mut events = client.events().await;
    fetch_everything_and_compare(&client).await;
    assert_handshake(&peer, "/yamux/1.0.0");

    let (mut finality, mut optimistic, mut connected) = (0, 0, false);
    let deadline = Instant::now() + Duration::from_secs(40);
    while (finality < 2 || optimistic < 5) && Instant::now() < deadline {
        let event = tokio::time::timeout(Duration::from_secs(5), events.next()).await;
        match event {
            Ok(Some(Event::FinalityUpdate(update))) => {
                assert!(in_capture("finality_update", update.to_beacon_api_json()));
                finality += 1;
            }
            Ok(Some(Event::OptimisticUpdate(update))) => {
                assert!(in_capture("optimistic_update", update.to_beacon_api_json()));
                optimistic += 1;
            }
            Ok(Some(Event::PeerConnected { client, .. })) => connected |= client.is_some(),
            _ => {}
        }
    }
    assert!(
        finality >= 2 && optimistic >= 5,
        "gossip: {finality} finality, {optimistic} optimistic"
    );
    let _ = connected;
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_without_updates_by_range_like_lighthouse() {
    let lighthouse_like = TestPeer::start(&["--no-updates-by-range", "--slot-ms", "200"]);
    let lodestar_like = TestPeer::start(&["--muxers", "mplex", "--slot-ms", "200"]);
    let client = start_client(&[&lighthouse_like, &lodestar_like], |_| {});
    // Every update comes from the peer that has the protocol.
    for _ in 0..3 {
        let updates = client.updates(0, 2).await.unwrap();
        assert_eq!(updates.len(), 2);
    }
    assert!(lighthouse_like
        .events()
        .iter()
        .all(|e| e["protocol"]
            != "/eth2/beacon_chain/req/light_client_updates_by_range/1/ssz_snappy"));
    let peers = client.peers().await;
    let without = peers
        .iter()
        .find(|p| p.peer_id == lighthouse_like.peer_id)
        .unwrap();
    assert!(!without
        .light_client_protocols
        .iter()
        .any(|p| p.contains("updates_by_range")));
    client.shutdown().await;

    // Alone, it makes a clear error, quickly.
    let alone = client_alone(&lighthouse_like).await;
    let started = Instant::now();
    let error = alone.updates(0, 2).await.unwrap_err().to_string();
    assert!(error.contains("light_client_updates_by_range"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    alone.shutdown().await;
}

async fn client_alone(peer: &TestPeer) -> Client {
    let client = start_client(&[peer], |config| {
        config.request_deadline = Duration::from_secs(10)
    });
    // Let it connect first so the error is about the protocol, not about connecting.
    let _ = client.optimistic_update().await;
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_past_the_current_period_and_unknown_roots_fail_clearly() {
    let peer = TestPeer::start(&["--slot-ms", "5000", "--no-gossip"]);
    let client = start_client(&[&peer], |config| {
        config.request_deadline = Duration::from_secs(8)
    });
    let error = client.updates(3, 100).await.unwrap_err();
    assert!(matches!(error, ClientError::Fetch(_)), "{error}");
    let error = client
        .bootstrap(Root::from([7u8; 32]))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("no peer has it") && error.contains("bootstrap not available"),
        "{error}"
    );
    client.shutdown().await;
}

/// A misbehaving peer next to a good one: every request still returns the right data, and the
/// bad peer ends up scored down. The per-peer interval between rate-limited requests (1 s here)
/// spreads back-to-back requests over both peers, so the bad one is asked too.
async fn fault_is_survived(mode: &str) {
    let bad = TestPeer::start(&["--fault", mode, "--slot-ms", "300", "--no-gossip"]);
    let good = TestPeer::start(&["--slot-ms", "300", "--no-gossip"]);
    let client = start_client(&[&bad, &good], |config| {
        config.request_timeout = Duration::from_secs(2);
        config.rate_limited_interval = Duration::from_secs(1);
    });
    // Both handshakes first: while one peer is still connecting, a second call within the quota
    // is answered from the update just received, and the bad peer would never be asked.
    let until = Instant::now() + Duration::from_secs(20);
    while client
        .peers()
        .await
        .iter()
        .filter(|p| p.connected && p.head_slot.is_some())
        .count()
        < 2
    {
        assert!(Instant::now() < until, "{mode}: both peers connect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..4 {
        let update = client
            .finality_update()
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(
            in_capture("finality_update", update.to_beacon_api_json()),
            "{mode}"
        );
        let bootstrap = client
            .bootstrap(Root::from_hex(BOOTSTRAP_ROOT).unwrap())
            .await
            .unwrap();
        assert_eq!(bootstrap.block_root.to_hex(), BOOTSTRAP_ROOT);
    }
    let peers = client.peers().await;
    let bad_info = peers.iter().find(|p| p.peer_id == bad.peer_id).unwrap();
    let good_info = peers.iter().find(|p| p.peer_id == good.peer_id).unwrap();
    assert!(
        bad_info.score < 0.0,
        "{mode}: bad peer score {}",
        bad_info.score
    );
    assert!(
        good_info.score > 0.0,
        "{mode}: good peer score {}",
        good_info.score
    );
    client.shutdown().await;

    // Alone, the bad peer gives a clear error before the deadline, never a hang.
    let alone = start_client(&[&bad], |config| {
        config.request_timeout = Duration::from_secs(2);
        config.request_deadline = Duration::from_secs(8);
        config.rate_limited_interval = Duration::ZERO;
    });
    let started = Instant::now();
    let error = alone.finality_update().await.unwrap_err().to_string();
    assert!(error.contains(&bad.peer_id), "{mode}: {error}");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{mode}: took {:?}",
        started.elapsed()
    );
    alone.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_drop_mid_response() {
    fault_is_survived("drop-mid-response").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_error_code() {
    fault_is_survived("error-code").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_garbage() {
    fault_is_survived("garbage").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_wrong_context() {
    fault_is_survived("wrong-context").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_oversize_length() {
    fault_is_survived("oversize-length").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_never_answer() {
    fault_is_survived("never-answer").await;
}

#[test]
fn cli_fetch_prints_beacon_api_json() {
    let peer = TestPeer::start(&["--muxers", "mplex", "--slot-ms", "200", "--no-gossip"]);
    let dir = devnet_dir();
    let run = |what: &[&str]| {
        let mut args = vec![
            "fetch",
            "--testnet-dir",
            dir.to_str().unwrap(),
            "--peer",
            &peer.multiaddr,
        ];
        args.extend_from_slice(what);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_beacon-p2p"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{what:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    let bootstrap = run(&["bootstrap", BOOTSTRAP_ROOT]);
    assert_eq!(
        bootstrap,
        read_json(&dir.join(format!("bootstrap/000088_{BOOTSTRAP_ROOT}.json")))
    );
    let updates = run(&["updates", "0", "2"]);
    assert_eq!(
        updates[1],
        read_json(&dir.join("updates/period_0001.json"))[0]
    );
    assert!(in_capture("finality_update", &run(&["finality-update"])));

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_beacon-p2p"))
        .args([
            "fetch",
            "--testnet-dir",
            dir.to_str().unwrap(),
            "--peer",
            "/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAmAP8rPwbQZLYcYMNty2oPPQcEvGwEHs3ZDXKLSMkSisEd",
        ])
        .args(["--timeout", "3", "finality-update"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .starts_with("error: no peer answered"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_peer_is_replaced_from_candidates() {
    let first = TestPeer::start(&["--slot-ms", "300", "--no-gossip"]);
    let second = TestPeer::start(&["--muxers", "mplex", "--slot-ms", "300", "--no-gossip"]);
    let client = start_client(&[&first, &second], |config| {
        config.target_peers = 1;
        // No quota, so the second call is not answered with the first's update: a peer must.
        config.rate_limited_interval = Duration::ZERO;
    });
    client.finality_update().await.unwrap();
    let connected: Vec<String> = client
        .peers()
        .await
        .into_iter()
        .filter(|peer| peer.connected)
        .map(|peer| peer.peer_id)
        .collect();
    assert_eq!(connected.len(), 1, "keeps the target of one peer");
    // Stop whichever peer it chose; it must move to the other one by itself.
    let (gone, other) = if connected[0] == first.peer_id {
        (first, second)
    } else {
        (second, first)
    };
    drop(gone);
    let update = client.finality_update().await.unwrap();
    assert!(in_capture("finality_update", update.to_beacon_api_json()));
    let peers = client.peers().await;
    assert!(peers
        .iter()
        .any(|peer| peer.connected && peer.peer_id == other.peer_id));
    client.shutdown().await;
}

/// The four light-client requests at once, twice over.
async fn burst(client: &Client) {
    let root = Root::from_hex(BOOTSTRAP_ROOT).unwrap();
    let (bootstrap, updates, finality, optimistic) = futures::join!(
        client.bootstrap(root),
        client.updates(1, 2),
        client.finality_update(),
        client.optimistic_update(),
    );
    bootstrap.expect("bootstrap in a burst");
    assert_eq!(updates.expect("updates in a burst").len(), 2);
    finality.expect("finality update in a burst");
    optimistic.expect("optimistic update in a burst");
}

/// A burst right after connect and another a few seconds later, against a strict peer on `muxer`:
/// the connection survives and every call returns data. Returns the peer's events.
async fn bursts_against(muxer: &str) -> Vec<Value> {
    let peer = TestPeer::start(&["--muxers", muxer, "--start-slot", "150"]);
    let client = start_client(&[&peer], |_| {});
    peer.wait_for(Duration::from_secs(10), |e| e["event"] == "connection")
        .expect("client connected");
    for _ in 0..2 {
        burst(&client).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for _ in 0..2 {
        burst(&client).await;
    }
    // Late closes or resets would arrive right after the responses.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events = peer.events();
    let count = |name: &str| events.iter().filter(|e| e["event"] == name).count();
    assert_eq!(count("disconnection"), 0, "the peer dropped the connection");
    assert_eq!(count("connection"), 1, "one connection for the whole test");
    client.shutdown().await;
    events
}

/// What a real Lodestar does (mplex only, closes a stream as soon as its response is written, and
/// drops a connection that sends more than five messages a second for streams it has forgotten):
/// request bursts must not send messages on streams the peer has closed. A request without a body
/// (finality and optimistic updates) used to send its CLOSE one round trip late, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bursts_keep_a_strict_mplex_connection() {
    let events = bursts_against("mplex").await;
    let missing: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "mplex-missing-stream")
        .collect();
    eprintln!("messages for streams the peer had closed: {missing:?}");
    let on_light_client_streams: Vec<&&Value> = missing
        .iter()
        .filter(|e| {
            e["protocol"]
                .as_str()
                .is_some_and(|p| p.contains("/light_client_"))
        })
        .collect();
    assert!(
        on_light_client_streams.is_empty(),
        "late messages on light-client request streams: {on_light_client_streams:?}"
    );
    // What remains (identify: rust-libp2p drops its read-only streams without closing them) must
    // stay far below the peer's limit of five a second.
    let times: Vec<i64> = missing.iter().filter_map(|e| e["t"].as_i64()).collect();
    for (i, t) in times.iter().enumerate() {
        let within_a_second = times[i..].iter().take_while(|u| **u - t < 1000).count();
        assert!(
            within_a_second <= 3,
            "{within_a_second} late messages within a second: {missing:?}"
        );
    }
}

/// The same bursts over yamux.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bursts_keep_a_yamux_connection() {
    bursts_against("yamux").await;
}

/// The devnet with Electra scheduled `ahead` epochs after the wall clock's epoch.
fn devnet_with_electra_ahead(ahead: u64) -> (ChainConfig, u64) {
    let mut chain = devnet_chain();
    let now_epoch = Clock::SYSTEM.current_epoch(&chain);
    let electra_epoch = now_epoch + ahead;
    let electra = chain
        .forks
        .iter_mut()
        .find(|activation| activation.fork == Fork::Electra)
        .expect("the devnet config knows Electra");
    electra.epoch = electra_epoch;
    (chain, electra_epoch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shifted_clock_puts_status_and_topics_in_a_future_fork() {
    let (chain, electra_epoch) = devnet_with_electra_ahead(1_000);
    let deneb = chain.fork_digest(electra_epoch - 1);
    let electra = chain.fork_digest(electra_epoch);
    assert_ne!(deneb, electra);
    assert_eq!(Clock::SYSTEM.current_epoch(&chain), electra_epoch - 1_000);

    // Ten epochs into Electra: 80 slots of 2 s past its first slot.
    let target_ms = chain.genesis_time.unwrap() * 1000
        + (electra_epoch + 10) * chain.preset.slots_per_epoch() * chain.slot_duration_ms;
    let offset_ms = target_ms as i64
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
    let clock = Clock::with_offset_ms(offset_ms);
    assert_eq!(clock.current_epoch(&chain), electra_epoch + 10);

    let peer = TestPeer::start(&["--slot-ms", "500", "--no-gossip"]);
    let client = start_client(&[&peer], |config| {
        config.chain = std::sync::Arc::new(chain.clone());
        config.clock = clock;
    });
    assert_eq!(client.clock(), clock);
    let status = peer
        .wait_for(Duration::from_secs(15), |e| e["event"] == "status")
        .expect("client sent Status");
    assert_eq!(
        status["status"]["fork_digest"],
        electra.to_hex(),
        "Status carries the shifted clock's digest: {status}"
    );
    let topic = |digest: beacon_p2p::primitives::ForkDigest| {
        format!(
            "/eth2/{}/light_client_finality_update/ssz_snappy",
            digest.to_hex().trim_start_matches("0x")
        )
    };
    peer.wait_for(Duration::from_secs(15), |e| {
        e["event"] == "subscription" && e["topic"] == topic(electra) && e["subscribe"] == true
    })
    .expect("client subscribed to the Electra digest's topic");
    assert!(
        !peer
            .events()
            .iter()
            .any(|e| e["event"] == "subscription" && e["topic"] == topic(deneb)),
        "no Deneb topic ten epochs into Electra"
    );
    // The fork the peer is on (Deneb) is still this network's: the client stays.
    assert!(client.peers().await.iter().any(|p| p.connected));
    client.shutdown().await;
}

/// A call in flight when the only peer's connection drops waits for the peer to come back (within
/// the call's deadline) instead of failing at once with "no peer can answer".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_rides_out_a_reconnect() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    let stalling = TestPeer::start(&[
        "--port",
        &port,
        "--private-key-hex",
        key,
        "--fault",
        "never-answer",
    ]);
    let client = start_client(&[&stalling], |config| {
        config.request_timeout = Duration::from_secs(10);
        config.request_deadline = Duration::from_secs(40);
    });
    stalling
        .wait_for(Duration::from_secs(10), |e| e["event"] == "connection")
        .expect("client connected");
    let call = {
        let client = client.clone();
        tokio::spawn(async move { client.finality_update().await })
    };
    stalling
        .wait_for(Duration::from_secs(10), |e| {
            e["event"] == "request" && e["fault"] == "never-answer"
        })
        .expect("the call reached the peer");
    // The peer goes away with the call in flight, and comes back on the same address and key.
    drop(stalling);
    let healthy = TestPeer::start(&["--port", &port, "--private-key-hex", key]);
    let update = call
        .await
        .unwrap()
        .expect("the call waited for the peer to come back");
    assert!(in_capture("finality_update", update.to_beacon_api_json()));
    // The peer logs a request after closing its stream: wait for the line.
    assert!(healthy
        .wait_for(Duration::from_secs(5), |e| e["event"] == "request"
            && e["protocol"].as_str().unwrap_or("").contains("finality"))
        .is_some());
    client.shutdown().await;
}

// ---- Blocks (`beacon_blocks_by_range/2`, `beacon_blocks_by_root/2`) against the synthnet ----

fn synthnet_dir() -> std::path::PathBuf {
    synthnet::dir()
}

fn synthnet_peer(extra: &[&str]) -> TestPeer {
    synthnet::peer(extra)
}

/// A synthnet client that logs like the others (`TEST_LOG`).
fn synthnet_client(peers: &[&TestPeer], tweak: impl FnOnce(&mut Config)) -> Client {
    test_log();
    synthnet::client(peers, tweak)
}

/// The Beacon-API JSON of the synthnet block with this root.
fn synthnet_block_json(root: &Root) -> Value {
    let suffix = format!("_{}.json", root.to_hex());
    let path = std::fs::read_dir(synthnet_dir().join("blocks"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(&suffix))
        })
        .unwrap_or_else(|| panic!("no synthnet block with root {root}"));
    read_json(&path)
}

fn synthnet_root_at(slot: u64) -> Root {
    synthnet::block_root_at(slot)
}

const SYNTHNET_CHECKPOINT_ROOT: &str = synthnet::CHECKPOINT_ROOT;
const SYNTHNET_MISSED_SLOT: u64 = 13221864;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_by_slot_root_head_and_finalized() {
    use beacon_p2p::client::BlockId;

    let peer = synthnet_peer(&[]);
    let client = synthnet_client(&[&peer], |_| {});

    // By slot (beacon_blocks_by_range): one before and one after the newest finalized slot.
    for slot in [13221792u64, 13221800] {
        let fetched = client
            .block_with_finality(BlockId::Slot(slot))
            .await
            .unwrap_or_else(|e| panic!("slot {slot}: {e}"));
        assert_eq!(fetched.block.slot(), slot);
        assert_eq!(
            fetched.to_beacon_api_json(),
            synthnet_block_json(&synthnet_root_at(slot)),
            "block at slot {slot}"
        );
    }

    // By root (beacon_blocks_by_root): the electra checkpoint block.
    let root = Root::from_hex(SYNTHNET_CHECKPOINT_ROOT).unwrap();
    let fetched = client
        .block_with_finality(root.to_hex().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(fetched.block.block_root(), root);
    assert_eq!(fetched.to_beacon_api_json(), synthnet_block_json(&root));

    // head and finalized: the newest headers the client learned.
    let head = client.block_with_finality(BlockId::Head).await.unwrap();
    assert_eq!(
        Some((head.block.slot(), head.block.block_root())),
        client.known_headers().await.head
    );
    assert_eq!(
        head.to_beacon_api_json(),
        synthnet_block_json(&head.block.block_root())
    );
    let finalized = client
        .block_with_finality(BlockId::Finalized)
        .await
        .unwrap();
    assert!(finalized.finalized);
    assert_eq!(
        Some((finalized.block.slot(), finalized.block.block_root())),
        client.known_headers().await.finalized
    );
    assert_eq!(
        finalized.to_beacon_api_json(),
        synthnet_block_json(&finalized.block.block_root())
    );
    assert!(head.block.slot() > finalized.block.slot());

    // An empty slot and an unknown root: not found (the peer sends no chunk).
    let error = client
        .block(BlockId::Slot(SYNTHNET_MISSED_SLOT))
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::NotFound(_)), "{error}");
    assert_eq!(error.code(), "NOT_FOUND");
    let error = client
        .block(BlockId::Root(Root::from([7u8; 32])))
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::NotFound(_)), "{error}");

    // Bad ids never reach the network.
    for bad in [
        "",
        "nope",
        "0x1234",
        "-1",
        "12a",
        "0x",
        "Head",
        "18446744073709551616",
    ] {
        let error = ClientError::from(bad.parse::<BlockId>().unwrap_err());
        assert_eq!(error.code(), "INVALID_ARGUMENT", "{bad:?}: {error}");
    }
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_wrong_blocks_is_scored_down_and_the_other_answers() {
    use beacon_p2p::client::BlockId;

    let bad = synthnet_peer(&["--fault", "wrong-block", "--fault-protocols", "blocks"]);
    let good = synthnet_peer(&[]);
    let client = synthnet_client(&[&bad, &good], |config| {
        config.request_timeout = Duration::from_secs(3);
    });
    // Both peers handshaken before the blocks are asked for.
    client.finality_update().await.unwrap();
    let started = Instant::now();
    while client.peers().await.iter().filter(|p| p.connected).count() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "both peers connect"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Four at once: at most two in flight per peer, so both peers are asked.
    let slots = [13221800u64, 13221801, 13221802, 13221803];
    let by_slot = futures::future::join_all(slots.map(|slot| client.block(BlockId::Slot(slot))));
    let roots = slots.map(synthnet_root_at);
    let by_root = futures::future::join_all(roots.map(|root| client.block(BlockId::Root(root))));
    let (by_slot, by_root) = futures::join!(by_slot, by_root);
    for (slot, block) in slots.iter().zip(by_slot) {
        let block = block.unwrap_or_else(|e| panic!("slot {slot}: {e}"));
        assert_eq!(block.slot(), *slot);
        assert_eq!(block.block_root(), synthnet_root_at(*slot));
    }
    for (root, block) in roots.iter().zip(by_root) {
        assert_eq!(block.unwrap().block_root(), *root);
    }
    let peers = client.peers().await;
    let score = |id: &str| peers.iter().find(|p| p.peer_id == id).unwrap().score;
    assert!(
        score(&bad.peer_id) < 0.0,
        "bad peer {}",
        score(&bad.peer_id)
    );
    assert!(
        score(&good.peer_id) > 0.0,
        "good peer {}",
        score(&good.peer_id)
    );
    client.shutdown().await;

    // Alone, it fails clearly, as bad data, before the deadline.
    let alone = synthnet_client(&[&bad], |config| {
        config.request_timeout = Duration::from_secs(2);
        config.request_deadline = Duration::from_secs(6);
    });
    let error = alone.block(BlockId::Slot(13221800)).await.unwrap_err();
    assert!(error.to_string().contains(&bad.peer_id), "{error}");
    assert!(
        error.to_string().contains("outside 13221800..13221801"),
        "{error}"
    );
    alone.shutdown().await;
}

/// How many requests whose protocol id contains `protocol` the peer has logged.
fn requests_for(peer: &TestPeer, protocol: &str) -> usize {
    peer.events()
        .iter()
        .filter(|e| {
            e["event"] == "request" && e["protocol"].as_str().is_some_and(|p| p.contains(protocol))
        })
        .count()
}

/// `requests_for` once the peer has logged at least `at_least` of them (or after 5 s). The peer logs
/// a request after it has closed the stream, so the client can hold the answer before the line is
/// written; a count read at once can be one short.
fn requests_logged(peer: &TestPeer, protocol: &str, at_least: usize) -> usize {
    let start = std::time::Instant::now();
    loop {
        let count = requests_for(peer, protocol);
        if count >= at_least || start.elapsed() > Duration::from_secs(5) {
            return count;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A bootstrap never changes: a second call for the same root (a second light client on the page
/// starting from the same checkpoint) is answered without asking a peer again, instead of waiting
/// out the peer's request quota. Another root is asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_is_asked_for_once_per_root() {
    let peer = TestPeer::start(&["--slot-ms", "300", "--no-gossip"]);
    let client = start_client(&[&peer], |_| {});
    let root = Root::from_hex(BOOTSTRAP_ROOT).unwrap();
    let first = client.bootstrap(root).await.unwrap();
    let again = client.bootstrap(root).await.unwrap();
    assert_eq!(first, again);
    // Another root goes to the peer (which does not have it).
    let other = Root::from([7u8; 32]);
    let error = client.bootstrap(other).await.unwrap_err();
    assert!(
        error.to_string().contains("bootstrap not available"),
        "{error}"
    );
    // Once the peer has logged the request for the other root, it has logged every earlier one: two
    // in all means the second call for the first root never reached it.
    let other_hex = format!("0x{}", "07".repeat(32));
    assert!(
        peer.wait_for(Duration::from_secs(5), |e| {
            e["event"] == "request" && e["request"]["root"].as_str() == Some(other_hex.as_str())
        })
        .is_some(),
        "the peer was asked for the other root"
    );
    assert_eq!(
        requests_for(&peer, "light_client_bootstrap"),
        2,
        "the second bootstrap for the same root came from the client"
    );
    client.shutdown().await;
}

/// "The latest" finality update asked for again within the peer's request quota (a second light
/// client on the page) is the one just received, answered at once instead of after the quota;
/// once the quota allows, the peer is asked again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latest_update_within_the_quota_is_the_one_just_received() {
    let peer = TestPeer::start(&["--slot-ms", "300", "--no-gossip"]);
    let client = start_client(&[&peer], |config| {
        config.rate_limited_interval = Duration::from_secs(2);
    });
    let protocol = "light_client_finality_update";
    let first = client.finality_update().await.unwrap();
    let again = client.finality_update().await.unwrap();
    assert_eq!(again, first, "within the quota: the update just received");
    // Past the quota; by now the peer has logged any request the second call made.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(requests_logged(&peer, protocol, 1), 1);
    client.finality_update().await.unwrap();
    assert_eq!(
        requests_logged(&peer, protocol, 2),
        2,
        "past the quota the peer is asked again"
    );
    client.shutdown().await;
}
