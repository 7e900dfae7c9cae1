//! The bridge (native only): discv5 discovery of consensus peers, a *restricted* WebSocket→TCP
//! relay so browsers can reach them, and the Beacon-API light-client routes answered by the
//! bridge's own [`Client`] over p2p — all on one HTTP listener.
//!
//! The relay is not an open proxy (DESIGN.md §4): it connects only to peers in its table that its
//! own client has connected to and completed Status with, refuses private and loopback addresses
//! unless allowed, caps sessions in total and per client IP, times out idle sessions, caps bytes
//! per session and can require an Origin allowlist. Every limit is in [`Limits`] and `/metrics`.

mod http;
pub mod metrics;
pub mod relay;
pub mod table;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use libp2p::{Multiaddr, PeerId};

use self::metrics::Metrics;
use self::table::{PeerTable, Source};
use crate::client::{Client, Event};
use crate::node::discovery::{Candidate, Candidates, Discovery, DiscoveryConfig, DiscoveryError};

/// The relay's limits. Every one is a CLI flag and a `/metrics` gauge.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Relay sessions open at once, in total.
    pub max_sessions: usize,
    /// Relay sessions open at once from one client IP.
    pub max_sessions_per_ip: usize,
    /// A session where neither side sends anything for this long is closed.
    pub idle_timeout: Duration,
    /// Bytes one session may relay, both directions together.
    pub max_session_bytes: u64,
    /// Relay to private and loopback addresses (local devnets).
    pub allow_private: bool,
    /// When not empty, relay only requests whose `Origin` is one of these.
    pub allowed_origins: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 512,
            max_sessions_per_ip: 8,
            idle_timeout: Duration::from_secs(120),
            max_session_bytes: 256 * 1024 * 1024,
            allow_private: false,
            allowed_origins: Vec::new(),
        }
    }
}

/// How the bridge runs.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// The HTTP listener.
    pub listen: SocketAddr,
    /// Relay limits.
    pub limits: Limits,
    /// Operator-listed peers (`/ip4/…/tcp/…/p2p/<id>`); the client must dial them too.
    pub static_peers: Vec<Multiaddr>,
    /// Directory served at `/` (the demo page).
    pub www: Option<PathBuf>,
    /// discv5 discovery, when on.
    pub discovery: Option<DiscoveryConfig>,
    /// Most SSE streams open at once.
    pub max_event_streams: usize,
}

impl BridgeConfig {
    /// Defaults, listening on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        BridgeConfig {
            listen,
            limits: Limits::default(),
            static_peers: Vec::new(),
            www: None,
            discovery: None,
            max_event_streams: 256,
        }
    }
}

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The HTTP listener could not bind.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// A static peer has no peer id.
    #[error("peer {0}: needs a /p2p/<peer id> suffix")]
    PeerWithoutId(Multiaddr),
    /// Discovery could not start.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
}

/// State the handlers share.
pub(crate) struct Shared {
    pub limits: Limits,
    pub table: PeerTable,
    pub metrics: Metrics,
    pub client: Client,
    pub www: Option<PathBuf>,
    pub max_event_streams: usize,
    pub sessions: Mutex<HashMap<IpAddr, usize>>,
    pub next_session: std::sync::atomic::AtomicU64,
}

/// A running bridge. Dropping it stops the server and its tasks (not the client).
pub struct Bridge {
    address: SocketAddr,
    shared: Arc<Shared>,
    discovery: Option<Discovery>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Bridge {
    /// Binds the listener and starts serving with `client` (which should already dial
    /// `config.static_peers`). Needs a tokio runtime.
    pub async fn start(config: BridgeConfig, client: Client) -> Result<Bridge, BridgeError> {
        let table = PeerTable::new();
        // Subscribe before anything connects, so no handshake is missed.
        let events = client.events().await;
        for address in &config.static_peers {
            let peer = crate::node::peer_id_of(address)
                .ok_or_else(|| BridgeError::PeerWithoutId(address.clone()))?;
            table.add_candidate(peer, address.clone(), None, None, Source::Static);
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| BridgeError::Listen {
                address: config.listen,
                source,
            })?;
        let address = listener
            .local_addr()
            .map_err(|source| BridgeError::Listen {
                address: config.listen,
                source,
            })?;
        let shared = Arc::new(Shared {
            limits: config.limits,
            table: table.clone(),
            metrics: Metrics::default(),
            client: client.clone(),
            www: config.www,
            max_event_streams: config.max_event_streams,
            sessions: Mutex::new(HashMap::new()),
            next_session: Default::default(),
        });
        let tasks = vec![
            tokio::spawn(follow_client(client.clone(), table.clone(), events)),
            tokio::spawn(http::serve(listener, shared.clone())),
        ];
        let discovery = match config.discovery {
            Some(discovery) => {
                let candidates = TableCandidates {
                    table: table.clone(),
                    client: client.clone(),
                };
                let discovery =
                    Discovery::start(discovery, client.chain(), client.clock(), candidates).await?;
                client.discovering(&discovery).await;
                Some(discovery)
            }
            None => None,
        };
        tracing::info!(%address, "bridge listening");
        Ok(Bridge {
            address,
            shared,
            discovery,
            tasks,
        })
    }

    /// The address the HTTP listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// The peer table.
    pub fn table(&self) -> &PeerTable {
        &self.shared.table
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Our discv5 ENR, when discovery runs.
    pub fn enr(&self) -> Option<String> {
        self.discovery.as_ref().map(Discovery::enr)
    }

    /// Stops serving (open relay sessions end when their sockets drop).
    pub fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        if let Some(discovery) = &mut self.discovery {
            discovery.shutdown();
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Discovery's candidates go into the table (as `discv5`) and to the bridge's client, which
/// checks them; only the checked ones count as usable.
struct TableCandidates {
    table: PeerTable,
    client: Client,
}

impl Candidates for TableCandidates {
    async fn usable(&self) -> usize {
        self.table.usable()
    }

    async fn offer(&self, candidate: Candidate) -> bool {
        if self.table.contains(&candidate.peer) {
            return false;
        }
        let fork_digest = Some(format!("0x{}", hex::encode(candidate.fork_digest)));
        if !self.table.add_candidate(
            candidate.peer,
            candidate.address.clone(),
            Some(candidate.enr),
            fork_digest,
            Source::Discv5,
        ) {
            return false;
        }
        self.client.add_peer(candidate.address).await;
        true
    }
}

/// Keeps the table in step with the client: a peer that completes Status is offered; connected
/// peers' last-seen, client and light-client support are refreshed every two seconds.
async fn follow_client(
    client: Client,
    table: PeerTable,
    events: impl futures::Stream<Item = Event> + Unpin,
) {
    let mut events = events.fuse();
    let mut refresh = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(Event::PeerConnected { peer_id, client: agent }) => {
                    if let Ok(peer) = peer_id.parse::<PeerId>() {
                        tracing::info!(peer = %peer_id, client = ?agent, "peer checked: offering it");
                        table.verified(&peer, agent);
                    }
                }
                Some(_) => {}
                None => return,
            },
            _ = refresh.tick() => {
                for info in client.peers().await {
                    let Ok(peer) = info.peer_id.parse::<PeerId>() else { continue };
                    if info.connected {
                        if info.head_slot.is_some() && table.contains(&peer) {
                            table.verified(&peer, info.client.clone());
                        }
                        table.seen(&peer, info.client, info.serves_light_client);
                    }
                }
            }
        }
    }
}
