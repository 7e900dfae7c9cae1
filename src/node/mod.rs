//! Node layer: the libp2p swarm of a light consensus node and the task that drives it.
//!
//! The task owns the swarm, the peer table and the request queue; [`crate::client::Client`]
//! talks to it over channels. It keeps `target_peers` peers, exchanges Status/MetaData/Ping as a
//! well-behaved peer, validates light-client gossip before it is forwarded, and schedules
//! light-client requests: at most two in flight per protocol per peer, a minimum interval per
//! peer for the rate-limited protocols, a timeout per attempt, retries on other peers and a
//! deadline per request, so every request ends with data or a clear error.

pub mod behaviour;
pub mod codec;
#[cfg(not(target_arch = "wasm32"))]
pub mod enr;
pub mod gossip;
pub mod peers;
mod transport;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt};
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId};
use libp2p::swarm::SwarmEvent;
use libp2p::{gossipsub, identify, identity, Multiaddr, PeerId, Swarm};
use ssz_rs::{Deserialize as _, Serialize as _};
use web_time::Instant;

use self::behaviour::{Behaviour, BehaviourEvent, Message};
use self::codec::{status_payload, EthRequest, EthResponse};
use self::gossip::GossipValidator;
use self::peers::{Outcome, PeerInfo, PeerManager};
use crate::chain::{ChainConfig, Clock, Fork};
use crate::primitives::{ForkDigest, Root};
use crate::types::{
    LightClientKind, LightClientObject, LightClientUpdatesByRangeRequest, MetaDataV2, MetaDataV3,
    StatusV1, StatusV2, MAX_REQUEST_LIGHT_CLIENT_UPDATES,
};
use crate::wire::gossip::{GossipKind, GossipTopic};
use crate::wire::{Protocol, ResponseChunk, ResultCode, WireError};

pub use self::transport::{build_swarm, reach, relay_address, Reach, RelayAddressError};

/// Goodbye reason: we are shutting down.
pub const GOODBYE_CLIENT_SHUTDOWN: u64 = 1;
/// Goodbye reason: the peer is on another network or fork.
pub const GOODBYE_IRRELEVANT_NETWORK: u64 = 2;
/// Goodbye reason: the peer's score fell too low.
pub const GOODBYE_BAD_SCORE: u64 = 250;

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
        }
    }
}

/// A light-client request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LightClientRequest {
    /// `light_client_bootstrap` for a block root.
    Bootstrap(Root),
    /// `light_client_updates_by_range` (at most 128 periods).
    UpdatesByRange {
        /// First period.
        start_period: u64,
        /// Number of periods.
        count: u64,
    },
    /// `light_client_finality_update`.
    FinalityUpdate,
    /// `light_client_optimistic_update`.
    OptimisticUpdate,
}

impl LightClientRequest {
    /// Its protocol.
    pub fn protocol(&self) -> Protocol {
        match self {
            LightClientRequest::Bootstrap(_) => Protocol::LightClientBootstrap,
            LightClientRequest::UpdatesByRange { .. } => Protocol::LightClientUpdatesByRange,
            LightClientRequest::FinalityUpdate => Protocol::LightClientFinalityUpdate,
            LightClientRequest::OptimisticUpdate => Protocol::LightClientOptimisticUpdate,
        }
    }

    fn kind(&self) -> LightClientKind {
        match self {
            LightClientRequest::Bootstrap(_) => LightClientKind::Bootstrap,
            LightClientRequest::UpdatesByRange { .. } => LightClientKind::Update,
            LightClientRequest::FinalityUpdate => LightClientKind::FinalityUpdate,
            LightClientRequest::OptimisticUpdate => LightClientKind::OptimisticUpdate,
        }
    }

    fn payload(&self) -> Vec<u8> {
        let mut ssz = Vec::new();
        match self {
            LightClientRequest::Bootstrap(root) => ssz.extend_from_slice(&root.0),
            LightClientRequest::UpdatesByRange {
                start_period,
                count,
            } => {
                LightClientUpdatesByRangeRequest {
                    start_period: *start_period,
                    count: *count,
                }
                .serialize(&mut ssz)
                .expect("fixed-size request serializes");
            }
            LightClientRequest::FinalityUpdate | LightClientRequest::OptimisticUpdate => {}
        }
        ssz
    }
}

/// Why a light-client request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// No peer could answer before the deadline; says what each attempt met.
    #[error(
        "no peer answered {protocol} within {seconds} s ({connected} peer(s) connected){attempts}"
    )]
    NoPeerAnswered {
        /// The protocol.
        protocol: Protocol,
        /// The deadline.
        seconds: u64,
        /// Peers connected at the end.
        connected: usize,
        /// "; peer X: reason" for each attempt.
        attempts: String,
        /// How the last failed attempt failed.
        last_failure: Option<Outcome>,
    },
    /// No connected peer (left) can answer, and none is on the way.
    #[error("no peer can answer {protocol} ({connected} peer(s) connected, none left that speaks it){attempts}")]
    NoPeerServes {
        /// The protocol.
        protocol: Protocol,
        /// Peers connected.
        connected: usize,
        /// "; peer X: reason" for each attempt.
        attempts: String,
    },
    /// Every peer that serves the protocol said it does not have the data.
    #[error("no peer has it: {0}")]
    Unavailable(String),
    /// The request itself is invalid.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The node stopped.
    #[error("the client has stopped")]
    Stopped,
}

impl FetchError {
    /// A short, stable code for what went wrong (what JavaScript callers branch on):
    /// `NO_PEERS`, `TIMEOUT`, `PEER_ERROR`, `BAD_DATA`, `INVALID_ARGUMENT` or `CLOSED`.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::NoPeerAnswered {
                last_failure: Some(Outcome::BadData),
                ..
            } => "BAD_DATA",
            FetchError::NoPeerAnswered {
                last_failure: Some(Outcome::ErrorResponse | Outcome::Unavailable | Outcome::Broken),
                ..
            } => "PEER_ERROR",
            FetchError::NoPeerAnswered {
                connected: 0,
                last_failure: None,
                ..
            } => "NO_PEERS",
            FetchError::NoPeerAnswered { .. } => "TIMEOUT",
            FetchError::NoPeerServes { .. } => "NO_PEERS",
            FetchError::Unavailable(_) => "PEER_ERROR",
            FetchError::InvalidRequest(_) => "INVALID_ARGUMENT",
            FetchError::Stopped => "CLOSED",
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
}

/// A request to the node task.
pub enum Command {
    /// Fetch light-client data.
    Fetch {
        /// What to fetch.
        request: LightClientRequest,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<Vec<LightClientObject>, FetchError>>,
    },
    /// List peers.
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    /// Add a peer to dial.
    AddPeer(Multiaddr),
    /// Receive events.
    Subscribe(mpsc::Sender<NodeEvent>),
    /// Say goodbye to every peer and stop.
    Shutdown(oneshot::Sender<()>),
}

struct PendingFetch {
    request: LightClientRequest,
    created: Instant,
    reply: oneshot::Sender<Result<Vec<LightClientObject>, FetchError>>,
    deadline: Instant,
    tried: Vec<PeerId>,
    attempts: Vec<String>,
    unavailable: Vec<String>,
    /// How the most recent attempt failed.
    last_failure: Option<Outcome>,
}

/// What an outbound request was for (the peer comes with its response).
enum InFlight {
    Fetch(PendingFetch),
    Status,
    MetaData,
    Ping,
    Goodbye,
}

/// The node task's state.
pub struct Node {
    swarm: Swarm<Behaviour>,
    config: NodeConfig,
    peers: PeerManager,
    dialing: HashSet<PeerId>,
    queue: VecDeque<PendingFetch>,
    inflight: HashMap<(Message, OutboundRequestId), InFlight>,
    subscribers: Vec<mpsc::Sender<NodeEvent>>,
    validator: GossipValidator,
    subscribed: HashSet<ForkDigest>,
    /// Best (finalized root, finalized epoch, head root, head slot) we know, for our Status.
    best: Option<(Root, u64, Root, u64)>,
    announced: HashSet<PeerId>,
    pending_disconnects: Vec<(PeerId, Instant)>,
    last_ping: Instant,
}

/// How often the node task wakes up to dial, expire and dispatch.
const TICK: Duration = Duration::from_millis(250);
const PING_INTERVAL: Duration = Duration::from_secs(30);
/// How long a request waits for peers to connect before "nobody serves it" is final.
const CONNECT_GRACE: Duration = Duration::from_secs(3);

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
            inflight: HashMap::new(),
            subscribers: Vec::new(),
            validator: GossipValidator::default(),
            subscribed: HashSet::new(),
            best: None,
            announced: HashSet::new(),
            pending_disconnects: Vec::new(),
            last_ping: Instant::now(),
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
            Command::Fetch { request, reply } => {
                if let LightClientRequest::UpdatesByRange { count, .. } = request {
                    if count == 0 || count > MAX_REQUEST_LIGHT_CLIENT_UPDATES {
                        let _ = reply.send(Err(FetchError::InvalidRequest(format!(
                            "count {count} outside 1..={MAX_REQUEST_LIGHT_CLIENT_UPDATES}"
                        ))));
                        return;
                    }
                }
                self.queue.push_back(PendingFetch {
                    request,
                    created: Instant::now(),
                    reply,
                    deadline: Instant::now() + self.config.request_deadline,
                    tried: Vec::new(),
                    attempts: Vec::new(),
                    last_failure: None,
                    unavailable: Vec::new(),
                });
            }
            Command::Peers(reply) => {
                let _ = reply.send(self.peers.infos());
            }
            Command::AddPeer(address) => match peer_id_of(&address) {
                Some(peer) => self.peers.add_candidate(peer, address),
                None => tracing::warn!(%address, "peer address without /p2p/<peer id> ignored"),
            },
            Command::Subscribe(sender) => self.subscribers.push(sender),
            Command::Shutdown(_) => unreachable!("handled by run"),
        }
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
        // Requests past their deadline fail with what their attempts met.
        let connected = self.peers.connected_count();
        let mut index = 0;
        while index < self.queue.len() {
            if self.queue[index].deadline <= now {
                let pending = self.queue.remove(index).expect("index in range");
                let seconds = self.config.request_deadline.as_secs();
                let last_failure = pending.last_failure;
                fail(pending, |attempts, protocol| FetchError::NoPeerAnswered {
                    protocol,
                    seconds,
                    connected,
                    attempts,
                    last_failure,
                });
            } else {
                index += 1;
            }
        }
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
        if now.duration_since(self.last_ping) >= PING_INTERVAL {
            self.last_ping = now;
            let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
            for peer in connected {
                let id = self
                    .swarm
                    .behaviour_mut()
                    .ping
                    .send_request(&peer, EthRequest::payload(0u64.to_le_bytes().to_vec()));
                self.inflight.insert((Message::Ping, id), InFlight::Ping);
            }
        }
        self.update_subscriptions();
    }

    /// Assigns queued requests to peers that can take them.
    fn dispatch(&mut self) {
        let now = Instant::now();
        let mut index = 0;
        while index < self.queue.len() {
            let protocol = self.queue[index].request.protocol();
            let quota = match protocol {
                Protocol::LightClientUpdatesByRange => Duration::ZERO,
                _ => self.config.rate_limited_interval,
            };
            let tried = &self.queue[index].tried;
            match self.peers.pick(protocol, 2, quota, tried, now) {
                Some(peer) => {
                    let pending = self.queue.remove(index).expect("index in range");
                    self.send_fetch(pending, peer, now);
                }
                None => {
                    // Give up early when nobody connected can serve it and nobody else is
                    // coming: after a failed attempt, or once peers had time to connect.
                    let pending = &self.queue[index];
                    let gave_up = (!pending.tried.is_empty()
                        || now.duration_since(pending.created) >= CONNECT_GRACE)
                        && !self.peers.anyone_serves(protocol, &pending.tried)
                        && self.peers.handshaking() == 0
                        && self.dialing.is_empty()
                        && self.peers.to_dial(now, &self.dialing).is_empty();
                    if gave_up {
                        let pending = self.queue.remove(index).expect("index in range");
                        if !pending.unavailable.is_empty()
                            && pending.unavailable.len() == pending.tried.len()
                        {
                            let reasons = pending.unavailable.join("; ");
                            let _ = pending.reply.send(Err(FetchError::Unavailable(reasons)));
                        } else {
                            let connected = self.peers.connected_count();
                            fail(pending, |attempts, protocol| FetchError::NoPeerServes {
                                protocol,
                                connected,
                                attempts,
                            });
                        }
                    } else {
                        index += 1;
                    }
                }
            }
        }
    }

    fn send_fetch(&mut self, mut pending: PendingFetch, peer: PeerId, now: Instant) {
        let protocol = pending.request.protocol();
        let message = Message::of(protocol);
        let id = self
            .swarm
            .behaviour_mut()
            .req_resp(message)
            .send_request(&peer, EthRequest::payload(pending.request.payload()));
        let record = self.peers.record(peer);
        *record.inflight.entry(protocol).or_default() += 1;
        record.last_request.insert(protocol, now);
        pending.tried.push(peer);
        tracing::debug!(%peer, %protocol, "request sent");
        self.inflight
            .insert((message, id), InFlight::Fetch(pending));
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
                        let status = self.our_status();
                        let id = self
                            .swarm
                            .behaviour_mut()
                            .status
                            .send_request(&peer_id, EthRequest::Status(status));
                        self.inflight
                            .insert((Message::Status, id), InFlight::Status);
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

    fn on_inbound_request(
        &mut self,
        peer: PeerId,
        message: Message,
        request: EthRequest,
        channel: request_response::ResponseChannel<EthResponse>,
    ) {
        let EthRequest::Payload {
            protocol: Some(protocol),
            ssz,
        } = request
        else {
            return;
        };
        let success = |payload: Vec<u8>| EthResponse {
            protocol,
            chunks: Ok(vec![ResponseChunk {
                result: ResultCode::Success,
                context: None,
                fork: None,
                payload,
            }]),
        };
        let response = match message {
            Message::Status => {
                if let Some(status) = decode_status(protocol, &ssz) {
                    self.on_peer_status(peer, status);
                }
                success(status_payload(protocol, &self.our_status()))
            }
            Message::Ping => success(0u64.to_le_bytes().to_vec()),
            Message::MetaData => success(our_metadata(protocol)),
            Message::Goodbye => {
                let reason = u64::deserialize(&ssz).unwrap_or_default();
                tracing::info!(%peer, reason, "peer said goodbye");
                self.pending_disconnects
                    .push((peer, Instant::now() + Duration::from_millis(200)));
                EthResponse {
                    protocol,
                    chunks: Ok(Vec::new()),
                }
            }
            // We announce no light-client protocol for inbound requests.
            _ => return,
        };
        let _ = self
            .swarm
            .behaviour_mut()
            .req_resp(message)
            .send_response(channel, response);
    }

    fn on_peer_status(&mut self, peer: PeerId, status: StatusV2) {
        let ours = self.current_digest();
        let relevant = status.fork_digest == ours
            || self
                .config
                .chain
                .fork_for_digest(&status.fork_digest)
                .is_some();
        if !relevant {
            tracing::info!(%peer, digest = %status.fork_digest, "peer is on another network");
            self.say_goodbye(peer, GOODBYE_IRRELEVANT_NETWORK);
            return;
        }
        let first = self.peers.record(peer).status.is_none();
        self.peers.record(peer).status = Some(status);
        if first {
            let id = self
                .swarm
                .behaviour_mut()
                .metadata
                .send_request(&peer, EthRequest::payload(Vec::new()));
            self.inflight
                .insert((Message::MetaData, id), InFlight::MetaData);
            self.announce(peer);
        }
    }

    /// Emits `PeerConnected` once a peer has both exchanged Status and been identified.
    fn announce(&mut self, peer: PeerId) {
        let Some(record) = self.peers.get(&peer) else {
            return;
        };
        if record.status.is_none() || record.agent.is_none() || !self.announced.insert(peer) {
            return;
        }
        let client = record.agent.clone();
        tracing::info!(%peer, client = client.as_deref().unwrap_or("?"), "peer ready");
        self.emit(NodeEvent::PeerConnected {
            peer_id: peer.to_string(),
            client,
        });
    }

    fn on_response(
        &mut self,
        peer: PeerId,
        inflight: InFlight,
        response: Result<EthResponse, OutboundFailure>,
        now: Instant,
    ) {
        match inflight {
            InFlight::Status => match response.map(|r| (r.protocol, r.chunks)) {
                Ok((protocol, Ok(chunks))) => {
                    let status = chunks
                        .first()
                        .filter(|chunk| chunk.result == ResultCode::Success)
                        .and_then(|chunk| decode_status(protocol, &chunk.payload));
                    match status {
                        Some(status) => self.on_peer_status(peer, status),
                        None => self.say_goodbye(peer, GOODBYE_IRRELEVANT_NETWORK),
                    }
                }
                Ok((_, Err(error))) => {
                    tracing::info!(%peer, %error, "invalid Status");
                    self.say_goodbye(peer, GOODBYE_IRRELEVANT_NETWORK);
                }
                Err(error) => {
                    tracing::info!(%peer, %error, "Status failed");
                    let _ = self.swarm.disconnect_peer_id(peer);
                }
            },
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

    fn on_fetch_response(
        &mut self,
        peer: PeerId,
        mut pending: PendingFetch,
        response: Result<EthResponse, OutboundFailure>,
        now: Instant,
    ) {
        let protocol = pending.request.protocol();
        if let Some(count) = self.peers.record(peer).inflight.get_mut(&protocol) {
            *count = count.saturating_sub(1);
        }
        let (outcome, detail) = match response {
            Err(OutboundFailure::UnsupportedProtocols) => {
                self.peers.record(peer).unsupported.insert(protocol);
                (None, "does not speak the protocol".to_string())
            }
            Err(OutboundFailure::Timeout) => (Some(Outcome::Timeout), "timed out".into()),
            Err(error) => (Some(Outcome::Broken), error.to_string()),
            Ok(EthResponse {
                chunks: Err(error), ..
            }) => {
                let outcome = match error {
                    WireError::UnexpectedEof { .. } | WireError::Io { .. } => Outcome::Broken,
                    _ => Outcome::BadData,
                };
                (Some(outcome), error.to_string())
            }
            Ok(EthResponse {
                chunks: Ok(chunks), ..
            }) => match self.check_chunks(&pending.request, chunks) {
                Ok(objects) => {
                    self.peers.report(peer, Outcome::Good, now);
                    self.learn(&objects);
                    let _ = pending.reply.send(Ok(objects));
                    return;
                }
                Err((outcome, detail)) => {
                    if outcome == Outcome::Unavailable {
                        pending.unavailable.push(format!("{peer}: {detail}"));
                    }
                    (Some(outcome), detail)
                }
            },
        };
        tracing::info!(%peer, %protocol, %detail, "request failed; will retry elsewhere");
        pending.attempts.push(format!("{peer}: {detail}"));
        pending.last_failure = outcome.or(pending.last_failure);
        if let Some(outcome) = outcome {
            if self.peers.report(peer, outcome, now) {
                tracing::info!(%peer, "score too low, disconnecting");
                self.say_goodbye(peer, GOODBYE_BAD_SCORE);
            }
        }
        // Retry, on another peer when there is one.
        self.queue.push_front(pending);
    }

    /// Decodes and checks the chunks against the request; `Err` says how the peer failed.
    fn check_chunks(
        &self,
        request: &LightClientRequest,
        chunks: Vec<ResponseChunk>,
    ) -> Result<Vec<LightClientObject>, (Outcome, String)> {
        let chain = &self.config.chain;
        let mut objects = Vec::with_capacity(chunks.len());
        let mut error = None;
        for chunk in chunks {
            if chunk.result != ResultCode::Success {
                let message = chunk.error_message().unwrap_or_default();
                // Lodestar answers an updates range that runs past its current period with a
                // server error (DESIGN.md §6): the peer just does not have those yet.
                let unavailable = chunk.result == ResultCode::ResourceUnavailable
                    || (chunk.result == ResultCode::ServerError
                        && matches!(request, LightClientRequest::UpdatesByRange { .. }));
                let outcome = if unavailable {
                    Outcome::Unavailable
                } else {
                    Outcome::ErrorResponse
                };
                error = Some((outcome, format!("error {}: {message}", chunk.result.byte())));
                break;
            }
            let fork = chunk.fork.unwrap_or(Fork::Phase0);
            let object =
                LightClientObject::decode(request.kind(), fork, chain.preset, &chunk.payload)
                    .map_err(|error| (Outcome::BadData, error.to_string()))?;
            // Context bytes must be the digest of the object's own slot.
            if chunk.context != Some(chain.fork_digest_at_slot(object.slot)) {
                return Err((
                    Outcome::BadData,
                    format!("context bytes do not match slot {}", object.slot),
                ));
            }
            objects.push(object);
        }
        match request {
            LightClientRequest::Bootstrap(root) => {
                if let Some(object) = objects.first() {
                    if object.block_root != *root {
                        return Err((Outcome::BadData, "bootstrap for another block".into()));
                    }
                }
            }
            LightClientRequest::UpdatesByRange {
                start_period,
                count,
            } => {
                for (index, object) in objects.iter().enumerate() {
                    let period = chain.sync_committee_period_at_slot(object.slot);
                    if period != start_period + index as u64 || index as u64 >= *count {
                        return Err((
                            Outcome::BadData,
                            format!(
                                "update {index} is for period {period}, expected {}",
                                start_period + index as u64
                            ),
                        ));
                    }
                }
                // A peer that has some of the range and then errors gave what it has.
                if !objects.is_empty() {
                    return Ok(objects);
                }
            }
            _ => {}
        }
        match (objects.is_empty(), error) {
            (false, None) => Ok(objects),
            (_, Some(error)) => Err(error),
            (true, None) => Err((Outcome::Unavailable, "empty response".into())),
        }
    }

    /// Updates what our Status says from data we fetched.
    fn learn(&mut self, objects: &[LightClientObject]) {
        for object in objects {
            if let (Some(finalized_slot), Some(finalized_root)) =
                (object.finalized_slot, object.finalized_root)
            {
                let epoch = self.config.chain.epoch_at_slot(finalized_slot);
                if self.best.is_none_or(|(_, best_epoch, _, head)| {
                    epoch > best_epoch || (epoch == best_epoch && object.slot > head)
                }) {
                    self.best = Some((finalized_root, epoch, object.block_root, object.slot));
                }
            }
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        else {
            return;
        };
        let chain = self.config.chain.clone();
        let validation = self
            .validator
            .validate(&chain, message.topic.as_str(), &message.data);
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(
                &message_id,
                &propagation_source,
                validation.acceptance,
            );
        match validation.object {
            Some(object) => {
                tracing::debug!(peer = %propagation_source, slot = object.slot, kind = ?object.kind, "gossip accepted");
                self.learn(std::slice::from_ref(&object));
                let event = match object.kind {
                    LightClientKind::FinalityUpdate => NodeEvent::FinalityUpdate(object),
                    _ => NodeEvent::OptimisticUpdate(object),
                };
                self.emit(event);
            }
            None => tracing::debug!(
                peer = %propagation_source,
                reason = validation.reason.as_deref().unwrap_or(""),
                "gossip not forwarded"
            ),
        }
    }

    fn say_goodbye(&mut self, peer: PeerId, reason: u64) {
        let id = self
            .swarm
            .behaviour_mut()
            .goodbye
            .send_request(&peer, EthRequest::payload(reason.to_le_bytes().to_vec()));
        self.inflight
            .insert((Message::Goodbye, id), InFlight::Goodbye);
        // Disconnect even if the peer never acknowledges.
        self.pending_disconnects
            .push((peer, Instant::now() + Duration::from_secs(1)));
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

    /// The epoch `config.clock` is in (0 before genesis or without a genesis time).
    fn current_epoch(&self) -> u64 {
        self.config.clock.current_epoch(&self.config.chain)
    }

    fn current_digest(&self) -> ForkDigest {
        self.config.chain.fork_digest(self.current_epoch())
    }

    /// An honest Status: the best finalized and head headers we know, genesis-like before that.
    fn our_status(&self) -> StatusV2 {
        let (finalized_root, finalized_epoch, head_root, head_slot) = self.best.unwrap_or_default();
        StatusV2 {
            fork_digest: self.current_digest(),
            finalized_root,
            finalized_epoch,
            head_root,
            head_slot,
            earliest_available_slot: head_slot,
        }
    }

    /// Subscribes to the light-client topics of the current digest, and of the next one within
    /// an epoch of its activation; leaves old digests two epochs after a transition.
    fn update_subscriptions(&mut self) {
        let wanted = wanted_digests(&self.config.chain, self.current_epoch());
        for digest in wanted.difference(&self.subscribed.clone()) {
            for topic in light_client_topics(*digest) {
                if let Err(error) = self.swarm.behaviour_mut().gossipsub.subscribe(&topic) {
                    tracing::warn!(%topic, %error, "cannot subscribe");
                }
            }
            tracing::info!(digest = %digest, "subscribed to light-client gossip");
            self.subscribed.insert(*digest);
        }
        for digest in self.subscribed.clone().difference(&wanted) {
            for topic in light_client_topics(*digest) {
                self.swarm.behaviour_mut().gossipsub.unsubscribe(&topic);
            }
            self.subscribed.remove(digest);
        }
    }
}

/// The gossipsub topics of the light-client updates under `digest`.
fn light_client_topics(digest: ForkDigest) -> [gossipsub::IdentTopic; 2] {
    GossipKind::ALL.map(|kind| {
        gossipsub::IdentTopic::new(
            GossipTopic {
                fork_digest: digest,
                kind,
            }
            .to_string(),
        )
    })
}

/// The digests whose light-client topics to follow at `epoch`: the current one, the next one from
/// an epoch before it activates, and the previous one for two epochs after a transition (fork or
/// blob-parameter-only fork alike).
pub fn wanted_digests(chain: &ChainConfig, epoch: u64) -> HashSet<ForkDigest> {
    let periods = chain.digest_periods();
    let mut wanted = HashSet::new();
    wanted.insert(chain.fork_digest(epoch));
    for (index, period) in periods.iter().enumerate() {
        if period.epoch > epoch && period.epoch <= epoch.saturating_add(1) {
            wanted.insert(period.digest);
        }
        if index > 0 && period.epoch <= epoch && epoch < period.epoch.saturating_add(2) {
            wanted.insert(periods[index - 1].digest);
        }
    }
    wanted
}

fn fail(pending: PendingFetch, error: impl FnOnce(String, Protocol) -> FetchError) {
    let attempts: String = pending
        .attempts
        .iter()
        .map(|attempt| format!("; {attempt}"))
        .collect();
    let protocol = pending.request.protocol();
    let _ = pending.reply.send(Err(error(attempts, protocol)));
}

fn decode_status(protocol: Protocol, ssz: &[u8]) -> Option<StatusV2> {
    if protocol == Protocol::StatusV1 {
        StatusV1::deserialize(ssz).ok().map(|status| StatusV2 {
            fork_digest: status.fork_digest,
            finalized_root: status.finalized_root,
            finalized_epoch: status.finalized_epoch,
            head_root: status.head_root,
            head_slot: status.head_slot,
            earliest_available_slot: 0,
        })
    } else {
        StatusV2::deserialize(ssz).ok()
    }
}

/// Our MetaData: sequence 0, no subnets, no custody (we store nothing).
fn our_metadata(protocol: Protocol) -> Vec<u8> {
    let mut ssz = Vec::new();
    let written = if protocol == Protocol::MetaDataV3 {
        MetaDataV3::default().serialize(&mut ssz)
    } else {
        MetaDataV2::default().serialize(&mut ssz)
    };
    written.expect("MetaData serializes");
    ssz
}

/// The peer id at the end of a `/p2p/<id>` multiaddr.
pub fn peer_id_of(address: &Multiaddr) -> Option<PeerId> {
    address.iter().find_map(|protocol| match protocol {
        libp2p::multiaddr::Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Network;

    #[test]
    fn gossip_topics_move_across_fork_and_bpo_boundaries() {
        let chain = Network::Mainnet.config();
        let digest = |epoch| chain.fork_digest(epoch);
        let bpo1 = 412_672;
        // Well inside Fulu: one digest.
        assert_eq!(
            wanted_digests(&chain, bpo1 - 10),
            HashSet::from([digest(bpo1 - 10)])
        );
        // An epoch before BPO1: the next digest too.
        assert_eq!(
            wanted_digests(&chain, bpo1 - 1),
            HashSet::from([digest(bpo1 - 1), digest(bpo1)])
        );
        // Just after: the new one, and the old one for two epochs.
        assert_eq!(
            wanted_digests(&chain, bpo1 + 1),
            HashSet::from([digest(bpo1), digest(bpo1 - 1)])
        );
        assert_eq!(
            wanted_digests(&chain, bpo1 + 2),
            HashSet::from([digest(bpo1)])
        );
        // The Electra → Fulu fork works the same way.
        let fulu = 411_392;
        assert!(wanted_digests(&chain, fulu - 1).contains(&digest(fulu)));
        assert_ne!(digest(fulu - 1), digest(fulu));
    }
}
