//! The bridge's peer table: the only peers the relay will connect to. A peer enters as a
//! candidate (an operator's `--peer`, or a discv5 record on our fork digest with a TCP port) and
//! is *offered* only once the bridge's own client has connected to it and completed Status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use libp2p::{Multiaddr, PeerId};
use serde::Serialize;

/// Most peers the table holds; discovery stops adding candidates beyond this.
pub const MAX_TABLE_PEERS: usize = 4096;

/// Where a peer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// `--peer`.
    Static,
    /// discv5.
    Discv5,
}

/// One peer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TablePeer {
    /// Its libp2p peer id.
    pub peer_id: String,
    /// `/ip4|ip6/…/tcp/…/p2p/<id>`.
    pub multiaddr: String,
    /// Its ENR (`enr:-…`) when discovered.
    pub enr: Option<String>,
    /// Its client (identify agent).
    pub client: Option<String>,
    /// Fork digest from its ENR's `eth2` field (0x-hex).
    pub fork_digest: Option<String>,
    /// Whether identify lists the light-client protocols.
    pub serves_light_client: Option<bool>,
    /// Unix seconds when the bridge's client last saw it connected.
    pub last_seen: Option<u64>,
    /// Relay connections to it that failed, and disconnects before a handshake.
    pub failures: u32,
    /// Whether the bridge's client completed Status with it (only these are relayed to).
    pub verified: bool,
    /// Where it came from.
    pub source: Source,
}

/// The shared table. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct PeerTable {
    peers: Arc<Mutex<HashMap<PeerId, (Multiaddr, TablePeer)>>>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or_default()
}

impl PeerTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PeerId, (Multiaddr, TablePeer)>> {
        // A panic while holding the lock cannot leave the map inconsistent (plain inserts).
        self.peers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds (or refreshes the address of) a candidate. Returns false when the table is full.
    pub fn add_candidate(
        &self,
        peer: PeerId,
        address: Multiaddr,
        enr: Option<String>,
        fork_digest: Option<String>,
        source: Source,
    ) -> bool {
        let mut peers = self.lock();
        if let Some((known, entry)) = peers.get_mut(&peer) {
            *known = address.clone();
            entry.multiaddr = address.to_string();
            if enr.is_some() {
                entry.enr = enr;
                entry.fork_digest = fork_digest;
            }
            return true;
        }
        if peers.len() >= MAX_TABLE_PEERS {
            return false;
        }
        peers.insert(
            peer,
            (
                address.clone(),
                TablePeer {
                    peer_id: peer.to_string(),
                    multiaddr: address.to_string(),
                    enr,
                    client: None,
                    fork_digest,
                    serves_light_client: None,
                    last_seen: None,
                    failures: 0,
                    verified: false,
                    source,
                },
            ),
        );
        true
    }

    /// Marks a peer as checked by the bridge's client (connected, Status done).
    pub fn verified(&self, peer: &PeerId, client: Option<String>) {
        if let Some((_, entry)) = self.lock().get_mut(peer) {
            entry.verified = true;
            entry.last_seen = Some(now_secs());
            if client.is_some() {
                entry.client = client;
            }
        }
    }

    /// Records what the client knows about a connected peer.
    pub fn seen(&self, peer: &PeerId, client: Option<String>, serves_light_client: Option<bool>) {
        if let Some((_, entry)) = self.lock().get_mut(peer) {
            entry.last_seen = Some(now_secs());
            if client.is_some() {
                entry.client = client;
            }
            if serves_light_client.is_some() {
                entry.serves_light_client = serves_light_client;
            }
        }
    }

    /// Counts a failure against a peer.
    pub fn failed(&self, peer: &PeerId) {
        if let Some((_, entry)) = self.lock().get_mut(peer) {
            entry.failures = entry.failures.saturating_add(1);
        }
    }

    /// The TCP address of an offered (verified) peer, if it is one.
    pub fn relay_address(&self, peer: &PeerId) -> Option<Multiaddr> {
        self.lock()
            .get(peer)
            .filter(|(_, entry)| entry.verified)
            .map(|(address, _)| address.clone())
    }

    /// Whether the table knows the peer at all.
    pub fn contains(&self, peer: &PeerId) -> bool {
        self.lock().contains_key(peer)
    }

    /// The offered peers, sorted by peer id.
    pub fn offered(&self) -> Vec<TablePeer> {
        let mut peers: Vec<TablePeer> = self
            .lock()
            .values()
            .filter(|(_, entry)| entry.verified)
            .map(|(_, entry)| entry.clone())
            .collect();
        peers.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        peers
    }

    /// Every peer, offered or not.
    pub fn all(&self) -> Vec<TablePeer> {
        self.lock().values().map(|(_, e)| e.clone()).collect()
    }

    /// Offered peers that serve the light-client protocols.
    pub fn usable(&self) -> usize {
        self.lock()
            .values()
            .filter(|(_, e)| e.verified && e.serves_light_client != Some(false))
            .count()
    }
}
