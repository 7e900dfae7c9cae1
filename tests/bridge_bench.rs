//! Measurements for the bridge note (ignored by default; loopback only, bounded, stops by itself):
//!   cargo test --release --test bridge_bench -- --ignored --nocapture --test-threads 1
//! Relay throughput and round-trip latency against a direct TCP connection, and the RSS growth
//! with 1,000 idle relay sessions open.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use beacon_p2p::bridge::table::Source;
use beacon_p2p::bridge::{Bridge, BridgeConfig, Limits};
use beacon_p2p::chain::ChainConfig;
use beacon_p2p::client::{Client, Config};
use common::http::echo_server;
use common::*;
use futures::{SinkExt, StreamExt};
use libp2p::{identity, Multiaddr, PeerId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const CHUNK: usize = 64 * 1024;
const TOTAL: usize = 256 * 1024 * 1024;
const ROUND_TRIPS: usize = 2000;

async fn bridge(limits: Limits) -> (Bridge, PeerId, SocketAddr) {
    let chain = ChainConfig::from_directory(&devnet_dir()).unwrap();
    let client = Client::start(Config::new(chain)).unwrap();
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
    bridge.table().verified(&peer, None);
    (bridge, peer, echo)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run by hand for the note"]
async fn relay_throughput_latency_and_idle_rss() {
    let limits = Limits {
        allow_private: true,
        max_sessions: 2000,
        max_sessions_per_ip: 2000,
        max_session_bytes: u64::MAX,
        ..Limits::default()
    };
    let (bridge, peer, echo) = bridge(limits).await;
    let url = format!("ws://{}/relay/{peer}", bridge.local_addr());

    // Direct TCP: write CHUNKs, read the echo, concurrently.
    let direct = TcpStream::connect(echo).await.unwrap();
    direct.set_nodelay(true).unwrap();
    let (mut read, mut write) = direct.into_split();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        let chunk = vec![5u8; CHUNK];
        for _ in 0..TOTAL / CHUNK {
            write.write_all(&chunk).await.unwrap();
        }
        write
    });
    let mut buffer = vec![0u8; CHUNK];
    let mut got = 0;
    while got < TOTAL {
        got += read.read(&mut buffer).await.unwrap();
    }
    let direct_rate = TOTAL as f64 / start.elapsed().as_secs_f64() / 1e6;
    let mut write = writer.await.unwrap();
    // Direct round trips of 64 bytes.
    let start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        write.write_all(&[1u8; 64]).await.unwrap();
        read.read_exact(&mut buffer[..64]).await.unwrap();
    }
    let direct_rtt = start.elapsed().as_secs_f64() * 1e6 / ROUND_TRIPS as f64;

    // Through the relay.
    let (ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (mut sink, mut stream) = ws.split();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        let chunk = vec![5u8; CHUNK];
        for _ in 0..TOTAL / CHUNK {
            sink.send(Message::Binary(chunk.clone().into()))
                .await
                .unwrap();
        }
        sink
    });
    let mut got = 0;
    while got < TOTAL {
        match stream.next().await.unwrap().unwrap() {
            Message::Binary(data) => got += data.len(),
            other => panic!("{other:?}"),
        }
    }
    let relay_rate = TOTAL as f64 / start.elapsed().as_secs_f64() / 1e6;
    let mut sink = writer.await.unwrap();
    let start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        sink.send(Message::Binary(vec![1u8; 64].into()))
            .await
            .unwrap();
        let mut got = 0;
        while got < 64 {
            if let Message::Binary(data) = stream.next().await.unwrap().unwrap() {
                got += data.len();
            }
        }
    }
    let relay_rtt = start.elapsed().as_secs_f64() * 1e6 / ROUND_TRIPS as f64;
    println!(
        "throughput (echo, {} MiB each way): direct TCP {direct_rate:.0} MB/s, relay {relay_rate:.0} MB/s",
        TOTAL >> 20
    );
    println!(
        "round trip (64 B, mean of {ROUND_TRIPS}): direct TCP {direct_rtt:.1} µs, relay {relay_rtt:.1} µs (added {:.1} µs)",
        relay_rtt - direct_rtt
    );
    drop((sink, stream));

    // 1,000 idle sessions.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib();
    let mut sessions = Vec::new();
    for _ in 0..1000 {
        let (ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        sessions.push(ws);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib();
    let metrics = bridge.metrics();
    assert_eq!(
        metrics
            .sessions_open
            .load(std::sync::atomic::Ordering::Relaxed),
        1000
    );
    println!(
        "RSS with 1000 idle sessions: {} KiB → {} KiB (+{} KiB, {:.1} KiB per session; includes the test's own 1000 client WebSockets and the echo server's 1000 sockets)",
        before,
        after,
        after - before,
        (after - before) as f64 / 1000.0
    );
}
