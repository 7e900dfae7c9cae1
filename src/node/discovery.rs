//! discv5 discovery (sigp's crate), for every native client: our own ENR with the `eth2` field
//! of the current fork, the network's bootnodes (or `--bootnode`), and random look-ups repeated
//! while whoever takes the candidates ([`Candidates`]) has fewer than `target_peers` usable
//! peers. A record is a candidate only if its `eth2` field carries our fork digest and it has an
//! IP and TCP port. A client dials candidates itself (`Client::discover`); the bridge also puts
//! them in its table, and offers one to browsers only once its client has checked it (connect,
//! Status, identify).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use discv5::{ConfigBuilder, Discv5, Enr, ListenConfig};
use enr::{CombinedKey, NodeId};
use ssz_rs::Serialize as _;

use libp2p::{Multiaddr, PeerId};

use super::enr::{is_private, socket_address, tcp_multiaddr};
use super::peer_id_of;
use crate::chain::{ChainConfig, Clock};
use crate::primitives::ForkDigest;
use crate::types::EnrForkId;

/// How discovery runs.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    /// The UDP address discv5 listens on (port 0: any).
    pub listen: SocketAddr,
    /// When `listen`'s port is taken, listen on any free port of the same IP instead (with a
    /// warning) rather than fail: the default port is every beacon node's discv5 port too, and
    /// the natural place for a bridge is next to one.
    pub fallback_to_free_port: bool,
    /// The IP our ENR advertises (none: the listen IP if it is specific).
    pub advertise_ip: Option<IpAddr>,
    /// ENRs to start from (`enr:-…`).
    pub bootnodes: Vec<String>,
    /// Look up while fewer usable peers are known.
    pub target_peers: usize,
    /// Accept records with private or loopback addresses (a bridge relays only to public ones,
    /// unless told otherwise; a client may dial a local devnet).
    pub allow_private: bool,
    /// Pause between look-ups while below target (doubles up to 60 s while above).
    pub interval: Duration,
}

/// Why discovery could not start.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The UDP socket could not bind.
    #[error("discv5 cannot bind UDP {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Our ENR could not be built.
    #[error("cannot build our ENR: {0}")]
    Enr(String),
    /// A bootnode is not a valid ENR.
    #[error("bootnode {enr}: {reason}")]
    Bootnode {
        /// The text given (shortened).
        enr: String,
        /// Why it was refused.
        reason: String,
    },
    /// The discv5 service did not start.
    #[error("discv5: {0}")]
    Service(String),
}

impl DiscoveryConfig {
    /// Defaults for a client: any free UDP port, the given bootnodes, look-ups every 2 s while
    /// fewer than `target_peers` usable peers are known, private addresses accepted.
    pub fn for_client(bootnodes: Vec<String>, target_peers: usize) -> Self {
        DiscoveryConfig {
            listen: SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
            fallback_to_free_port: false,
            advertise_ip: None,
            bootnodes,
            target_peers,
            allow_private: true,
            interval: Duration::from_secs(2),
        }
    }
}

/// A record discovery found on our fork, with an address to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its libp2p peer id (from the record's key).
    pub peer: PeerId,
    /// `/ip4|ip6/…/tcp/…/p2p/<id>`.
    pub address: Multiaddr,
    /// The record (`enr:-…`).
    pub enr: String,
    /// The fork digest of its `eth2` field.
    pub fork_digest: [u8; 4],
}

/// Whoever takes what discovery finds: a client that dials candidates, a bridge's table.
pub trait Candidates: Send + Sync + 'static {
    /// Peers that are connected, on our network and not known to lack the light-client
    /// protocols: discovery looks up while there are fewer than `target_peers`.
    fn usable(&self) -> impl Future<Output = usize> + Send;
    /// Takes a candidate; true if it was new.
    fn offer(&self, candidate: Candidate) -> impl Future<Output = bool> + Send;
}

/// A running discovery service; dropping it stops discv5 and the look-ups.
pub struct Discovery {
    discv5: Arc<Mutex<Discv5>>,
    enr: String,
    local: SocketAddr,
    look_ups: tokio::task::JoinHandle<()>,
    /// Whoever holds a `Weak` of it knows discovery runs (the node waits for peers then).
    alive: Arc<()>,
}

impl Discovery {
    /// Starts discv5 and the look-up task feeding `candidates`. Needs a tokio runtime.
    pub async fn start(
        config: DiscoveryConfig,
        chain: &ChainConfig,
        clock: Clock,
        candidates: impl Candidates,
    ) -> Result<Discovery, DiscoveryError> {
        let socket = match tokio::net::UdpSocket::bind(config.listen).await {
            Err(error)
                if config.fallback_to_free_port
                    && error.kind() == std::io::ErrorKind::AddrInUse =>
            {
                let any = SocketAddr::new(config.listen.ip(), 0);
                let socket = tokio::net::UdpSocket::bind(any).await;
                if let Ok(socket) = &socket {
                    tracing::warn!(
                        "UDP {} is in use (a beacon node's discv5?): discv5 listens on {} instead",
                        config.listen,
                        socket.local_addr().map_or(any, |a| a)
                    );
                }
                socket
            }
            bound => bound,
        }
        .map_err(|source| DiscoveryError::Bind {
            address: config.listen,
            source,
        })?;
        let local = socket.local_addr().map_err(|source| DiscoveryError::Bind {
            address: config.listen,
            source,
        })?;
        let key = CombinedKey::generate_secp256k1();
        let fork_id = enr_fork_id(chain, clock.current_epoch(chain));
        let mut builder = Enr::builder();
        let ip = config
            .advertise_ip
            .or_else(|| (!local.ip().is_unspecified()).then_some(local.ip()));
        match ip {
            Some(IpAddr::V4(ip)) => {
                builder.ip4(ip).udp4(local.port());
            }
            Some(IpAddr::V6(ip)) => {
                builder.ip6(ip).udp6(local.port());
            }
            None => {}
        }
        builder.add_value_rlp("eth2", rlp_bytes(&ssz_of(&fork_id)).into());
        let local_enr = builder
            .build(&key)
            .map_err(|error| DiscoveryError::Enr(error.to_string()))?;
        let listen = match local {
            SocketAddr::V4(_) => ListenConfig::FromSockets {
                ipv4: Some(Arc::new(socket)),
                ipv6: None,
            },
            SocketAddr::V6(_) => ListenConfig::FromSockets {
                ipv4: None,
                ipv6: Some(Arc::new(socket)),
            },
        };
        let mut discv5 = Discv5::new(local_enr.clone(), key, ConfigBuilder::new(listen).build())
            .map_err(|error| DiscoveryError::Service(error.to_string()))?;
        for text in &config.bootnodes {
            let shown: String = text.chars().take(40).collect();
            let record: Enr =
                text.trim()
                    .parse()
                    .map_err(|reason: String| DiscoveryError::Bootnode {
                        enr: shown.clone(),
                        reason,
                    })?;
            discv5
                .add_enr(record)
                .map_err(|reason| DiscoveryError::Bootnode {
                    enr: shown,
                    reason: reason.to_string(),
                })?;
        }
        discv5
            .start()
            .await
            .map_err(|error| DiscoveryError::Service(error.to_string()))?;
        let enr = local_enr.to_base64();
        tracing::info!(%enr, udp = %local, fork_digest = %hex_digest(&fork_id.fork_digest), "discv5 started");
        let discv5 = Arc::new(Mutex::new(discv5));
        let look_ups = tokio::spawn(look_up(
            discv5.clone(),
            config,
            fork_id.fork_digest,
            candidates,
        ));
        Ok(Discovery {
            discv5,
            enr,
            local,
            look_ups,
            alive: Arc::new(()),
        })
    }

    /// Our ENR.
    pub fn enr(&self) -> String {
        self.enr.clone()
    }

    /// A token that stays upgradable while this service runs.
    pub fn alive(&self) -> std::sync::Weak<()> {
        Arc::downgrade(&self.alive)
    }

    /// The UDP address discv5 listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stops the look-ups and the discv5 service.
    pub fn shutdown(&mut self) {
        self.look_ups.abort();
        self.discv5
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .shutdown();
    }
}

impl Drop for Discovery {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn hex_digest(digest: &ForkDigest) -> String {
    format!("0x{}", hex::encode(digest.as_ref()))
}

fn ssz_of(fork_id: &EnrForkId) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(16);
    fork_id
        .serialize(&mut bytes)
        .expect("fixed-size container serializes");
    bytes
}

/// RLP of a short byte string (< 56 bytes).
fn rlp_bytes(bytes: &[u8]) -> Vec<u8> {
    debug_assert!(bytes.len() < 56);
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(0x80 + bytes.len() as u8);
    out.extend_from_slice(bytes);
    out
}

/// The fork digest in a record's `eth2` field (`ENRForkID`, an RLP byte string).
pub fn eth2_fork_digest(record: &Enr) -> Option<[u8; 4]> {
    let raw = record.get_raw_rlp("eth2")?;
    let (&first, rest) = raw.split_first()?;
    let payload = match first {
        0x80..=0xb7 => rest.get(..usize::from(first - 0x80))?,
        _ => return None,
    };
    payload.get(..4)?.try_into().ok()
}

/// The `eth2` ENR value (RLP of the SSZ `ENRForkID`) for the epoch `clock` is in.
pub fn eth2_value(chain: &ChainConfig, clock: &Clock) -> Vec<u8> {
    rlp_bytes(&ssz_of(&enr_fork_id(chain, clock.current_epoch(chain))))
}

/// `ENRForkID` at `epoch`: the current digest and the next scheduled fork.
pub fn enr_fork_id(chain: &ChainConfig, epoch: u64) -> EnrForkId {
    let current = chain.fork_at_epoch(epoch);
    let next = chain
        .forks
        .iter()
        .find(|activation| activation.epoch > epoch && activation.epoch != u64::MAX);
    let current_version = chain
        .activation(current)
        .map(|activation| activation.version)
        .unwrap_or_default();
    EnrForkId {
        fork_digest: chain.fork_digest(epoch),
        next_fork_version: next.map_or(current_version, |a| a.version),
        next_fork_epoch: next.map_or(u64::MAX, |a| a.epoch),
    }
}

async fn look_up(
    discv5: Arc<Mutex<Discv5>>,
    config: DiscoveryConfig,
    digest: ForkDigest,
    candidates: impl Candidates,
) {
    let digest: [u8; 4] = digest.as_ref().try_into().unwrap_or_default();
    let mut pause = config.interval;
    loop {
        if candidates.usable().await < config.target_peers {
            pause = config.interval;
            let (query, entries) = {
                let discv5 = discv5.lock().unwrap_or_else(|p| p.into_inner());
                let predicate = Box::new(move |record: &Enr| {
                    eth2_fork_digest(record) == Some(digest)
                        && (record.tcp4().is_some() || record.tcp6().is_some())
                });
                (
                    discv5.find_node_predicate(NodeId::random(), predicate, 16),
                    discv5.table_entries_enr(),
                )
            };
            let found = match tokio::time::timeout(Duration::from_secs(30), query).await {
                Ok(Ok(found)) => found,
                Ok(Err(error)) => {
                    tracing::debug!(%error, "discv5 look-up failed");
                    Vec::new()
                }
                Err(_) => Vec::new(),
            };
            let mut added = 0;
            for record in found.iter().chain(entries.iter()) {
                let Some(candidate) = candidate(record, &digest, &config) else {
                    continue;
                };
                let (peer, address) = (candidate.peer, candidate.address.clone());
                if candidates.offer(candidate).await {
                    tracing::info!(%peer, %address, "discv5 candidate");
                    added += 1;
                }
            }
            tracing::debug!(
                found = found.len(),
                table = entries.len(),
                added,
                "discv5 look-up"
            );
        } else {
            pause = (pause * 2).min(Duration::from_secs(60));
        }
        tokio::time::sleep(pause).await;
    }
}

/// The candidate a record describes, if it is on our fork with a TCP address we may dial.
fn candidate(record: &Enr, digest: &[u8; 4], config: &DiscoveryConfig) -> Option<Candidate> {
    if eth2_fork_digest(record).as_ref() != Some(digest) {
        return None;
    }
    let enr = record.to_base64();
    let address = tcp_multiaddr(&enr).ok()?;
    let peer = peer_id_of(&address)?;
    let socket = socket_address(&address)?;
    if !config.allow_private && is_private(socket.ip()) {
        return None;
    }
    Some(Candidate {
        peer,
        address,
        enr,
        fork_digest: *digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Network;

    #[test]
    fn our_enr_carries_the_fork_digest() {
        let chain = Network::Mainnet.config();
        let fork_id = enr_fork_id(&chain, 420_000);
        let key = CombinedKey::generate_secp256k1();
        let record = Enr::builder()
            .ip4("1.2.3.4".parse().unwrap())
            .tcp4(9000)
            .add_value_rlp("eth2", rlp_bytes(&ssz_of(&fork_id)).into())
            .build(&key)
            .unwrap();
        let parsed: Enr = record.to_base64().parse().unwrap();
        assert_eq!(
            eth2_fork_digest(&parsed).unwrap().as_slice(),
            chain.fork_digest(420_000).as_ref()
        );
        assert_eq!(fork_id.next_fork_epoch, u64::MAX);
    }
}
