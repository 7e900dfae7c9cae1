//! The sources part: what a Beacon-API source beside the peers costs when peers are healthy
//! (the default policy, p2p first, must add ≈ nothing), and what a call costs right after the
//! peer vanished and once the client knows it has none. Two test peers replay the recorded devnet
//! frozen in period 4: one serves p2p, the other's REST API is the Beacon API. Every call is
//! `updates(1, 4)` (always asked of the network, never answered from the node's recent updates).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use beacon_p2p::chain::ChainConfig;
use beacon_p2p::client::{Client, Config, DataSource, Event};
use beacon_p2p::node::LightClientRequest;
use futures::StreamExt;

use crate::common::*;

const GROUP: &str = "Getting data";
const REQUEST: LightClientRequest = LightClientRequest::UpdatesByRange {
    start_period: 1,
    count: 4,
};

pub struct Options {
    pub out: PathBuf,
    pub logs: PathBuf,
    pub calls: usize,
}

fn client(chain: &ChainConfig, peers: &[&str], rpc: &[&str]) -> Client {
    let mut config = Config::new(chain.clone());
    config.peers = peers.iter().map(|p| p.parse().unwrap()).collect();
    config.rpc = rpc.iter().map(|url| url.to_string()).collect();
    config.request_timeout = Duration::from_secs(5);
    config.request_deadline = Duration::from_secs(20);
    config.rate_limited_interval = Duration::ZERO;
    Client::start(config).unwrap()
}

async fn connected(client: &Client) {
    let mut events = client.events().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    if client.peers().await.iter().any(|p| p.connected) {
        return;
    }
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.next()).await {
        if matches!(event, Event::PeerConnected { .. }) {
            return;
        }
    }
    panic!("no peer connected within 30 s");
}

/// One call: milliseconds and its source.
async fn timed(client: &Client) -> (f64, DataSource) {
    let start = Instant::now();
    let answer = client
        .fetch_sourced(REQUEST)
        .await
        .expect("the call succeeds");
    assert_eq!(answer.data.len(), 4);
    (start.elapsed().as_secs_f64() * 1000.0, answer.source)
}

pub async fn run(options: Options) {
    std::fs::create_dir_all(&options.logs).unwrap();
    let frozen = ["--slot-ms", "3600000", "--start-slot", "300", "--no-gossip"];
    let (peer_process, peer) = start_test_peer(&frozen, &options.logs.join("sources-peer.log"));
    let mut api_args = frozen.to_vec();
    api_args.extend(["--rest-port", "0"]);
    let (_api_process, api) = start_test_peer(&api_args, &options.logs.join("sources-api.log"));
    let multiaddr = peer["multiaddr"].as_str().unwrap().to_string();
    let url = format!("http://{}", api["rest"].as_str().unwrap());
    let chain = ChainConfig::from_directory(&devnet_dir()).expect("devnet config");

    let p2p_only = client(&chain, &[&multiaddr], &[]);
    let beside_api = client(&chain, &[&multiaddr], &[&url]);
    let api_only = client(&chain, &[], &[&url]);
    connected(&p2p_only).await;
    connected(&beside_api).await;
    for client in [&p2p_only, &beside_api, &api_only] {
        for _ in 0..3 {
            timed(client).await;
        }
    }

    // Peers healthy: the same call on each client, in alternating order.
    let (mut alone, mut beside, mut direct) = (Vec::new(), Vec::new(), Vec::new());
    for call in 0..options.calls {
        let order: [(&Client, &mut Vec<f64>); 3] = if call % 2 == 0 {
            [
                (&p2p_only, &mut alone),
                (&beside_api, &mut beside),
                (&api_only, &mut direct),
            ]
        } else {
            [
                (&api_only, &mut direct),
                (&beside_api, &mut beside),
                (&p2p_only, &mut alone),
            ]
        };
        for (client, times) in order {
            let (ms, source) = timed(client).await;
            if std::ptr::eq(client, &beside_api) {
                assert!(matches!(source, DataSource::P2p { .. }), "{source:?}");
            }
            times.push(ms);
        }
    }

    // The peer goes: the first call, before the client has noticed, then calls once it knows.
    drop(peer_process);
    let (vanished, source) = timed(&beside_api).await;
    assert!(matches!(source, DataSource::Rpc { .. }), "{source:?}");
    for _ in 0..100 {
        if !beside_api.peers().await.iter().any(|p| p.connected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut gone = Vec::new();
    for _ in 0..options.calls {
        let (ms, source) = timed(&beside_api).await;
        assert!(matches!(source, DataSource::Rpc { .. }), "{source:?}");
        gone.push(ms);
    }
    let calls = options.calls;
    let rows = vec![
        row(
            GROUP,
            "updates(1, 4), peers healthy: p2p first with a Beacon API configured (median)",
            median(&beside),
            "the same client without the Beacon API",
            median(&alone),
            "ms",
            "lower",
            Some("<= 1.1x"),
            Some(format!(
                "{calls} calls each, alternating; every answer from the peer; p2p only p90 {:.2} ms, with the API p90 {:.2} ms",
                quantile(&alone, 0.9),
                quantile(&beside, 0.9)
            )),
        ),
        row(
            GROUP,
            "updates(1, 4), first call after the peer vanished (not noticed yet)",
            vanished,
            "the Beacon API alone (median)",
            median(&direct),
            "ms",
            "lower",
            None,
            Some("the p2p attempt fails on the closed connection, then the Beacon API answers; at most the 2 s budget when a peer hangs instead".into()),
        ),
        row(
            GROUP,
            "updates(1, 4), no peer connected: p2p first with a Beacon API (median)",
            median(&gone),
            "the Beacon API alone (median)",
            median(&direct),
            "ms",
            "lower",
            Some("<= 1.5x"),
            Some(format!("{calls} calls; no budget spent waiting when no peer has completed Status")),
        ),
    ];
    write_rows(&options.out, &rows);
    for client in [p2p_only, beside_api, api_only] {
        client.shutdown().await;
    }
}
