//! The client: the one public Rust API. It runs the node as a task and talks to it over
//! channels; every call ends with data or a typed error, never waits forever.

use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, Stream};
use libp2p::Multiaddr;

use crate::chain::{ChainConfig, Clock};
use crate::node::peers::PeerInfo;
use crate::node::{build_swarm, Command, FetchError, LightClientRequest, Node, NodeEvent};
use crate::primitives::Root;
use crate::types::{LightClientObject, MAX_REQUEST_LIGHT_CLIENT_UPDATES};

/// How the client runs: network, peers, limits, and the clock chain time is read from.
///
/// `clock` exists for recorded data: light-client updates are signed for slots in the past, and
/// a client whose clock is in the present follows other topics and sends another Status than
/// the peer replaying them. Shifting the clock (`Clock::with_offset_ms`, JS `clockOffsetMs`, CLI
/// `--clock-offset-ms`/`--clock-start`) makes those slots "now" without a test-only code path.
pub use crate::node::NodeConfig as Config;
pub use crate::node::NodeEvent as Event;

/// Why a client call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The node could not start.
    #[error("cannot start: {0}")]
    Start(String),
    /// A request failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// Peers sent updates that do not cover the range asked for.
    #[error("updates: {0}")]
    Updates(String),
}

/// A handle to a running light consensus node. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    chain: std::sync::Arc<ChainConfig>,
    clock: Clock,
}

impl Client {
    /// Starts the node task with `config`.
    pub fn start(config: Config) -> Result<Client, ClientError> {
        let swarm = build_swarm(&config).map_err(ClientError::Start)?;
        Ok(Client::start_with_swarm(swarm, config))
    }

    /// Starts the node task over a swarm the caller built — another transport (a WebSocket
    /// through the bridge's relay, say) with this crate's behaviour.
    pub fn start_with_swarm(
        swarm: libp2p::Swarm<crate::node::behaviour::Behaviour>,
        config: Config,
    ) -> Client {
        let (commands, receiver) = mpsc::channel(64);
        let chain = config.chain.clone();
        let clock = config.clock;
        crate::platform::spawn(Node::new(swarm, config).run(receiver));
        Client {
            commands,
            chain,
            clock,
        }
    }

    /// The network this client is on.
    pub fn chain(&self) -> &ChainConfig {
        &self.chain
    }

    /// The clock this client reads chain time from.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    async fn fetch(
        &self,
        request: LightClientRequest,
    ) -> Result<Vec<LightClientObject>, ClientError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .clone()
            .send(Command::Fetch { request, reply })
            .await
            .map_err(|_| FetchError::Stopped)?;
        Ok(answer.await.map_err(|_| FetchError::Stopped)??)
    }

    async fn fetch_one(
        &self,
        request: LightClientRequest,
    ) -> Result<LightClientObject, ClientError> {
        let mut objects = self.fetch(request).await?;
        Ok(objects.swap_remove(0))
    }

    /// `LightClientBootstrap` for a (finalized, checkpoint) block root.
    pub async fn bootstrap(&self, block_root: Root) -> Result<LightClientObject, ClientError> {
        self.fetch_one(LightClientRequest::Bootstrap(block_root))
            .await
    }

    /// The `LightClientUpdate`s of `count` consecutive periods from `start_period`, split into
    /// requests of at most 128. A peer may have fewer (the range runs into the current period):
    /// the result then ends early, but never skips a period.
    pub async fn updates(
        &self,
        start_period: u64,
        count: u64,
    ) -> Result<Vec<LightClientObject>, ClientError> {
        let end = start_period
            .checked_add(count)
            .ok_or_else(|| ClientError::Updates("period range overflows".into()))?;
        let mut updates = Vec::new();
        let mut next = start_period;
        while next < end {
            let batch = (end - next).min(MAX_REQUEST_LIGHT_CLIENT_UPDATES);
            let got = self
                .fetch(LightClientRequest::UpdatesByRange {
                    start_period: next,
                    count: batch,
                })
                .await?;
            let received = got.len() as u64;
            updates.extend(got);
            next += received;
            if received < batch {
                break;
            }
        }
        Ok(updates)
    }

    /// The latest `LightClientFinalityUpdate` a peer has.
    pub async fn finality_update(&self) -> Result<LightClientObject, ClientError> {
        self.fetch_one(LightClientRequest::FinalityUpdate).await
    }

    /// The latest `LightClientOptimisticUpdate` a peer has.
    pub async fn optimistic_update(&self) -> Result<LightClientObject, ClientError> {
        self.fetch_one(LightClientRequest::OptimisticUpdate).await
    }

    /// Events from now on: updates from gossip, peers coming and going. A receiver that falls
    /// more than 256 events behind loses the oldest.
    pub async fn events(&self) -> impl Stream<Item = Event> {
        let (sender, receiver) = mpsc::channel(256);
        let _ = self.commands.clone().send(Command::Subscribe(sender)).await;
        receiver
    }

    /// Every peer the client knows.
    pub async fn peers(&self) -> Vec<PeerInfo> {
        let (reply, answer) = oneshot::channel();
        if self
            .commands
            .clone()
            .send(Command::Peers(reply))
            .await
            .is_err()
        {
            return Vec::new();
        }
        answer.await.unwrap_or_default()
    }

    /// Adds a peer to dial (`/ip4/…/tcp/…/p2p/<id>`).
    pub async fn add_peer(&self, address: Multiaddr) {
        let _ = self.commands.clone().send(Command::AddPeer(address)).await;
    }

    /// Says goodbye to every peer and stops the node.
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self
            .commands
            .clone()
            .send(Command::Shutdown(done))
            .await
            .is_ok()
        {
            let _ = finished.await;
        }
    }
}

/// Event re-exported under the node's name too.
pub type ClientEvent = NodeEvent;
