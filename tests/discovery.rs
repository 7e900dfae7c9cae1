//! discv5 in the native client: `beacon-p2p fetch --testnet-dir DIR` with nothing but a
//! `boot_enr.yaml` finds the test peer through a look-up and fetches from it. The bootnode has
//! no TCP port and is not the peer, so only discovery can lead the client to the peer.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use beacon_p2p::chain::ChainConfig;
use common::discovery::{advertised_peer, bootnode_knowing, fresh_secret};
use common::*;
use serde_json::Value;

/// A network-config directory with the devnet's config and genesis and `boot_enr` as its only
/// bootnode.
fn testnet_dir_with_bootnode(boot_enr: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "beacon-p2p-discovery-{}-{}",
        std::process::id(),
        fresh_secret(9)[0]
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["config.yaml", "genesis.ssz"] {
        std::fs::copy(devnet_dir().join(file), dir.join(file)).unwrap();
    }
    std::fs::write(dir.join("boot_enr.yaml"), format!("- {boot_enr}\n")).unwrap();
    dir
}

async fn beacon_p2p(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_beacon-p2p"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn fetch_args(dir: &Path, extra: &[&str]) -> Vec<String> {
    ["fetch", "--testnet-dir", dir.to_str().unwrap()]
        .iter()
        .chain(extra)
        .map(|arg| arg.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_finds_the_peer_from_a_boot_enr_alone() {
    let chain = ChainConfig::from_directory(&devnet_dir()).unwrap();
    let (peer, _advertiser, record) = advertised_peer(&chain).await;
    let (_bootnode, boot) = bootnode_knowing(&record).await;
    assert!(boot.tcp4().is_none(), "the bootnode is no peer to dial");
    let dir = testnet_dir_with_bootnode(&boot.to_base64());

    let found = beacon_p2p(fetch_args(&dir, &["--timeout", "40", "finality-update"])).await;
    let stderr = String::from_utf8_lossy(&found.stderr);
    assert!(found.status.success(), "{stderr}");
    assert!(
        stderr.contains("discv5 candidate") && stderr.contains(&peer.peer_id),
        "{stderr}"
    );
    // What discovery led to is the peer itself: the same answer as dialing it directly.
    let direct = beacon_p2p(fetch_args(
        &devnet_dir(),
        &["--peer", &peer.multiaddr, "finality-update"],
    ))
    .await;
    assert!(direct.status.success());
    let found: Value = serde_json::from_slice(&found.stdout).unwrap();
    let direct: Value = serde_json::from_slice(&direct.stdout).unwrap();
    assert_eq!(found, direct);
    assert!(found["data"]["finalized_header"]["beacon"]["slot"].is_string());

    // Without discovery a discv5-only bootnode leaves nothing to dial: a usage error at once.
    let refused = beacon_p2p(fetch_args(&dir, &["--no-discovery", "finality-update"])).await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no peer to dial"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
