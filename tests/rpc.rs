//! Beacon-API sources (`beacon_p2p::rpc`) against the test peer's REST API: the same objects as
//! over p2p, and answers that do not hold refused as bad data.

#![cfg(not(target_arch = "wasm32"))]
mod common;

use std::time::Duration;

use beacon_p2p::chain::ChainConfig;
use beacon_p2p::client::{Client, Config};
use beacon_p2p::node::LightClientRequest;
use beacon_p2p::primitives::Root;
use beacon_p2p::rpc::{RpcError, RpcSource};
use common::peer::TestPeer;
use common::*;
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
    for request in &requests {
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
        assert_eq!(over_rpc, over_p2p, "{request:?}");
    }

    // An unknown root is "not found", not bad data; blocks are not asked of RPC.
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
}

/// A server that answers every request with `body` (status 200), once per connection.
async fn lying_server(body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = vec![0; 4096];
                let _ = socket.read(&mut request).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
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
