//! Beacon-API sources (`beacon_p2p::rpc`) against the test peer's REST API: the same objects as
//! over p2p, and answers that do not hold refused as bad data.

#![cfg(not(target_arch = "wasm32"))]
mod common;

use std::time::Duration;

use beacon_p2p::chain::ChainConfig;
use beacon_p2p::client::{Client, Config, DataSource, Event, SourcePolicy};
use beacon_p2p::node::LightClientRequest;
use beacon_p2p::primitives::Root;
use beacon_p2p::rpc::{RpcError, RpcSource};
use common::peer::TestPeer;
use common::*;
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BOOTSTRAP_ROOT: &str = "0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5";

fn devnet_chain() -> ChainConfig {
    ChainConfig::from_directory(&devnet_dir()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rest_api_gives_what_peers_give() {
    let peer = TestPeer::start(&["--rest-port", "0", "--no-gossip", "--slot-ms", "600000"]);
    let rest = peer
        .rest
        .clone()
        .expect("the test peer prints its REST address");
    let chain = devnet_chain();
    let rpc = RpcSource::new(&format!("http://{rest}/"), Duration::from_secs(10)).unwrap();
    assert_eq!(rpc.url(), format!("http://{rest}"));

    let mut config = Config::new(chain.clone());
    config.peers = vec![peer.multiaddr.parse().unwrap()];
    let client = Client::start(config).unwrap();
    let root = Root::from_hex(BOOTSTRAP_ROOT).unwrap();
    let requests = [
        LightClientRequest::Bootstrap(root),
        LightClientRequest::UpdatesByRange {
            start_period: 0,
            count: 2,
        },
        LightClientRequest::FinalityUpdate,
        LightClientRequest::OptimisticUpdate,
    ];
    // The test peer's REST API answers JSON; the bridge's light-client routes answer SSZ when
    // asked for it, as the native client does.
    let bridge = BridgeProcess::start(&peer, None);
    bridge.wait_offered(&peer).await;
    let over_ssz = RpcSource::new(
        &format!("http://{}", bridge.listen),
        Duration::from_secs(10),
    )
    .unwrap();
    for (rpc, request) in requests
        .iter()
        .flat_map(|request| [(&rpc, request), (&over_ssz, request)])
    {
        let over_rpc = rpc.fetch(&chain, request).await.unwrap();
        let over_p2p = match request {
            LightClientRequest::Bootstrap(root) => vec![client.bootstrap(*root).await.unwrap()],
            LightClientRequest::UpdatesByRange {
                start_period,
                count,
            } => client.updates(*start_period, *count).await.unwrap(),
            LightClientRequest::FinalityUpdate => vec![client.finality_update().await.unwrap()],
            _ => vec![client.optimistic_update().await.unwrap()],
        };
        assert!(!over_rpc.is_empty(), "{request:?}");
        assert_eq!(over_rpc, over_p2p, "{} {request:?}", rpc.url());
    }
    drop(bridge);

    // An unknown root is "not found", not bad data; light-client routes are not block routes.
    let unknown = Root::from_hex(&format!("0x{}", "11".repeat(32))).unwrap();
    let error = rpc
        .fetch(&chain, &LightClientRequest::Bootstrap(unknown))
        .await
        .unwrap_err();
    assert!(matches!(error, RpcError::NotFound { .. }), "{error}");
    assert!(matches!(
        rpc.fetch(&chain, &LightClientRequest::BlocksByRoot(vec![root]))
            .await,
        Err(RpcError::Unsupported(_))
    ));
    client.shutdown().await;

    // The CLI with the Beacon API alone prints what it prints over p2p.
    let fetch = |source: Vec<String>| {
        let devnet = devnet_dir().display().to_string();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_beacon-p2p"))
                .args(["fetch", "--testnet-dir", &devnet, "--timeout", "20"])
                .args(source)
                .arg("finality-update")
                .output()
                .unwrap()
        })
    };
    let over_rpc = fetch(vec![
        "--rpc".into(),
        rpc.url().into(),
        "--no-discovery".into(),
    ])
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&over_rpc.stderr);
    assert!(over_rpc.status.success(), "{stderr}");
    assert!(
        stderr.contains("Rpc"),
        "the log says where it came from: {stderr}"
    );
    let over_p2p = fetch(vec!["--peer".into(), peer.multiaddr.clone()])
        .await
        .unwrap();
    assert!(
        over_p2p.status.success(),
        "{}",
        String::from_utf8_lossy(&over_p2p.stderr)
    );
    let parse = |output: &std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "{error}: stdout {:?}, stderr {}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        })
    };
    let (over_rpc, over_p2p) = (parse(&over_rpc), parse(&over_p2p));
    assert_eq!(over_rpc, over_p2p);
}

/// A server that answers every request with `body` (status 200), once per connection.
async fn lying_server(body: Vec<u8>) -> String {
    lying_routes(vec![("/", body)]).await
}

/// A server that answers a GET whose path contains a route's text with its body (200), and
/// anything else with 404; one request per connection.
async fn lying_routes(routes: Vec<(&'static str, Vec<u8>)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut request = vec![0; 4096];
                let read = socket.read(&mut request).await.unwrap_or(0);
                let line = String::from_utf8_lossy(&request[..read])
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let (status, body) = routes
                    .iter()
                    .find(|(route, _)| line.contains(route))
                    .map_or(
                        ("404 Not Found", br#"{"code":404,"message":"no"}"#.to_vec()),
                        |(_, body)| ("200 OK", body.clone()),
                    );
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_that_do_not_hold_are_bad_data() {
    let chain = devnet_chain();
    let capture = devnet_dir().join("bootstrap");
    let bootstrap = std::fs::read_dir(&capture)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "json"))
        .expect("a bootstrap JSON in the capture");
    let bootstrap = std::fs::read(bootstrap).unwrap();
    let url = lying_server(bootstrap.clone()).await;
    let rpc = RpcSource::new(&url, Duration::from_secs(5)).unwrap();

    // A real bootstrap, but not the one asked for.
    let other = Root::from_hex(&format!("0x{}", "22".repeat(32))).unwrap();
    let error = rpc
        .fetch(&chain, &LightClientRequest::Bootstrap(other))
        .await
        .unwrap_err();
    assert!(error.is_bad_data(), "{error}");
    assert!(error.to_string().contains("another block"), "{error}");
    // A bootstrap where updates were asked for.
    let error = rpc
        .fetch(
            &chain,
            &LightClientRequest::UpdatesByRange {
                start_period: 0,
                count: 1,
            },
        )
        .await
        .unwrap_err();
    assert!(error.is_bad_data(), "{error}");

    // Not JSON, and JSON of another shape.
    for body in [&b"<html>"[..], br#"{"version":"deneb","data":{}}"#] {
        let rpc =
            RpcSource::new(&lying_server(body.to_vec()).await, Duration::from_secs(5)).unwrap();
        let error = rpc
            .fetch(&chain, &LightClientRequest::FinalityUpdate)
            .await
            .unwrap_err();
        assert!(error.is_bad_data(), "{error}");
    }

    // Nobody listening: an HTTP error, not a hang.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let rpc = RpcSource::new(&format!("http://{address}"), Duration::from_secs(5)).unwrap();
    let error = rpc
        .fetch(&chain, &LightClientRequest::OptimisticUpdate)
        .await
        .unwrap_err();
    assert!(matches!(error, RpcError::Http { .. }), "{error}");
}

/// A free TCP port on 127.0.0.1 (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits up to `timeout` for an event matching `predicate`.
async fn wait_event(
    events: &mut (impl futures::Stream<Item = Event> + Unpin),
    timeout: Duration,
    predicate: impl Fn(&Event) -> bool,
) -> Option<Event> {
    let deadline = tokio::time::Instant::now() + timeout;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.next()).await {
        if predicate(&event) {
            return Some(event);
        }
    }
    None
}

/// A client on `config` and its events, once a peer has completed Status.
async fn start_connected(config: Config) -> (Client, impl futures::Stream<Item = Event> + Unpin) {
    let client = Client::start(config).unwrap();
    let mut events = client.events().await;
    wait_event(&mut events, Duration::from_secs(10), |event| {
        matches!(event, Event::PeerConnected { .. })
    })
    .await
    .expect("the peer connects");
    (client, events)
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_switch_to_the_beacon_api_when_peers_go_and_back_when_they_return() {
    let secret = hex::encode(common::discovery::fresh_secret(7));
    let port = free_port().to_string();
    let peer_args = [
        "--port",
        &port,
        "--private-key-hex",
        &secret,
        "--no-gossip",
        "--slot-ms",
        "600000",
    ];
    let peer = TestPeer::start(&peer_args);
    // The Beacon API: another replay of the same capture, its REST side only.
    let api = TestPeer::start(&["--rest-port", "0", "--no-gossip", "--slot-ms", "600000"]);
    let url = format!("http://{}", api.rest.clone().unwrap());

    let mut config = Config::new(devnet_chain());
    config.peers = vec![peer.multiaddr.parse().unwrap()];
    config.rpc = vec![url.clone()];
    config.p2p_budget = Duration::from_millis(500);
    config.request_timeout = Duration::from_secs(3);
    config.request_deadline = Duration::from_secs(10);
    config.rate_limited_interval = Duration::ZERO;
    // Before any peer is connected a call asks both at once (no budget spent waiting): wait
    // for the peer's Status so the first call shows the healthy case.
    let (client, mut events) = start_connected(config).await;

    // Peers healthy: p2p answers (the default policy is p2p first).
    let first = client
        .fetch_sourced(LightClientRequest::FinalityUpdate)
        .await
        .unwrap();
    assert_eq!(
        first.source,
        DataSource::P2p {
            peer: peer.peer_id.clone()
        },
        "the peer that answered is named"
    );

    // The peer goes: calls keep succeeding, over the Beacon API, and the switch is an event.
    let peer_id = peer.peer_id.clone();
    drop(peer);
    for _ in 0..100 {
        let peers = client.peers().await;
        if !peers.iter().any(|p| p.peer_id == peer_id && p.connected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..3 {
        let answer = client
            .fetch_sourced(LightClientRequest::FinalityUpdate)
            .await
            .unwrap();
        assert_eq!(answer.source, DataSource::Rpc { url: url.clone() });
        assert_eq!(answer.data, first.data, "the same capture");
    }
    let switched = wait_event(&mut events, Duration::from_secs(5), |event| {
        matches!(event, Event::SourceSwitched { to: "rpc", .. })
    })
    .await
    .expect("a switch to rpc");
    let Event::SourceSwitched { from, reason, .. } = switched else {
        unreachable!()
    };
    assert_eq!(from, "p2p");
    assert_eq!(reason, "no peer connected");
    let reports = client.sources();
    assert_eq!(reports[0].source, "p2p");
    assert_eq!(reports[0].answers, 1, "{reports:?}");
    assert_eq!(reports[1].source, url);
    assert_eq!(reports[1].answers, 3, "{reports:?}");

    // The peer comes back (same key, same port): the client returns to it; no call fails.
    let peer = TestPeer::start(&peer_args);
    let mut back = false;
    for _ in 0..60 {
        let answer = client
            .fetch_sourced(LightClientRequest::FinalityUpdate)
            .await
            .unwrap();
        if matches!(answer.source, DataSource::P2p { .. }) {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(back, "back on p2p: {:?}", client.sources());
    assert!(wait_event(&mut events, Duration::from_secs(5), |event| {
        matches!(
            event,
            Event::SourceSwitched {
                from: "rpc",
                to: "p2p",
                ..
            }
        )
    })
    .await
    .is_some());

    // The Beacon API goes: p2p alone.
    drop(api);
    let answer = client
        .fetch_sourced(LightClientRequest::OptimisticUpdate)
        .await
        .unwrap();
    assert!(
        matches!(answer.source, DataSource::P2p { .. }),
        "{:?}",
        answer.source
    );
    client.shutdown().await;
    drop(peer);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_beacon_api_whose_data_does_not_verify_is_flagged_and_demoted() {
    let synthnet = common::synthnet::dir();
    let mut forged: serde_json::Value = serde_json::from_slice(
        &std::fs::read(synthnet.join("finality_update/13221883_20d7fc03.json")).unwrap(),
    )
    .unwrap();
    // Another finalized header than the finality branch proves.
    forged["data"]["finalized_header"]["beacon"]["body_root"] =
        format!("0x{}", "ab".repeat(32)).into();
    let liar = lying_routes(vec![(
        "finality_update",
        serde_json::to_vec(&forged).unwrap(),
    )])
    .await;

    let peer = common::synthnet::peer(&[]);
    let client = common::synthnet::client(&[&peer], |config| {
        config.rpc = vec![liar.clone()];
        config.source_policy = SourcePolicy::Race;
    });
    let mut events = client.events().await;
    let checkpoint = Root::from_hex(common::synthnet::CHECKPOINT_ROOT).unwrap();
    // Sync asks everything of both at once: the liar has only its forged finality update.
    let heads = client.sync(checkpoint).await.unwrap();
    assert_eq!(heads.finalized.slot, 13221792);
    let flagged = wait_event(&mut events, Duration::from_secs(5), |event| {
        matches!(event, Event::SourceMisbehaved { .. })
    })
    .await
    .expect("the liar flagged");
    let Event::SourceMisbehaved { source, reason } = flagged else {
        unreachable!()
    };
    assert_eq!(source, liar);
    assert!(reason.contains("does not verify"), "{reason}");
    let reports = client.sources();
    assert_eq!(reports[1].misbehaved, 1, "{reports:?}");
    assert!(reports[1].demoted, "{reports:?}");

    // Demoted: not asked again while the peer keeps answering.
    let answer = client
        .fetch_sourced(LightClientRequest::FinalityUpdate)
        .await
        .unwrap();
    assert!(
        matches!(answer.source, DataSource::P2p { .. }),
        "{:?}",
        answer.source
    );
    assert_eq!(client.sources()[1].misbehaved, 1);
    client.shutdown().await;
}

/// `beacon-p2p bridge` with one `--peer` (and `--rpc`, when given), killed on drop.
struct BridgeProcess {
    child: std::process::Child,
    listen: std::net::SocketAddr,
}

impl BridgeProcess {
    fn start(peer: &TestPeer, rpc: Option<&str>) -> BridgeProcess {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_beacon-p2p"))
            .arg("bridge")
            .arg("--testnet-dir")
            .arg(devnet_dir())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--no-discovery",
                "--allow-private",
            ])
            .args(["--peer", &peer.multiaddr, "--p2p-budget-ms", "500"])
            .args(rpc.map(|url| ["--rpc", url]).into_iter().flatten())
            .args(["--timeout", "10"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let hello: serde_json::Value = serde_json::from_str(&first).expect("the bridge's line");
        BridgeProcess {
            listen: hello["listen"].as_str().unwrap().parse().unwrap(),
            child,
        }
    }
}

impl BridgeProcess {
    /// Waits until the bridge offers `peer` (its client completed Status with it).
    async fn wait_offered(&self, peer: &TestPeer) {
        for _ in 0..100 {
            let peers = common::http::get(self.listen, "/peers", &[]).await.json();
            if peers
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["peerId"] == peer.peer_id.as_str())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the bridge does not offer {}", peer.peer_id);
    }
}

impl Drop for BridgeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bridge_with_rpc_says_which_source_served_each_answer() {
    use common::http::get;
    let peer = TestPeer::start(&["--no-gossip", "--slot-ms", "600000"]);
    let api = TestPeer::start(&["--rest-port", "0", "--no-gossip", "--slot-ms", "600000"]);
    let url = format!("http://{}", api.rest.clone().unwrap());
    let bridge = BridgeProcess::start(&peer, Some(&url));
    bridge.wait_offered(&peer).await;

    let route = "/eth/v1/beacon/light_client/updates?start_period=1&count=2";
    let first = get(bridge.listen, route, &[]).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let by_peer = format!("p2p; peer={}", peer.peer_id);
    assert_eq!(first.header("beacon-p2p-source"), Some(by_peer.as_str()));
    let peers = get(bridge.listen, "/peers", &[]).await.json();
    let entry = peers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peerId"] == peer.peer_id.as_str())
        .unwrap();
    assert_eq!(entry["served"], 1, "{entry}");

    // The peer goes: the same route is answered from the Beacon API, and says so.
    drop(peer);
    let second = get(bridge.listen, route, &[]).await;
    assert_eq!(second.status, 200, "{}", second.text());
    let by_rpc = format!("rpc; url={url}");
    assert_eq!(second.header("beacon-p2p-source"), Some(by_rpc.as_str()));
    assert_eq!(second.json(), first.json(), "the same capture");

    let metrics = get(bridge.listen, "/metrics", &[]).await.text();
    for line in [
        "bridge_served_total{route=\"updates\",source=\"p2p\"} 1".to_string(),
        format!("bridge_served_total{{route=\"updates\",source=\"{url}\"}} 1"),
        "bridge_source_answers_total{source=\"p2p\",kind=\"p2p\"} 1".to_string(),
        format!("bridge_source_answers_total{{source=\"{url}\",kind=\"rpc\"}} 1"),
        format!("bridge_source_demoted{{source=\"{url}\",kind=\"rpc\"}} 0"),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in\n{metrics}"
        );
    }
    drop(api);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_checkpoint_sources_that_disagree_are_reported() {
    let peer = TestPeer::start(&["--rest-port", "0", "--no-gossip", "--slot-ms", "600000"]);
    let rest: std::net::SocketAddr = peer.rest.clone().unwrap().parse().unwrap();
    let honest = common::http::get(rest, "/eth/v1/beacon/light_client/finality_update", &[])
        .await
        .json();
    let mut forged = honest.clone();
    forged["data"]["finalized_header"]["beacon"]["body_root"] =
        format!("0x{}", "ab".repeat(32)).into();
    let liar = lying_routes(vec![(
        "finality_update",
        serde_json::to_vec(&forged).unwrap(),
    )])
    .await;

    let mut config = Config::new(devnet_chain());
    config.peers = vec![peer.multiaddr.parse().unwrap()];
    config.rpc = vec![liar.clone()];
    config.rate_limited_interval = Duration::ZERO;
    config.request_timeout = Duration::from_secs(3);
    let (client, mut events) = start_connected(config).await;
    let first = client
        .fetch_sourced(LightClientRequest::FinalityUpdate)
        .await
        .unwrap();
    assert!(matches!(first.source, DataSource::P2p { .. }));

    // The peer goes; the Beacon API's finality update names another finalized header for the
    // same slot. Without a store neither can be proved: the disagreement is reported.
    let peer_id = peer.peer_id.clone();
    drop(peer);
    let second = client
        .fetch_sourced(LightClientRequest::FinalityUpdate)
        .await
        .unwrap();
    assert_eq!(second.source, DataSource::Rpc { url: liar.clone() });
    let reported = wait_event(&mut events, Duration::from_secs(5), |event| {
        matches!(event, Event::SourcesDisagree { .. })
    })
    .await
    .expect("the disagreement is reported");
    let Event::SourcesDisagree {
        slot,
        header,
        earlier,
        later,
    } = &reported
    else {
        unreachable!()
    };
    assert_eq!(header, &"finalized");
    assert_eq!(
        slot.to_string(),
        honest["data"]["finalized_header"]["beacon"]["slot"]
            .as_str()
            .unwrap()
    );
    assert_eq!(earlier.1, peer_id);
    assert_eq!(later.1, liar);
    assert_ne!(earlier.0, later.0);
    let (name, fields) = reported.source_report().unwrap();
    assert_eq!(name, "sources_disagree");
    assert_eq!(fields["later"]["source"], liar.as_str());
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn blocks_come_from_the_beacon_api_as_ssz_or_json_and_must_be_the_one_asked_for() {
    use beacon_p2p::client::BlockId;
    let synthnet = common::synthnet::dir();
    let name = "13221792_0xf1d96448886de1b7431cf906829d391e7587107f6b8db754a29012ae43884169";
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(synthnet.join(format!("blocks/{name}.json"))).unwrap(),
    )
    .unwrap();
    let root = Root::from_hex("0xf1d96448886de1b7431cf906829d391e7587107f6b8db754a29012ae43884169")
        .unwrap();
    // The test peer's REST API answers SSZ (with Eth-Consensus-Version) when asked for it, as
    // the native client does.
    let api = common::synthnet::peer(&["--rest-port", "0"]);
    let url = format!("http://{}", api.rest.clone().unwrap());
    let client = common::synthnet::client(&[], |config| config.rpc = vec![url.clone()]);
    for id in [BlockId::Slot(13221792), BlockId::Root(root)] {
        let fetched = client.block_with_finality(id).await.unwrap();
        assert_eq!(fetched.source, DataSource::Rpc { url: url.clone() }, "{id}");
        assert_eq!(fetched.block.block_root(), root, "{id}");
        assert_eq!(
            fetched.block.to_beacon_api_json(false, false)["data"],
            expected["data"]
        );
    }
    // An empty slot and an unknown root: not found, as from a peer.
    for id in [BlockId::Slot(13221864), BlockId::Root(Root::from([7; 32]))] {
        let error = client.block(id).await.unwrap_err();
        assert_eq!(error.code(), "NOT_FOUND", "{id}: {error}");
    }
    client.shutdown().await;

    // JSON (a server without SSZ) is read too; a block other than the one asked for is a lie.
    let json_only = lying_routes(vec![(
        "/eth/v2/beacon/blocks/",
        serde_json::to_vec(&expected).unwrap(),
    )])
    .await;
    let client = common::synthnet::client(&[], |config| config.rpc = vec![json_only.clone()]);
    let mut events = client.events().await;
    let fetched = client
        .block_with_finality(BlockId::Root(root))
        .await
        .unwrap();
    assert_eq!(fetched.block.block_root(), root);
    let other = Root::from([9; 32]);
    let error = client.block(BlockId::Root(other)).await.unwrap_err();
    // Every source failed and no peer could be asked: the Beacon API's error decides.
    assert_eq!(error.code(), "RPC_ERROR", "{error}");
    assert!(error.to_string().contains("asked for block"), "{error}");
    let flagged = wait_event(&mut events, Duration::from_secs(5), |event| {
        matches!(event, Event::SourceMisbehaved { .. })
    })
    .await
    .expect("the lie is flagged");
    let Event::SourceMisbehaved { reason, .. } = flagged else {
        unreachable!()
    };
    assert!(reason.contains("asked for block"), "{reason}");
    assert!(client.sources()[1].demoted, "{:?}", client.sources());
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn data_the_node_kept_from_a_beacon_api_is_not_reported_as_p2p() {
    let api = TestPeer::start(&["--rest-port", "0", "--no-gossip", "--slot-ms", "600000"]);
    let url = format!("http://{}", api.rest.clone().unwrap());
    let mut config = Config::new(devnet_chain());
    config.rpc = vec![url.clone()];
    // The default quota: a latest update younger than it is answered from what the node has.
    let client = Client::start(config).unwrap();
    let mut events = client.events().await;
    let root = Root::from_hex(BOOTSTRAP_ROOT).unwrap();
    for _ in 0..2 {
        for request in [
            LightClientRequest::FinalityUpdate,
            LightClientRequest::Bootstrap(root),
        ] {
            let answer = client.fetch_sourced(request.clone()).await.unwrap();
            assert_eq!(
                answer.source,
                DataSource::Rpc { url: url.clone() },
                "{request:?}"
            );
        }
    }
    let reports = client.sources();
    assert_eq!(reports[0].source, "p2p");
    assert_eq!(reports[0].answers, 0, "{reports:?}");
    // No peer ever answered: no switch to p2p.
    let switched = wait_event(&mut events, Duration::from_millis(300), |event| {
        matches!(event, Event::SourceSwitched { to: "p2p", .. })
    })
    .await;
    assert!(switched.is_none(), "{switched:?}");
    client.shutdown().await;
}
