//! The bridge against the in-repo CL test peer (js-libp2p, serving the recorded devnet): found
//! through discv5 from its ENR, offered in `/peers`, reachable through the relay by a rust-libp2p
//! WebSocket dialer (noise, muxer, Status, a light-client request), Beacon-API routes equal to
//! `beacon-p2p fetch`, SSE events, and a relay whose bytes are altered in flight.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use beacon_p2p::bridge::{Bridge, BridgeConfig, Limits};
use beacon_p2p::chain::{ChainConfig, Clock};
use beacon_p2p::client::{Client, Config};
use beacon_p2p::node::behaviour::Behaviour;
use common::http::get;
use common::peer::TestPeer;
use common::*;
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{identity, noise, Multiaddr, PeerId};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BOOTSTRAP_ROOT: &str = "0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5";

fn devnet_chain() -> ChainConfig {
    ChainConfig::from_directory(&devnet_dir()).unwrap()
}

/// `/ip4/127.0.0.1/tcp/<port>/x-parity-ws/%2Frelay%2F<peer>/p2p/<peer>`: what a browser dials.
fn relay_address(bridge: SocketAddr, peer: &str) -> Multiaddr {
    // The crate's own mapping, the one the browser client uses.
    let peer: Multiaddr = format!("/p2p/{peer}").parse().unwrap();
    beacon_p2p::node::relay_address(&format!("http://{bridge}"), &peer).unwrap()
}

/// A client whose only transport is rust-libp2p's WebSocket (noise, yamux or mplex), as the
/// browser's will be, dialing the peer through the bridge.
async fn relay_client(bridge: SocketAddr, peer: &str) -> (Client, PeerId) {
    let key = identity::Keypair::generate_secp256k1();
    let local = key.public().to_peer_id();
    let chain = Arc::new(devnet_chain());
    let mut config = Config::new((*chain).clone());
    config.peers = vec![relay_address(bridge, peer)];
    config.request_timeout = Duration::from_secs(5);
    config.request_deadline = Duration::from_secs(20);
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
        .unwrap()
        .with_behaviour(|key| Behaviour::new(key, chain.clone(), Duration::from_secs(5)).unwrap())
        .unwrap()
        .build();
    (Client::start_with_swarm(swarm, config), local)
}

/// The bridge binary, stopped by PID when dropped.
struct BridgeProcess {
    child: Child,
    listen: SocketAddr,
    /// Our ENR as the bridge printed it (null without discovery).
    enr: Value,
    /// Its stderr so far.
    logs: Arc<std::sync::Mutex<Vec<String>>>,
}

impl BridgeProcess {
    fn start(args: &[&str]) -> BridgeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_beacon-p2p"))
            .arg("bridge")
            .args(args)
            .env("RUST_LOG", "beacon_p2p=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if std::env::var_os("TEST_LOG").is_some() {
                    eprintln!("[bridge] {line}");
                }
                kept.lock().unwrap().push(line);
            }
        });
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let hello: Value = serde_json::from_str(&first).expect("bridge prints where it listens");
        BridgeProcess {
            listen: hello["listen"].as_str().unwrap().parse().unwrap(),
            enr: hello["enr"].clone(),
            child,
            logs,
        }
    }

    /// Waits up to `within` for a stderr line containing `text`.
    fn wait_for_log(&self, text: &str, within: Duration) -> Option<String> {
        let until = Instant::now() + within;
        loop {
            if let Some(line) = self.logs.lock().unwrap().iter().find(|l| l.contains(text)) {
                return Some(line.clone());
            }
            if Instant::now() > until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for BridgeProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// Polls `/peers` until `peer` is offered.
async fn wait_offered(bridge: SocketAddr, peer: &str, within: Duration) -> Value {
    let start = Instant::now();
    loop {
        let peers = get(bridge, "/peers", &[]).await.json();
        if let Some(found) = peers
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["peerId"] == peer)
        {
            return found.clone();
        }
        assert!(start.elapsed() < within, "{peer} not offered: {peers}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn fetch_json(peer: &TestPeer, what: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_beacon-p2p"))
        .args(["fetch", "--testnet-dir"])
        .arg(devnet_dir())
        .args(["--peer", &peer.multiaddr])
        .args(what)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "fetch {what:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn discv5_takes_a_free_port_when_a_beacon_node_holds_the_default_one() {
    // Stands in for a beacon node's discv5 on UDP 9000 (if something here holds it already,
    // that serves as well).
    let holder = std::net::UdpSocket::bind("0.0.0.0:9000");
    if let Err(error) = &holder {
        assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse, "{error}");
    }
    // A bootnode on loopback that nobody answers for: nothing leaves the machine.
    let key = enr::CombinedKey::generate_secp256k1();
    let bootnode = discv5::Enr::builder()
        .ip4("127.0.0.1".parse().unwrap())
        .udp4(9)
        .build(&key)
        .unwrap()
        .to_base64();
    let testnet = devnet_dir().display().to_string();
    // No --discovery-listen: the default.
    let bridge = BridgeProcess::start(&[
        "--testnet-dir",
        &testnet,
        "--listen",
        "127.0.0.1:0",
        "--enr-ip",
        "127.0.0.1",
        "--bootnode",
        &bootnode,
        "--allow-private",
    ]);
    let record: discv5::Enr = bridge.enr.as_str().expect("an ENR").parse().unwrap();
    let port = record.udp4().expect("a UDP port in our ENR");
    assert_ne!(port, 9000);
    let taken = std::net::UdpSocket::bind(("0.0.0.0", port)).unwrap_err();
    assert_eq!(
        taken.kind(),
        std::io::ErrorKind::AddrInUse,
        "the ENR's port is the bridge's"
    );
    let line = bridge
        .wait_for_log("is in use", Duration::from_secs(5))
        .expect("a log line saying why the port changed");
    assert!(line.contains(&format!(":{port}")), "{line}");
    // Given explicitly, a taken address is an error, not a surprise.
    let refused = Command::new(env!("CARGO_BIN_EXE_beacon-p2p"))
        .args([
            "bridge",
            "--testnet-dir",
            &testnet,
            "--listen",
            "127.0.0.1:0",
        ])
        .args([
            "--discovery-listen",
            &format!("0.0.0.0:{port}"),
            "--bootnode",
            &bootnode,
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("cannot bind UDP"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discv5_finds_the_peer_relay_reaches_it_and_routes_match_fetch() {
    // The test peer, and a discv5 node with its identity that advertises it.
    let chain = devnet_chain();
    let (peer, mut advertiser, record) = common::discovery::advertised_peer(&chain).await;

    let testnet = devnet_dir().display().to_string();
    let bridge = BridgeProcess::start(&[
        "--testnet-dir",
        &testnet,
        "--listen",
        "127.0.0.1:0",
        "--discovery-listen",
        "127.0.0.1:0",
        "--bootnode",
        &record.to_base64(),
        "--allow-private",
        "--target-peers",
        "1",
    ]);
    let at = bridge.listen;

    // Found through discv5, checked by the bridge's client, offered with what discv5 said.
    let offered = wait_offered(at, &peer.peer_id, Duration::from_secs(40)).await;
    assert_eq!(offered["enr"], record.to_base64());
    assert_eq!(offered["forkDigest"], "0x8cdad603");
    assert_eq!(offered["source"], "discv5");
    assert_eq!(offered["multiaddr"], peer.multiaddr);
    assert!(offered["client"].as_str().unwrap().contains("js-libp2p"));
    assert!(offered["lastSeen"].as_u64().unwrap() > 0);

    // A rust-libp2p WebSocket dialer through the relay: noise, muxer, Status, a request.
    let (relayed, relayed_id) = relay_client(at, &peer.peer_id).await;
    let finality = relayed.finality_update().await.unwrap();
    let status = peer
        .wait_for(Duration::from_secs(10), |e| {
            e["event"] == "status" && e["from"] == relayed_id.to_string()
        })
        .expect("Status from the relayed dialer");
    assert_eq!(status["forkDigestMatches"], true);
    assert!(peer
        .wait_for(Duration::from_secs(10), |e| {
            e["event"] == "connection"
                && e["peer"] == relayed_id.to_string()
                && e["encryption"]
                    .as_str()
                    .is_some_and(|s| s.contains("noise"))
        })
        .is_some());
    relayed.shutdown().await;

    // The Beacon-API routes answer exactly what `beacon-p2p fetch` prints.
    let route = get(at, "/eth/v1/beacon/light_client/finality_update", &[]).await;
    assert_eq!(route.status, 200);
    assert_eq!(route.header("eth-consensus-version"), Some("deneb"));
    assert_eq!(route.json(), fetch_json(&peer, &["finality-update"]));
    assert_eq!(&route.json(), finality.to_beacon_api_json());
    let route = get(at, "/eth/v1/beacon/light_client/optimistic_update", &[]).await;
    assert_eq!(route.json(), fetch_json(&peer, &["optimistic-update"]));
    let path = format!("/eth/v1/beacon/light_client/bootstrap/{BOOTSTRAP_ROOT}");
    let route = get(at, &path, &[]).await;
    assert_eq!(
        route.json(),
        fetch_json(&peer, &["bootstrap", BOOTSTRAP_ROOT])
    );
    let route = get(
        at,
        "/eth/v1/beacon/light_client/updates?start_period=0&count=2",
        &[],
    )
    .await;
    assert_eq!(route.json(), fetch_json(&peer, &["updates", "0", "2"]));

    // SSZ when asked for it.
    let ssz = [("Accept", "application/octet-stream")];
    let route = get(at, &path, &ssz).await;
    assert_eq!(
        route.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        route.body,
        read(&devnet_dir().join(format!("bootstrap/000088_{BOOTSTRAP_ROOT}.ssz")))
    );
    let route = get(
        at,
        "/eth/v1/beacon/light_client/updates?start_period=0&count=2",
        &ssz,
    )
    .await;
    let mut body = &route.body[..];
    for period in 0..2 {
        let length = u64::from_le_bytes(body[..8].try_into().unwrap()) as usize;
        assert_eq!(
            &body[8..12],
            &[0x8c, 0xda, 0xd6, 0x03],
            "period {period} digest"
        );
        body = &body[8 + length..];
    }
    assert!(body.is_empty());
    let unknown = format!(
        "/eth/v1/beacon/light_client/bootstrap/0x{}",
        "11".repeat(32)
    );
    let route = get(at, &unknown, &[]).await;
    assert_eq!(route.status, 404, "{}", route.text());
    assert_eq!(route.json()["code"], 404);

    let metrics = get(at, "/metrics", &[]).await.text();
    assert!(metrics.contains("bridge_sessions_total 1"), "{metrics}");
    assert!(
        metrics.contains("bridge_peers{client=\"beacon-p2p-test-peer\"} 1"),
        "{metrics}"
    );
    assert!(metrics
        .contains("bridge_request_duration_seconds_count{route=\"bootstrap\",status=\"200\"}"));
    advertiser.shutdown();
}

/// A TCP proxy to `target` that, once `tamper` is set, flips one byte at offset `at` of what the
/// peer sends.
async fn tampering_proxy(target: SocketAddr, at: usize, tamper: Arc<AtomicBool>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let tamper = tamper.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(outbound) = TcpStream::connect(target).await else {
                    return;
                };
                let (mut in_read, mut in_write) = inbound.into_split();
                let (mut out_read, mut out_write) = outbound.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut in_read, &mut out_write).await;
                    let _ = out_write.shutdown().await;
                });
                let mut seen = 0usize;
                let mut buffer = vec![0u8; 16 * 1024];
                while let Ok(n) = out_read.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    if tamper && seen <= at && at < seen + n {
                        buffer[at - seen] ^= 0x01;
                    }
                    seen += n;
                    if in_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
                let _ = in_write.shutdown().await;
                up.abort();
            });
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_relay_bytes_fail_the_handshake() {
    let peer = TestPeer::start(&["--slot-ms", "600000", "--no-gossip"]);
    let peer_port: u16 = peer.multiaddr.split('/').nth(4).unwrap().parse().unwrap();
    let tamper = Arc::new(AtomicBool::new(false));
    // Offset 100 of the peer's bytes: inside noise's second handshake message (after the two
    // multistream-select lines).
    let proxy = tampering_proxy(
        SocketAddr::from(([127, 0, 0, 1], peer_port)),
        100,
        tamper.clone(),
    )
    .await;
    let via_proxy: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", proxy.port(), peer.peer_id)
        .parse()
        .unwrap();
    let mut config = Config::new(devnet_chain());
    config.peers = vec![via_proxy.clone()];
    let client = Client::start(config).unwrap();
    let mut bridge_config = BridgeConfig::new("127.0.0.1:0".parse().unwrap());
    bridge_config.static_peers = vec![via_proxy];
    bridge_config.limits = Limits {
        allow_private: true,
        ..Limits::default()
    };
    let bridge = Bridge::start(bridge_config, client.clone()).await.unwrap();
    let at = bridge.local_addr();
    let offered = wait_offered(at, &peer.peer_id, Duration::from_secs(20)).await;
    assert_eq!(offered["source"], "static");

    // An untouched relay works; with one byte flipped, the dialer's handshake fails.
    for altered in [false, true] {
        tamper.store(altered, Ordering::SeqCst);
        let key = identity::Keypair::generate_secp256k1();
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_websocket(
                noise::Config::new,
                (
                    libp2p::yamux::Config::default,
                    libp2p_mplex::Config::default,
                ),
            )
            .await
            .unwrap()
            .with_behaviour(|_| libp2p::swarm::dummy::Behaviour)
            .unwrap()
            .build();
        swarm.dial(relay_address(at, &peer.peer_id)).unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                        return Ok(peer_id.to_string())
                    }
                    SwarmEvent::OutgoingConnectionError { error, .. } => {
                        return Err(format!("{error:?}"))
                    }
                    _ => {}
                }
            }
        })
        .await
        .expect("the dial ends");
        if altered {
            let error = outcome.expect_err("altered bytes must not give a connection");
            assert!(
                error.to_lowercase().contains("noise") || error.to_lowercase().contains("decrypt"),
                "{error}"
            );
        } else {
            assert_eq!(outcome.expect("untouched relay connects"), peer.peer_id);
        }
    }
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_as_server_sent_events() {
    let peer = TestPeer::start(&["--slot-ms", "200"]);
    let mut config = Config::new(devnet_chain());
    config.peers = vec![peer.multiaddr.parse().unwrap()];
    let client = Client::start(config).unwrap();
    let mut bridge_config = BridgeConfig::new("127.0.0.1:0".parse().unwrap());
    bridge_config.static_peers = vec![peer.multiaddr.parse().unwrap()];
    let bridge = Bridge::start(bridge_config, client.clone()).await.unwrap();
    let mut stream = TcpStream::connect(bridge.local_addr()).await.unwrap();
    stream
        .write_all(b"GET /eth/v1/events?topics=light_client_finality_update,light_client_optimistic_update HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    let mut seen = String::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(40);
    let event = loop {
        let n = tokio::time::timeout_at(deadline.into(), stream.read(&mut buffer))
            .await
            .expect("an event within 40 s")
            .unwrap();
        assert!(n > 0, "stream ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
        if let Some(start) = seen.find("event: light_client_optimistic_update\ndata: ") {
            let rest = &seen[start..];
            if let Some(data_end) = rest.find("\n\n") {
                let data = &rest["event: light_client_optimistic_update\ndata: ".len()..data_end];
                break serde_json::from_str::<Value>(data).unwrap();
            }
        }
    };
    assert_eq!(event["version"], "deneb");
    assert!(event["data"]["attested_header"].is_object());
    assert!(seen.starts_with("HTTP/1.1 200"));
    assert!(seen
        .to_lowercase()
        .contains("content-type: text/event-stream"));
    drop(bridge);
    client.shutdown().await;
}

/// `GET /eth/v2/beacon/blocks/{block_id}` answered from the client, the synthnet replayed by
/// the test peer: JSON equal to the recorded block, SSZ byte for byte with its version header,
/// 400 for a bad id, 404 for an empty slot and an unknown root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_route_serves_json_and_ssz() {
    let synthnet = data_dir().join("synthnet");
    let start = read_json(&synthnet.join("meta.json"))["clock"]["start"]
        .as_u64()
        .unwrap();
    let start_arg = start.to_string();
    let peer = TestPeer::start(&[
        "--data",
        "tests/data/synthnet",
        "--clock-start",
        &start_arg,
        "--muxers",
        "mplex",
        "--no-gossip",
    ]);
    let mut config = Config::new(beacon_p2p::chain::Network::Mainnet.config());
    config.peers = vec![peer.multiaddr.parse().unwrap()];
    config.clock = Clock::starting_at_unix_ms(start * 1000);
    config.rate_limited_interval = Duration::ZERO;
    config.request_deadline = Duration::from_secs(20);
    let client = Client::start(config).unwrap();
    let bridge_config = BridgeConfig::new("127.0.0.1:0".parse().unwrap());
    let bridge = Bridge::start(bridge_config, client.clone()).await.unwrap();
    let address = bridge.local_addr();

    let name = "13221792_0xf1d96448886de1b7431cf906829d391e7587107f6b8db754a29012ae43884169";
    let expected_json = read_json(&synthnet.join(format!("blocks/{name}.json")));
    let expected_ssz = read(&synthnet.join(format!("blocks/{name}.ssz")));
    for id in [
        "13221792",
        "0xf1d96448886de1b7431cf906829d391e7587107f6b8db754a29012ae43884169",
    ] {
        let path = format!("/eth/v2/beacon/blocks/{id}");
        let reply = get(address, &path, &[]).await;
        assert_eq!(reply.status, 200, "{id}: {}", reply.text());
        assert_eq!(reply.header("eth-consensus-version"), Some("fulu"));
        assert_eq!(reply.json(), expected_json, "{id}");
        let reply = get(address, &path, &[("Accept", "application/octet-stream")]).await;
        assert_eq!(reply.status, 200, "{id}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/octet-stream")
        );
        assert_eq!(reply.header("eth-consensus-version"), Some("fulu"));
        assert_eq!(reply.body, expected_ssz, "{id}: SSZ");
    }

    // A page on this bridge learns its clock: "now" is the data's time, not the wall clock's.
    let network = get(address, "/network", &[]).await.json();
    let offset = network["clockOffsetMs"].as_i64().unwrap();
    let page_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + offset;
    let since_start = page_now - (start * 1000) as i64;
    assert!(
        (0..120_000).contains(&since_start),
        "the bridge's clock reads {since_start} ms past --clock-start"
    );

    let reply = get(address, "/eth/v2/beacon/blocks/nope", &[]).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json()["code"], 400);
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains("invalid block id"));
    for id in ["13221864".to_string(), format!("0x{}", "07".repeat(32))] {
        let reply = get(address, &format!("/eth/v2/beacon/blocks/{id}"), &[]).await;
        assert_eq!(reply.status, 404, "{id}: {}", reply.text());
        assert_eq!(reply.json()["code"], 404);
    }
    drop(bridge);
    client.shutdown().await;
}
