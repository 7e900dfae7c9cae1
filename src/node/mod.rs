//! Node layer: the libp2p swarm of a light consensus node and the task that drives it.
//!
//! The task owns the swarm, the peer table and the request queue; [`crate::client::Client`]
//! talks to it over channels. It keeps `target_peers` peers, exchanges Status/MetaData/Ping as a
//! well-behaved peer, validates light-client gossip before it is forwarded, and schedules
//! light-client requests: at most two in flight per protocol per peer, a minimum interval per
//! peer for the rate-limited protocols, a timeout per attempt, retries on other peers and a
//! deadline per request, so every request ends with data or a clear error.
//!
//! This file holds the task itself: its state, the loop and the dispatch of swarm events. The
//! request scheduler is in `scheduler.rs`, Status/MetaData/Ping/Goodbye in `handshake.rs`, the
//! light-client gossip the node follows in `subscriptions.rs`; the swarm's parts are the public
//! modules below.

pub mod behaviour;
mod coalesce;
pub mod codec;
#[cfg(not(target_arch = "wasm32"))]
pub mod discovery;
#[cfg(not(target_arch = "wasm32"))]
pub mod enr;
pub mod gossip;
mod handshake;
pub mod peers;
mod scheduler;
mod subscriptions;
mod transport;
mod verifier;
mod witnesses;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt};
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId};
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, identity, Multiaddr, PeerId, Swarm};
use web_time::Instant;

use self::behaviour::{Behaviour, BehaviourEvent, Message};
use self::codec::EthResponse;
use self::gossip::GossipValidator;
use self::peers::{PeerInfo, PeerManager};
use self::scheduler::{InFlight, PendingFetch, RecentBootstraps, RecentLatest};
use self::verifier::Verifier;
use crate::chain::{ChainConfig, Clock};
use crate::primitives::{ForkDigest, Root};
use crate::types::LightClientObject;

pub use self::handshake::{GOODBYE_BAD_SCORE, GOODBYE_CLIENT_SHUTDOWN, GOODBYE_IRRELEVANT_NETWORK};
pub use self::scheduler::{Answer, FetchError, FetchReply, Fetched, LightClientRequest, Origin};
pub use self::subscriptions::wanted_digests;
pub use self::transport::{build_swarm, reach, relay_address, Reach, RelayAddressError};
pub use self::verifier::{VerifiedHead, VerifiedHeads};

/// How the node runs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The network.
    pub chain: Arc<ChainConfig>,
    /// Peers to dial (`/ip4/…/tcp/…/p2p/<id>`).
    pub peers: Vec<Multiaddr>,
    /// Addresses to listen on (none: dial out only, like a browser).
    pub listen: Vec<Multiaddr>,
    /// Peers to keep connected.
    pub target_peers: usize,
    /// Timeout of one request to one peer.
    pub request_timeout: Duration,
    /// Time a request may take over all its attempts.
    pub request_deadline: Duration,
    /// Minimum interval between two bootstrap/finality/optimistic requests to one peer
    /// (Lighthouse allows about one per 10 s).
    pub rate_limited_interval: Duration,
    /// The node's identity (a fresh secp256k1 key if `None`).
    pub identity: Option<identity::Keypair>,
    /// The clock chain time (current slot and epoch: gossip topics, our Status) is read from:
    /// the wall clock by default. Recorded data is signed for slots in the past; a test (or a
    /// demo) that replays it shifts this clock so those slots look "now", on every target.
    pub clock: Clock,
    /// Verified mode: the trusted block root the light-client store starts from. Every object
    /// peers send is then checked against the store before it is handed out or forwarded
    /// (`Client::sync` turns it on later, too).
    pub checkpoint: Option<Root>,
    /// Beacon-API sources (`http://host:5052`), read by the client: asked under
    /// `source_policy` beside the peers.
    pub rpc: Vec<String>,
    /// Which kind of source a call asks first (read by the client).
    pub source_policy: SourcePolicy,
    /// How long a call waits for the first kind before it asks the other too.
    pub p2p_budget: Duration,
}

/// Which kind of source a call asks first, when Beacon-API sources are configured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SourcePolicy {
    /// Peers first; the Beacon API after `p2p_budget`, or at once when no peer can answer.
    #[default]
    P2pFirst,
    /// The Beacon API first; peers after `p2p_budget`, or at once when it fails.
    RpcFirst,
    /// Both at once; the first answer that holds wins.
    Race,
}

impl SourcePolicy {
    /// Its name: `p2p-first`, `rpc-first`, `race`.
    pub fn name(self) -> &'static str {
        match self {
            SourcePolicy::P2pFirst => "p2p-first",
            SourcePolicy::RpcFirst => "rpc-first",
            SourcePolicy::Race => "race",
        }
    }
}

impl std::str::FromStr for SourcePolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            SourcePolicy::P2pFirst,
            SourcePolicy::RpcFirst,
            SourcePolicy::Race,
        ]
        .into_iter()
        .find(|policy| policy.name() == text)
        .ok_or_else(|| format!("unknown source policy {text:?}: p2p-first, rpc-first or race"))
    }
}

impl NodeConfig {
    /// Defaults for `chain`.
    pub fn new(chain: ChainConfig) -> Self {
        NodeConfig {
            chain: Arc::new(chain),
            peers: Vec::new(),
            listen: Vec::new(),
            target_peers: 4,
            request_timeout: Duration::from_secs(10),
            request_deadline: Duration::from_secs(30),
            rate_limited_interval: Duration::from_secs(10),
            identity: None,
            clock: Clock::SYSTEM,
            checkpoint: None,
            rpc: Vec::new(),
            source_policy: SourcePolicy::default(),
            p2p_budget: Duration::from_secs(2),
        }
    }
}

/// Something that happened on the network.
#[derive(Debug, Clone)]
pub enum NodeEvent {
    /// A finality update arrived over gossip and passed validation.
    FinalityUpdate(LightClientObject),
    /// An optimistic update arrived over gossip and passed validation.
    OptimisticUpdate(LightClientObject),
    /// A peer completed the Status handshake.
    PeerConnected {
        /// Its peer id.
        peer_id: String,
        /// Its client (identify agent version), when known.
        client: Option<String>,
    },
    /// A peer went away.
    PeerDisconnected {
        /// Its peer id.
        peer_id: String,
    },
    /// The store's finalized header moved forward (verified mode).
    VerifiedFinality(VerifiedHead),
    /// The store's optimistic header moved forward (verified mode).
    VerifiedOptimistic(VerifiedHead),
    /// Answers now come from another kind of source (`"p2p"`, `"rpc"`).
    SourceSwitched {
        /// The kind that answered before.
        from: &'static str,
        /// The kind that answers now.
        to: &'static str,
        /// Why (what the other kind met).
        reason: String,
    },
    /// Without a store, two sources served different headers for the same slot: nothing says
    /// which is right, so both are reported.
    SourcesDisagree {
        /// The slot.
        slot: u64,
        /// Which header: `"attested"` or `"finalized"`.
        header: &'static str,
        /// The root known first, and the source (peer id or URL) that served it.
        earlier: (Root, String),
        /// The other root, and its source.
        later: (Root, String),
    },
    /// A source served data that does not verify, or a latest update older than what was
    /// proved; it is demoted.
    SourceMisbehaved {
        /// The source (a Beacon-API URL).
        source: String,
        /// What was wrong.
        reason: String,
    },
}

impl NodeEvent {
    /// A source event's name (`source_switched`, `source_misbehaved`, `sources_disagree`) and
    /// its fields as JSON, for the CLI's and the browser's listeners; `None` for other events.
    pub fn source_report(&self) -> Option<(&'static str, serde_json::Value)> {
        let vouched = |(root, source): &(Root, String)| serde_json::json!({ "root": root.to_string(), "source": source });
        match self {
            NodeEvent::SourceSwitched { from, to, reason } => Some((
                "source_switched",
                serde_json::json!({ "from": from, "to": to, "reason": reason }),
            )),
            NodeEvent::SourceMisbehaved { source, reason } => Some((
                "source_misbehaved",
                serde_json::json!({ "source": source, "reason": reason }),
            )),
            NodeEvent::SourcesDisagree {
                slot,
                header,
                earlier,
                later,
            } => Some((
                "sources_disagree",
                serde_json::json!({
                    "slot": slot,
                    "header": header,
                    "earlier": vouched(earlier),
                    "later": vouched(later),
                }),
            )),
            _ => None,
        }
    }
}

/// The newest headers the node learned from light-client data (fetched or gossiped): what the
/// block ids `head` and `finalized` name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KnownHeaders {
    /// Slot and block root of the newest attested header (of an optimistic, finality or
    /// sync-committee update).
    pub head: Option<(u64, Root)>,
    /// Slot and block root of the newest finalized header.
    pub finalized: Option<(u64, Root)>,
}

/// A request to the node task.
pub enum Command {
    /// Fetch light-client data or blocks.
    Fetch {
        /// What to fetch.
        request: LightClientRequest,
        /// Where the answer goes.
        reply: FetchReply,
    },
    /// The newest headers the node learned from light-client data.
    Known(oneshot::Sender<KnownHeaders>),
    /// List peers.
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    /// Add a peer to dial.
    AddPeer(Multiaddr),
    /// Receive events.
    Subscribe(mpsc::Sender<NodeEvent>),
    /// Verify from this checkpoint from now on.
    VerifyFrom(Root),
    /// The verified heads (verified mode, once the store is initialized).
    VerifiedHeads(oneshot::Sender<Option<VerifiedHeads>>),
    /// Objects a Beacon-API source answered: judged and learned like a peer's answer.
    Served {
        /// Its URL.
        url: String,
        /// What was asked.
        request: LightClientRequest,
        /// What it answered.
        objects: Vec<LightClientObject>,
        /// `Err((outcome, reason))` when they are not taken.
        reply: oneshot::Sender<Result<(), (peers::Outcome, String)>>,
    },
    /// Sends an event to every subscriber (the client's own: source switches, misbehaviour).
    Emit(NodeEvent),
    /// Discovery feeds this node while the token lives: a request then waits for peers until its
    /// deadline instead of giving up when nobody connected can answer.
    Discovering(std::sync::Weak<()>),
    /// Say goodbye to every peer and stop.
    Shutdown(oneshot::Sender<()>),
}

/// The node task's state.
pub struct Node {
    swarm: Swarm<Behaviour>,
    config: NodeConfig,
    peers: PeerManager,
    dialing: HashSet<PeerId>,
    queue: VecDeque<PendingFetch>,
    bootstraps: RecentBootstraps,
    latest: RecentLatest,
    inflight: HashMap<(Message, OutboundRequestId), InFlight>,
    subscribers: Vec<mpsc::Sender<NodeEvent>>,
    validator: GossipValidator,
    subscribed: HashSet<ForkDigest>,
    /// Best (finalized root, finalized epoch, head root, head slot) we know, for our Status.
    best: Option<(Root, u64, Root, u64)>,
    /// The newest attested and finalized headers light-client data named.
    known: KnownHeaders,
    /// Header roots per slot and who served them (unverified mode: disagreements reported).
    witnesses: witnesses::Witnesses,
    announced: HashSet<PeerId>,
    pending_disconnects: Vec<(PeerId, Instant)>,
    last_ping: Instant,
    /// Verified mode's store.
    verifier: Option<Verifier>,
    /// Participation of the updates that proved the finalized and optimistic heads.
    verified_participation: (Option<usize>, Option<usize>),
    /// Alive while a discovery service feeds this node.
    discovery: Option<std::sync::Weak<()>>,
}

/// How often the node task wakes up to dial, expire and dispatch.
const TICK: Duration = Duration::from_millis(250);

impl Node {
    /// A node over `swarm`.
    pub fn new(swarm: Swarm<Behaviour>, config: NodeConfig) -> Self {
        let mut peers = PeerManager::new(config.target_peers);
        for address in &config.peers {
            if let Some(peer) = peer_id_of(address) {
                peers.add_candidate(peer, address.clone());
            }
        }
        Node {
            swarm,
            peers,
            dialing: HashSet::new(),
            queue: VecDeque::new(),
            bootstraps: RecentBootstraps::default(),
            latest: RecentLatest::default(),
            inflight: HashMap::new(),
            subscribers: Vec::new(),
            validator: GossipValidator::default(),
            subscribed: HashSet::new(),
            best: None,
            known: KnownHeaders::default(),
            witnesses: witnesses::Witnesses::default(),
            announced: HashSet::new(),
            pending_disconnects: Vec::new(),
            last_ping: Instant::now(),
            verifier: config.checkpoint.map(Verifier::new),
            verified_participation: (None, None),
            discovery: None,
            config,
        }
    }

    /// Runs until `Shutdown` or until every command sender is gone.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        for address in self.config.listen.clone() {
            if let Err(error) = self.swarm.listen_on(address.clone()) {
                tracing::warn!(%address, %error, "cannot listen");
            }
        }
        self.update_subscriptions();
        // The first tick dials the configured peers right away, not a tick after start.
        let mut tick = futures_timer::Delay::new(Duration::ZERO).fuse();
        loop {
            futures::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = commands.next() => match command {
                    Some(Command::Shutdown(done)) => {
                        self.shutdown().await;
                        let _ = done.send(());
                        return;
                    }
                    Some(command) => self.on_command(command),
                    None => {
                        self.shutdown().await;
                        return;
                    }
                },
                _ = tick => {
                    self.on_tick();
                    tick = futures_timer::Delay::new(TICK).fuse();
                }
            }
            self.dispatch();
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Fetch { request, reply } => self.enqueue(request, reply),
            Command::Known(reply) => {
                let _ = reply.send(self.known);
            }
            Command::Peers(reply) => {
                let _ = reply.send(self.peers.infos());
            }
            Command::AddPeer(address) => match peer_id_of(&address) {
                Some(peer) => self.peers.add_candidate(peer, address),
                None => tracing::warn!(%address, "peer address without /p2p/<peer id> ignored"),
            },
            Command::Subscribe(sender) => self.subscribers.push(sender),
            Command::Discovering(alive) => self.discovery = Some(alive),
            Command::Served {
                url,
                request,
                objects,
                reply,
            } => {
                let _ = reply.send(self.take_served(&url, &request, &objects));
            }
            Command::Emit(event) => self.emit(event),
            Command::VerifyFrom(checkpoint) => self.verify_from(checkpoint),
            Command::VerifiedHeads(reply) => {
                let _ = reply.send(self.verified_heads());
            }
            Command::Shutdown(_) => unreachable!("handled by run"),
        }
    }

    /// Whether a discovery service is still feeding candidates.
    fn discovering(&self) -> bool {
        self.discovery
            .as_ref()
            .is_some_and(|alive| alive.strong_count() > 0)
    }

    fn emit(&mut self, event: NodeEvent) {
        // A subscriber that does not keep up loses events rather than stalling the node.
        self.subscribers
            .retain_mut(|subscriber| match subscriber.try_send(event.clone()) {
                Ok(()) => true,
                Err(error) => !error.is_disconnected(),
            });
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        if let Some(peer) = self.peers.to_make_room(now, &self.dialing) {
            tracing::info!(%peer, "no light-client protocols; making room for a candidate");
            self.say_goodbye(peer, handshake::GOODBYE_TOO_MANY_PEERS);
        }
        for (peer, address) in self.peers.to_dial(now, &self.dialing) {
            tracing::debug!(%peer, %address, "dialing");
            match self.swarm.dial(address.clone()) {
                Ok(()) => {
                    self.dialing.insert(peer);
                }
                Err(error) => {
                    tracing::debug!(%peer, %error, "dial refused");
                    self.peers.dial_failed(peer, now);
                }
            }
        }
        self.expire(now);
        let due: Vec<PeerId> = self
            .pending_disconnects
            .iter()
            .filter(|(_, at)| *at <= now)
            .map(|(peer, _)| *peer)
            .collect();
        self.pending_disconnects.retain(|(_, at)| *at > now);
        for peer in due {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        self.ping_if_due(now);
        self.update_subscriptions();
        self.force_update_if_due();
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        let now = Instant::now();
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                self.dialing.remove(&peer_id);
                if self.peers.is_backing_off(&peer_id, now) {
                    // Dropped for misbehaviour a moment ago: not back before its back-off ends.
                    tracing::debug!(peer = %peer_id, "refusing a peer that is backing off");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                self.peers.connected(peer_id, now);
                if num_established.get() == 1 {
                    tracing::info!(peer = %peer_id, address = %endpoint.get_remote_address(), "connected");
                    if endpoint.is_dialer() {
                        // The dialer opens with Status.
                        self.send_status(peer_id);
                    }
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                cause,
                ..
            } => {
                tracing::info!(peer = %peer_id, cause = ?cause, "disconnected");
                self.peers.disconnected(peer_id, now);
                self.announced.remove(&peer_id);
                self.emit(NodeEvent::PeerDisconnected {
                    peer_id: peer_id.to_string(),
                });
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                ..
            } => {
                tracing::info!(%peer, %error, "dial failed");
                self.dialing.remove(&peer);
                self.peers.dial_failed(peer, now);
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event, now),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent, now: Instant) {
        let (message, event) = match event {
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                let record = self.peers.record(peer_id);
                record.agent = Some(info.agent_version.clone());
                record.protocols = Some(info.protocols.iter().map(ToString::to_string).collect());
                tracing::debug!(peer = %peer_id, agent = %info.agent_version, "identified");
                self.announce(peer_id);
                return;
            }
            BehaviourEvent::Identify(_) => return,
            BehaviourEvent::Gossipsub(event) => {
                self.on_gossip(event);
                return;
            }
            BehaviourEvent::Status(event) => (Message::Status, event),
            BehaviourEvent::Ping(event) => (Message::Ping, event),
            BehaviourEvent::Metadata(event) => (Message::MetaData, event),
            BehaviourEvent::Goodbye(event) => (Message::Goodbye, event),
            BehaviourEvent::Bootstrap(event) => (Message::Bootstrap, event),
            BehaviourEvent::UpdatesByRange(event) => (Message::UpdatesByRange, event),
            BehaviourEvent::FinalityUpdate(event) => (Message::FinalityUpdate, event),
            BehaviourEvent::OptimisticUpdate(event) => (Message::OptimisticUpdate, event),
            BehaviourEvent::BlocksByRange(event) => (Message::BlocksByRange, event),
            BehaviourEvent::BlocksByRoot(event) => (Message::BlocksByRoot, event),
        };
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.on_inbound_request(peer, message, request, channel),
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some(inflight) = self.inflight.remove(&(message, request_id)) {
                    self.on_response(peer, inflight, Ok(response), now);
                }
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some(inflight) = self.inflight.remove(&(message, request_id)) {
                    self.on_response(peer, inflight, Err(error), now);
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, ?message, %error, "inbound request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_response(
        &mut self,
        peer: PeerId,
        inflight: InFlight,
        response: Result<EthResponse, OutboundFailure>,
        now: Instant,
    ) {
        match inflight {
            InFlight::Status => self.on_status_response(peer, response),
            InFlight::MetaData | InFlight::Ping => {
                if let Err(error) = response {
                    tracing::debug!(%peer, %error, "metadata/ping failed");
                }
            }
            InFlight::Goodbye => {
                let _ = self.swarm.disconnect_peer_id(peer);
            }
            InFlight::Fetch(pending) => self.on_fetch_response(peer, pending, response, now),
        }
    }

    async fn shutdown(&mut self) {
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in &connected {
            self.say_goodbye(*peer, GOODBYE_CLIENT_SHUTDOWN);
        }
        for pending in self.queue.drain(..) {
            let _ = pending.reply.send(Err(FetchError::Stopped));
        }
        // Give the goodbyes up to a second to go out.
        let deadline = futures_timer::Delay::new(Duration::from_secs(1)).fuse();
        futures::pin_mut!(deadline);
        while self.swarm.connected_peers().next().is_some() {
            futures::select! {
                event = self.swarm.select_next_some() => {
                    if let SwarmEvent::Behaviour(BehaviourEvent::Goodbye(
                        request_response::Event::Message { peer, .. }
                        | request_response::Event::OutboundFailure { peer, .. },
                    )) = event
                    {
                        let _ = self.swarm.disconnect_peer_id(peer);
                    }
                }
                _ = deadline => break,
            }
        }
    }
}

/// The peer id at the end of a `/p2p/<id>` multiaddr.
pub fn peer_id_of(address: &Multiaddr) -> Option<PeerId> {
    address.iter().find_map(|protocol| match protocol {
        libp2p::multiaddr::Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}
