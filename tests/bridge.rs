//! The bridge: its HTTP surface and every relay limit, against TCP echo servers standing in for
//! peers (the relay only pipes bytes), with the logs captured to check each refusal is logged.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use beacon_p2p::bridge::table::Source;
use beacon_p2p::bridge::{Bridge, BridgeConfig, Limits};
use beacon_p2p::chain::ChainConfig;
use beacon_p2p::client::{Client, Config};
use common::http::{echo_server, get};
use common::*;
use futures::{SinkExt, StreamExt};
use libp2p::{identity, Multiaddr, PeerId};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Every log line of this test binary.
fn logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        struct Writer;
        impl std::io::Write for Writer {
            fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
                logs().lock().unwrap().extend_from_slice(data);
                Ok(data.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_env_filter("beacon_p2p=info")
            .with_ansi(false)
            .with_writer(|| Writer)
            .try_init();
        Mutex::new(Vec::new())
    })
}

fn log_lines_with(needles: &[&str]) -> usize {
    let text = String::from_utf8_lossy(&logs().lock().unwrap()).into_owned();
    text.lines()
        .filter(|line| needles.iter().all(|needle| line.contains(needle)))
        .count()
}

fn devnet_chain() -> ChainConfig {
    ChainConfig::from_directory(&devnet_dir()).unwrap()
}

/// A bridge (no peers dialed by its client) whose table offers one echo "peer".
async fn bridge_with_echo_peer(limits: Limits) -> (Bridge, PeerId) {
    logs();
    let client = Client::start(Config::new(devnet_chain())).unwrap();
    let mut config = BridgeConfig::new("127.0.0.1:0".parse().unwrap());
    config.limits = limits;
    let bridge = Bridge::start(config, client).await.unwrap();
    let echo = echo_server().await;
    let peer = PeerId::from(identity::Keypair::generate_secp256k1().public());
    let address: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer}", echo.port())
        .parse()
        .unwrap();
    bridge
        .table()
        .add_candidate(peer, address, None, None, Source::Static);
    bridge.table().verified(&peer, Some("echo/1.0".into()));
    (bridge, peer)
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Opens `ws://bridge/relay/<peer>` from `local_ip`; the HTTP status when refused.
async fn open(
    bridge: SocketAddr,
    peer: &str,
    local_ip: &str,
    origin: Option<&str>,
) -> Result<Ws, u16> {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(local_ip.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    let stream = socket.connect(bridge).await.unwrap();
    let mut request = format!("ws://{bridge}/relay/{peer}")
        .into_client_request()
        .unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    match tokio_tungstenite::client_async(request, stream).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(error) => panic!("unexpected WebSocket error: {error}"),
    }
}

/// Sends `data` and reads it back through the relay.
async fn echo(ws: &mut Ws, data: &[u8]) {
    ws.send(Message::Binary(data.to_vec().into()))
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < data.len() {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Binary(chunk)))) => got.extend_from_slice(&chunk),
            other => panic!("expected echoed bytes, got {other:?}"),
        }
    }
    assert_eq!(got, data);
}

/// Waits for the close frame; returns its code.
async fn close_code(ws: &mut Ws, within: Duration) -> u16 {
    loop {
        match tokio::time::timeout(within, ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => return frame.code.into(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

fn metric(text: &str, line_start: &str) -> u64 {
    text.lines()
        .find(|line| line.starts_with(line_start))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no metric {line_start} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_get_a_status_a_log_line_and_the_bridge_keeps_serving() {
    let limits = Limits {
        max_sessions: 3,
        max_sessions_per_ip: 2,
        allow_private: true,
        allowed_origins: vec!["http://good.example".into()],
        ..Limits::default()
    };
    let (bridge, peer) = bridge_with_echo_peer(limits).await;
    let at = bridge.local_addr();
    let good = Some("http://good.example");
    let peer = peer.to_string();

    // Unknown peer id, something that is not a peer id, wrong or missing Origin.
    let stranger = PeerId::from(identity::Keypair::generate_secp256k1().public()).to_string();
    assert_eq!(
        open(at, &stranger, "127.0.0.1", good).await.err(),
        Some(404)
    );
    assert_eq!(
        open(at, "not-a-peer", "127.0.0.1", good).await.err(),
        Some(400)
    );
    assert_eq!(
        open(at, &peer, "127.0.0.1", Some("http://evil.example"))
            .await
            .err(),
        Some(403)
    );
    assert_eq!(open(at, &peer, "127.0.0.1", None).await.err(), Some(403));
    // A plain GET (no upgrade) is refused too, with a Beacon-API style error body.
    let plain = get(
        at,
        &format!("/relay/{peer}"),
        &[("Origin", "http://good.example")],
    )
    .await;
    assert_eq!(plain.status, 426, "{}", plain.text());
    assert_eq!(plain.json()["code"], 426);

    // Per-IP cap: two sessions from 127.0.0.1, the third is refused with 429.
    let mut first = open(at, &peer, "127.0.0.1", good).await.unwrap();
    let mut second = open(at, &peer, "127.0.0.1", good).await.unwrap();
    assert_eq!(open(at, &peer, "127.0.0.1", good).await.err(), Some(429));
    // Total cap: a third IP gets the last slot, a fourth is refused with 503.
    let mut third = open(at, &peer, "127.0.0.2", good).await.unwrap();
    assert_eq!(open(at, &peer, "127.0.0.3", good).await.err(), Some(503));
    // The open sessions still work.
    echo(&mut first, b"hello").await;
    echo(&mut second, b"world").await;
    echo(&mut third, &[7u8; 100_000]).await;

    // Closing one frees its slot.
    first.close(None).await.unwrap();
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(ws) = open(at, &peer, "127.0.0.1", good).await {
            again = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    echo(again.as_mut().expect("slot freed"), b"again").await;

    let metrics = get(at, "/metrics", &[]).await.text();
    for (reason, count) in [
        ("unknown_peer", 1),
        ("bad_peer_id", 1),
        ("origin", 2),
        ("not_websocket", 1),
        ("ip_cap", 1),
        ("session_cap", 1),
    ] {
        assert!(
            metric(
                &metrics,
                &format!("bridge_refusals_total{{reason=\"{reason}\"}}")
            ) >= count,
            "{reason}"
        );
        assert!(
            log_lines_with(&["relay_refused", &format!("reason=\"{reason}\"")]) as u64 >= count,
            "log line for {reason}"
        );
    }
    assert_eq!(metric(&metrics, "bridge_sessions_open"), 3);
    assert_eq!(metric(&metrics, "bridge_limit{name=\"max_sessions\"}"), 3);
    assert_eq!(
        metric(&metrics, "bridge_limit{name=\"max_sessions_per_ip\"}"),
        2
    );
    assert!(
        metric(
            &metrics,
            "bridge_relayed_bytes_total{direction=\"to_peer\"}"
        ) >= 100_015
    );
    assert!(log_lines_with(&["session_opened"]) >= 4);
    assert!(log_lines_with(&["session_closed", "reason=\"browser_closed\""]) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_address_needs_allow_private() {
    let (bridge, peer) = bridge_with_echo_peer(Limits::default()).await;
    let refused = open(bridge.local_addr(), &peer.to_string(), "127.0.0.1", None).await;
    assert_eq!(refused.err(), Some(403));
    let metrics = get(bridge.local_addr(), "/metrics", &[]).await.text();
    assert_eq!(
        metric(
            &metrics,
            "bridge_refusals_total{reason=\"private_address\"}"
        ),
        1
    );
    assert!(
        log_lines_with(&[
            "relay_refused",
            "reason=\"private_address\"",
            "--allow-private"
        ]) >= 1
    );
    assert_eq!(metric(&metrics, "bridge_limit{name=\"allow_private\"}"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_are_closed() {
    let limits = Limits {
        allow_private: true,
        idle_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (bridge, peer) = bridge_with_echo_peer(limits).await;
    let peer = peer.to_string();
    let mut ws = open(bridge.local_addr(), &peer, "127.0.0.1", None)
        .await
        .unwrap();
    echo(&mut ws, b"ping").await;
    let started = std::time::Instant::now();
    assert_eq!(close_code(&mut ws, Duration::from_secs(5)).await, 4000);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(log_lines_with(&["session_closed", "reason=\"idle_timeout\""]) >= 1);
    // Another session works afterwards.
    let mut other = open(bridge.local_addr(), &peer, "127.0.0.1", None)
        .await
        .unwrap();
    echo(&mut other, b"still serving").await;
    let metrics = get(bridge.local_addr(), "/metrics", &[]).await.text();
    assert_eq!(
        metric(
            &metrics,
            "bridge_session_closes_total{reason=\"idle_timeout\"}"
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_stop_at_the_byte_cap() {
    let limits = Limits {
        allow_private: true,
        max_session_bytes: 1000,
        ..Limits::default()
    };
    let (bridge, peer) = bridge_with_echo_peer(limits).await;
    let peer = peer.to_string();
    let mut ws = open(bridge.local_addr(), &peer, "127.0.0.1", None)
        .await
        .unwrap();
    echo(&mut ws, &[1u8; 400]).await; // 800 bytes relayed
    ws.send(Message::Binary(vec![2u8; 400].into()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut ws, Duration::from_secs(5)).await, 4001);
    assert!(log_lines_with(&["session_closed", "reason=\"byte_cap\""]) >= 1);
    let mut other = open(bridge.local_addr(), &peer, "127.0.0.1", None)
        .await
        .unwrap();
    echo(&mut other, b"next session").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_peers_static_files_and_api_errors() {
    let www = std::env::temp_dir().join(format!("beacon-p2p-www-{}", std::process::id()));
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<h1>demo</h1>").unwrap();
    let client = Client::start(Config::new(devnet_chain())).unwrap();
    let mut config = BridgeConfig::new("127.0.0.1:0".parse().unwrap());
    config.www = Some(www.clone());
    let bridge = Bridge::start(config, client).await.unwrap();
    let at = bridge.local_addr();

    assert_eq!(get(at, "/healthz", &[]).await.status, 200);
    let index = get(at, "/", &[]).await;
    assert_eq!(index.status, 200);
    assert_eq!(index.text(), "<h1>demo</h1>");
    assert!(index
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(get(at, "/../Cargo.toml", &[]).await.status, 404);
    assert_eq!(get(at, "/%2e%2e/Cargo.toml", &[]).await.status, 404);
    assert_eq!(get(at, "/missing.js", &[]).await.status, 404);
    let peers = get(at, "/peers", &[]).await;
    assert_eq!(peers.json(), serde_json::json!([]));
    // Pages on other origins (wallets, the wasm test runner) read the public routes.
    assert_eq!(peers.header("access-control-allow-origin"), Some("*"));
    let network = get(at, "/network", &[]).await.json();
    let chain = devnet_chain();
    assert_eq!(network["preset"], "minimal");
    assert_eq!(network["genesisTime"], chain.genesis_time.unwrap());
    assert_eq!(network["secondsPerSlot"], 2);
    assert_eq!(network["slotDurationMs"], 2000);
    assert_eq!(network["clockOffsetMs"], 0);
    // What the bridge hands out reads back as the same network.
    let root: beacon_p2p::primitives::Root =
        serde_json::from_value(network["genesisValidatorsRoot"].clone()).unwrap();
    let again =
        ChainConfig::from_config_yaml(network["configYaml"].as_str().unwrap(), root).unwrap();
    assert_eq!(again.genesis_validators_root, chain.genesis_validators_root);
    assert_eq!(again.forks, chain.forks);
    let metrics = get(at, "/metrics", &[]).await;
    assert!(metrics
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert!(metrics.text().contains("bridge_sessions_open 0"));

    let bad_root = get(at, "/eth/v1/beacon/light_client/bootstrap/0x1234", &[]).await;
    assert_eq!(bad_root.status, 400);
    assert_eq!(bad_root.json()["code"], 400);
    for query in [
        "",
        "?start_period=1",
        "?start_period=x&count=1",
        "?start_period=1&count=0",
        "?start_period=1&count=129",
    ] {
        let reply = get(
            at,
            &format!("/eth/v1/beacon/light_client/updates{query}"),
            &[],
        )
        .await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text());
        assert_eq!(reply.json()["code"], 400);
    }
    let topics = get(at, "/eth/v1/events?topics=head", &[]).await;
    assert_eq!(topics.status, 400);
    std::fs::remove_dir_all(&www).unwrap();
}
