//! discv5 nodes on loopback for the discovery tests: one that advertises the test peer (its key,
//! its TCP port, our `eth2` field), and a bootnode without a TCP port that only *knows* such a
//! record, so a client can reach the peer through a look-up and nothing else.

use std::sync::Arc;

use beacon_p2p::chain::{ChainConfig, Clock};
use discv5::{ConfigBuilder, Discv5, Enr, ListenConfig};
use enr::{CombinedKey, EnrKey, NodeId};
use sha2::Digest;

/// A secp256k1 secret key that is new each run (`salt` tells several apart).
pub fn fresh_secret(salt: u8) -> [u8; 32] {
    let mut hasher = sha2::Sha256::new();
    hasher.update(std::process::id().to_le_bytes());
    hasher.update([salt]);
    hasher.update(format!("{:?}", std::time::SystemTime::now()).as_bytes());
    hasher.finalize().into()
}

async fn start(record: Enr, key: CombinedKey, udp: tokio::net::UdpSocket) -> Discv5 {
    let mut node = Discv5::new(
        record,
        key,
        ConfigBuilder::new(ListenConfig::FromSockets {
            ipv4: Some(Arc::new(udp)),
            ipv6: None,
        })
        .build(),
    )
    .unwrap();
    node.start().await.unwrap();
    node
}

/// A test peer replaying the devnet capture (no gossip, ten-minute slots) under a fresh key, and
/// a discv5 node with that key advertising its TCP port on our fork.
pub async fn advertised_peer(chain: &ChainConfig) -> (super::peer::TestPeer, Discv5, Enr) {
    let secret = fresh_secret(0);
    let peer = super::peer::TestPeer::start(&[
        "--private-key-hex",
        &hex::encode(secret),
        "--slot-ms",
        "600000",
        "--no-gossip",
    ]);
    let peer_port: u16 = peer.multiaddr.split('/').nth(4).unwrap().parse().unwrap();
    let (advertiser, record) = advertising(secret, peer_port, chain).await;
    (peer, advertiser, record)
}

/// A discv5 node keyed with the test peer's `secret`, advertising its TCP port on our fork.
pub async fn advertising(secret: [u8; 32], tcp_port: u16, chain: &ChainConfig) -> (Discv5, Enr) {
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut key_bytes = secret;
    let key = CombinedKey::secp256k1_from_bytes(&mut key_bytes).unwrap();
    let record = Enr::builder()
        .ip4("127.0.0.1".parse().unwrap())
        .udp4(udp.local_addr().unwrap().port())
        .tcp4(tcp_port)
        .add_value_rlp(
            "eth2",
            beacon_p2p::node::discovery::eth2_value(chain, &Clock::SYSTEM).into(),
        )
        .build(&key)
        .unwrap();
    (start(record.clone(), key, udp).await, record)
}

/// A bootnode (UDP only, no `eth2` field) whose routing table holds `known`. Its key is picked
/// at log-distance 256 from `known`, the distance most FINDNODE requests ask for, so that a
/// random look-up through it returns `known` with probability 3/4.
pub async fn bootnode_knowing(known: &Enr) -> (Discv5, Enr) {
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let known_id: NodeId = known.node_id();
    let key = (0u8..=255)
        .map(|salt| {
            let mut secret = fresh_secret(salt);
            CombinedKey::secp256k1_from_bytes(&mut secret).unwrap()
        })
        .find(|key| {
            let id = NodeId::from(key.public());
            (id.raw()[0] ^ known_id.raw()[0]) & 0x80 != 0
        })
        .expect("half of all keys are at distance 256");
    let record = Enr::builder()
        .ip4("127.0.0.1".parse().unwrap())
        .udp4(udp.local_addr().unwrap().port())
        .build(&key)
        .unwrap();
    let node = start(record.clone(), key, udp).await;
    node.add_enr(known.clone()).unwrap();
    (node, record)
}
