//! The getting-data part: light-client data from the same devnet peer (the js-libp2p test peer
//! replaying the recorded devnet), once over p2p through the bridge's relay — a rust-libp2p
//! client whose only transport is a WebSocket to `/relay/<peer>`, as a browser's — and once
//! from the peer's Beacon REST API over a fresh HTTP connection. Each timing starts before the
//! client exists (p2p: building the swarm, dialing, noise, muxer, Status; REST: TCP connect) and
//! ends with the decoded object.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use beacon_p2p::chain::ChainConfig;
use beacon_p2p::client::{Client, Config, Event};
use beacon_p2p::node::behaviour::Behaviour;
use beacon_p2p::primitives::Root;
use futures::StreamExt;
use libp2p::{identity, noise, Multiaddr};
use serde_json::Value;

use crate::common::*;

/// The capture's first bootstrap (slot 88, period 1); updates for periods 1–4 follow it.
const BOOTSTRAP_ROOT: &str = "0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5";
const GROUP: &str = "Getting data";
const REST: &str = "Beacon REST API of the same peer (fresh HTTP connection)";

pub struct Options {
    pub bridge: PathBuf,
    pub out: PathBuf,
    pub logs: PathBuf,
    pub runs: usize,
}

/// `/ip4/127.0.0.1/tcp/<port>/x-parity-ws/%2Frelay%2F<peer>/p2p/<peer>`.
fn relay_address(bridge: SocketAddr, peer: &str) -> Multiaddr {
    // The crate's own mapping, the one the browser client uses.
    let peer: Multiaddr = format!("/p2p/{peer}").parse().unwrap();
    beacon_p2p::node::relay_address(&format!("http://{bridge}"), &peer).unwrap()
}

/// A client whose only transport is rust-libp2p's WebSocket, dialing the peer through the relay.
async fn relay_client(chain: &Arc<ChainConfig>, bridge: SocketAddr, peer: &str) -> Client {
    let key = identity::Keypair::generate_secp256k1();
    let mut config = Config::new((**chain).clone());
    config.peers = vec![relay_address(bridge, peer)];
    config.request_timeout = Duration::from_secs(10);
    config.request_deadline = Duration::from_secs(30);
    let chain = chain.clone();
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_websocket(
            noise::Config::new,
            (
                libp2p::yamux::Config::default,
                libp2p_mplex::Config::default,
            ),
        )
        .await
        .expect("websocket transport")
        .with_behaviour(|key| Behaviour::new(key, chain.clone(), Duration::from_secs(5)).unwrap())
        .expect("behaviour")
        .build();
    Client::start_with_swarm(swarm, config)
}

fn json(what: &str, status: u16, body: &[u8]) -> Value {
    assert_eq!(status, 200, "{what}: {}", String::from_utf8_lossy(body));
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"))
}

fn slot(value: &Value, header: &str) -> u64 {
    value["data"][header]["beacon"]["slot"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no data.{header}.beacon.slot in the REST answer"))
}

/// p2p: client start → finality update. (ms, attested slot, ms until the peer was connected
/// and Status done)
async fn p2p_finality(chain: &Arc<ChainConfig>, bridge: SocketAddr, peer: &str) -> (f64, u64, f64) {
    let start = Instant::now();
    let client = relay_client(chain, bridge, peer).await;
    let mut events = client.events().await;
    let connected = async {
        while let Some(event) = events.next().await {
            if matches!(event, Event::PeerConnected { .. }) {
                return start.elapsed().as_secs_f64() * 1e3;
            }
        }
        f64::NAN
    };
    let fetch = async {
        let update = client
            .finality_update()
            .await
            .expect("finality update over p2p");
        (start.elapsed().as_secs_f64() * 1e3, update.slot)
    };
    let (connected, (elapsed, slot)) = futures::join!(connected, fetch);
    client.shutdown().await;
    (elapsed, slot, connected)
}

/// REST: connect → finality update parsed. (ms, attested slot)
async fn rest_finality(rest: SocketAddr) -> (f64, u64) {
    let start = Instant::now();
    let mut http = Http::connect(rest).await.expect("REST connect");
    let (status, body) = http
        .get("/eth/v1/beacon/light_client/finality_update")
        .await
        .expect("REST finality update");
    let value = json("finality_update", status, &body);
    let elapsed = start.elapsed().as_secs_f64() * 1e3;
    (elapsed, slot(&value, "attested_header"))
}

/// p2p: client start → bootstrap and the updates of periods 1–4. (ms, update count)
async fn p2p_sync(chain: &Arc<ChainConfig>, bridge: SocketAddr, peer: &str) -> (f64, usize) {
    let root = Root::from_hex(BOOTSTRAP_ROOT).unwrap();
    let start = Instant::now();
    let client = relay_client(chain, bridge, peer).await;
    let bootstrap = client.bootstrap(root).await.expect("bootstrap over p2p");
    let updates = client.updates(1, 4).await.expect("updates over p2p");
    let elapsed = start.elapsed().as_secs_f64() * 1e3;
    assert_eq!(bootstrap.slot, 88);
    client.shutdown().await;
    (elapsed, updates.len())
}

/// REST: connect → bootstrap and updates 1–4 parsed, on one keep-alive connection.
async fn rest_sync(rest: SocketAddr) -> (f64, usize) {
    let start = Instant::now();
    let mut http = Http::connect(rest).await.expect("REST connect");
    let (status, body) = http
        .get(&format!(
            "/eth/v1/beacon/light_client/bootstrap/{BOOTSTRAP_ROOT}"
        ))
        .await
        .expect("REST bootstrap");
    let bootstrap = json("bootstrap", status, &body);
    let (status, body) = http
        .get("/eth/v1/beacon/light_client/updates?start_period=1&count=4")
        .await
        .expect("REST updates");
    let updates = json("updates", status, &body);
    let elapsed = start.elapsed().as_secs_f64() * 1e3;
    assert_eq!(slot(&bootstrap, "header"), 88);
    (elapsed, updates.as_array().map_or(0, Vec::len))
}

pub async fn run(options: Options) {
    std::fs::create_dir_all(&options.logs).unwrap();
    // Replay frozen in period 4 (head slot ≥ 300), so finality and updates 1–4 stay put.
    let (peer_process, hello) = start_test_peer(
        &[
            "--slot-ms",
            "3600000",
            "--start-slot",
            "300",
            "--no-gossip",
            "--rest-port",
            "0",
        ],
        &options.logs.join("getting-data-peer.log"),
    );
    let peer_id = hello["peerId"].as_str().unwrap().to_string();
    let rest: SocketAddr = hello["rest"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("the peer prints its REST address");
    let (bridge_process, bridge) = start_bridge(
        &options.bridge,
        hello["multiaddr"].as_str().unwrap(),
        &["--max-sessions-per-ip", "64"],
        &options.logs.join("getting-data-bridge.log"),
    );
    wait_offered(bridge, &peer_id, Duration::from_secs(60)).await;
    let chain = Arc::new(ChainConfig::from_directory(&devnet_dir()).expect("devnet config"));

    let (mut p2p_first, mut rest_first, mut p2p_all, mut rest_all, mut p2p_connected) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // One warm-up of each (page cache, JIT of the peer's handlers), then alternate the order.
    let _ = p2p_finality(&chain, bridge, &peer_id).await;
    let _ = rest_finality(rest).await;
    for run in 0..options.runs {
        let (p, r) = if run % 2 == 0 {
            let p = p2p_finality(&chain, bridge, &peer_id).await;
            (p, rest_finality(rest).await)
        } else {
            let r = rest_finality(rest).await;
            (p2p_finality(&chain, bridge, &peer_id).await, r)
        };
        assert_eq!(
            p.1, r.1,
            "p2p and REST disagree on the latest finality update"
        );
        p2p_first.push(p.0);
        p2p_connected.push(p.2);
        rest_first.push(r.0);
        let (p, r) = if run % 2 == 0 {
            let p = p2p_sync(&chain, bridge, &peer_id).await;
            (p, rest_sync(rest).await)
        } else {
            let r = rest_sync(rest).await;
            (p2p_sync(&chain, bridge, &peer_id).await, r)
        };
        assert_eq!((p.1, r.1), (4, 4), "updates for periods 1–4");
        p2p_all.push(p.0);
        rest_all.push(r.0);
        eprintln!(
            "[getting-data] run {run}: first finality p2p {:.1} ms (connected at {:.1} ms), REST {:.1} ms; bootstrap+4 updates p2p {:.1} ms, REST {:.1} ms",
            p2p_first[run], p2p_connected[run], rest_first[run], p2p_all[run], rest_all[run]
        );
    }
    let n = options.runs;
    let rows = vec![
        row(
            GROUP,
            "first finality update from client start",
            median(&p2p_first),
            REST,
            median(&rest_first),
            "ms",
            "lower",
            Some("<= 2x"),
            Some(format!(
                "ours: rust-libp2p over WebSocket through the bridge's /relay (dial, noise, muxer, Status, request); \
                 the peer was connected (Status and identify done) at {:.0} ms (median); median of {n}",
                median(&p2p_connected)
            )),
        ),
        row(
            GROUP,
            "bootstrap + 4 updates from client start",
            median(&p2p_all),
            REST,
            median(&rest_all),
            "ms",
            "lower",
            None,
            Some(format!(
                "periods 1–4 of the devnet capture; REST uses one keep-alive connection; median of {n}"
            )),
        ),
    ];
    drop(bridge_process);
    drop(peer_process);
    write_rows(&options.out, &rows);
}
