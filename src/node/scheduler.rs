//! The request scheduler: light-client requests from queue to answer. It picks a peer for each
//! queued request (at most two in flight per protocol per peer, a minimum interval per peer for
//! the rate-limited protocols), sends it, checks the response chunks against the request, scores
//! the peer, retries elsewhere on failure and fails a request with a clear error at its deadline
//! or once no peer can serve it.

use std::collections::VecDeque;
use std::time::Duration;

use futures::channel::oneshot;
use libp2p::request_response::OutboundFailure;
use libp2p::PeerId;
use ssz_rs::Serialize as _;
use web_time::Instant;

use super::behaviour::Message;
use super::codec::{is_protocol_refusal, EthRequest, EthResponse};
use super::peers::Outcome;
use super::verifier::Sender;
use super::{Node, GOODBYE_BAD_SCORE};
use crate::chain::{ChainConfig, Fork};
use crate::primitives::Root;
use crate::types::{
    BeaconBlocksByRangeRequest, BeaconBlocksByRootRequest, LightClientKind, LightClientObject,
    LightClientUpdatesByRangeRequest, SignedBeaconBlock, MAX_REQUEST_BLOCKS_DENEB,
    MAX_REQUEST_LIGHT_CLIENT_UPDATES,
};
use crate::wire::{Protocol, ResponseChunk, ResultCode, WireError};

/// A request the scheduler serves: light-client data, or blocks.
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
    /// `beacon_blocks_by_range/2` (step 1, at most 128 slots).
    BlocksByRange {
        /// First slot.
        start_slot: u64,
        /// Number of slots.
        count: u64,
    },
    /// `beacon_blocks_by_root/2` (at most 128 roots).
    BlocksByRoot(Vec<Root>),
}

/// What a request got: light-client objects, or blocks (possibly none: empty slots, unknown
/// roots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// Light-client objects (at least one).
    Objects(Vec<LightClientObject>),
    /// Blocks, checked against the request.
    Blocks(Vec<SignedBeaconBlock>),
}

/// Where a fetch's answer goes.
pub type FetchReply = oneshot::Sender<Result<Answer, FetchError>>;

/// Who sent data the node has: a peer, or a Beacon-API source (by URL) whose answer it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A peer (a response or gossip).
    Peer(PeerId),
    /// A Beacon-API source.
    Rpc(String),
}

impl From<&Sender<'_>> for Origin {
    fn from(sender: &Sender<'_>) -> Self {
        match sender {
            Sender::Peer(peer) => Origin::Peer(*peer),
            Sender::Rpc(url) => Origin::Rpc(url.to_string()),
        }
    }
}

/// A fetch's answer and who sent its data: the peer that answered, or — when the node had it
/// already (a bootstrap it checked before, a recent update) — whoever sent it then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// What the request got.
    pub fetched: Fetched,
    /// Who sent it.
    pub origin: Origin,
}

impl LightClientRequest {
    /// Checks that `objects` answer this request, whoever sent them: a bootstrap is the one of
    /// the root asked for; updates are for consecutive periods from the start asked for, no more
    /// than asked.
    pub fn check_objects(
        &self,
        chain: &ChainConfig,
        objects: &[LightClientObject],
    ) -> Result<(), String> {
        match self {
            LightClientRequest::Bootstrap(root) => {
                if objects.len() > 1 {
                    return Err(format!("{} bootstraps for one root", objects.len()));
                }
                if objects
                    .first()
                    .is_some_and(|object| object.block_root != *root)
                {
                    return Err("bootstrap for another block".into());
                }
            }
            LightClientRequest::UpdatesByRange {
                start_period,
                count,
            } => {
                for (index, object) in objects.iter().enumerate() {
                    let period = chain.sync_committee_period_at_slot(object.slot);
                    let expected = start_period + index as u64;
                    if period != expected || index as u64 >= *count {
                        return Err(format!(
                            "update {index} is for period {period}, expected {expected}"
                        ));
                    }
                }
            }
            LightClientRequest::FinalityUpdate | LightClientRequest::OptimisticUpdate => {
                if objects.len() > 1 {
                    return Err(format!("{} objects for one latest update", objects.len()));
                }
            }
            LightClientRequest::BlocksByRange { .. } | LightClientRequest::BlocksByRoot(_) => {}
        }
        Ok(())
    }

    /// Its protocol.
    pub fn protocol(&self) -> Protocol {
        match self {
            LightClientRequest::Bootstrap(_) => Protocol::LightClientBootstrap,
            LightClientRequest::UpdatesByRange { .. } => Protocol::LightClientUpdatesByRange,
            LightClientRequest::FinalityUpdate => Protocol::LightClientFinalityUpdate,
            LightClientRequest::OptimisticUpdate => Protocol::LightClientOptimisticUpdate,
            LightClientRequest::BlocksByRange { .. } => Protocol::BeaconBlocksByRange,
            LightClientRequest::BlocksByRoot(_) => Protocol::BeaconBlocksByRoot,
        }
    }

    /// The light-client object kind it asks for (`None`: blocks).
    pub fn kind(&self) -> Option<LightClientKind> {
        match self {
            LightClientRequest::Bootstrap(_) => Some(LightClientKind::Bootstrap),
            LightClientRequest::UpdatesByRange { .. } => Some(LightClientKind::Update),
            LightClientRequest::FinalityUpdate => Some(LightClientKind::FinalityUpdate),
            LightClientRequest::OptimisticUpdate => Some(LightClientKind::OptimisticUpdate),
            LightClientRequest::BlocksByRange { .. } | LightClientRequest::BlocksByRoot(_) => None,
        }
    }

    /// Why the request is not one a peer may be sent, if it is not.
    fn invalid(&self) -> Option<String> {
        match self {
            LightClientRequest::UpdatesByRange { count, .. }
                if *count == 0 || *count > MAX_REQUEST_LIGHT_CLIENT_UPDATES =>
            {
                Some(format!(
                    "count {count} outside 1..={MAX_REQUEST_LIGHT_CLIENT_UPDATES}"
                ))
            }
            LightClientRequest::BlocksByRange { start_slot, count } => {
                if *count == 0 || *count > MAX_REQUEST_BLOCKS_DENEB {
                    Some(format!(
                        "count {count} outside 1..={MAX_REQUEST_BLOCKS_DENEB}"
                    ))
                } else if start_slot.checked_add(*count).is_none() {
                    Some(format!("slot range {start_slot} + {count} overflows"))
                } else {
                    None
                }
            }
            LightClientRequest::BlocksByRoot(roots)
                if roots.is_empty() || roots.len() as u64 > MAX_REQUEST_BLOCKS_DENEB =>
            {
                Some(format!(
                    "{} roots, outside 1..={MAX_REQUEST_BLOCKS_DENEB}",
                    roots.len()
                ))
            }
            _ => None,
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
            LightClientRequest::BlocksByRange { start_slot, count } => {
                BeaconBlocksByRangeRequest {
                    start_slot: *start_slot,
                    count: *count,
                    step: 1,
                }
                .serialize(&mut ssz)
                .expect("fixed-size request serializes");
            }
            LightClientRequest::BlocksByRoot(roots) => {
                // At most 128 roots (checked when queued): a list of them always serializes.
                let list = BeaconBlocksByRootRequest::try_from(roots.clone())
                    .expect("at most MAX_REQUEST_BLOCKS_DENEB roots");
                list.serialize(&mut ssz)
                    .expect("a list of roots serializes");
            }
        }
        ssz
    }
}

/// Why a request failed.
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
        /// How the last failed attempt failed.
        last_failure: Option<Outcome>,
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
            // Every peer was asked and the last one sent data that does not hold up.
            FetchError::NoPeerServes {
                last_failure: Some(Outcome::BadData),
                ..
            } => "BAD_DATA",
            FetchError::NoPeerServes { .. } => "NO_PEERS",
            FetchError::Unavailable(_) => "PEER_ERROR",
            FetchError::InvalidRequest(_) => "INVALID_ARGUMENT",
            FetchError::Stopped => "CLOSED",
        }
    }
}

/// A queued light-client request and what its attempts met so far.
pub(super) struct PendingFetch {
    request: LightClientRequest,
    created: Instant,
    pub(super) reply: FetchReply,
    deadline: Instant,
    tried: Vec<PeerId>,
    attempts: Vec<String>,
    unavailable: Vec<String>,
    /// Peers whose connection went away during an attempt, once per loss.
    lost: Vec<PeerId>,
    /// How the most recent attempt failed.
    last_failure: Option<Outcome>,
}

/// What an outbound request was for (the peer comes with its response).
pub(super) enum InFlight {
    Fetch(PendingFetch),
    Status,
    MetaData,
    Ping,
    Goodbye,
}

/// How often one request is retried on a peer whose connection keeps going away.
const MAX_LOSSES_PER_PEER: usize = 3;

impl PendingFetch {
    fn losses_on(&self, peer: PeerId) -> usize {
        self.lost.iter().filter(|lost| **lost == peer).count()
    }
}

/// How long a request waits for peers to connect before "nobody serves it" is final.
const CONNECT_GRACE: Duration = Duration::from_secs(3);

/// The newest finality and optimistic update the node received, from a response or gossip, and
/// when. A request for "the latest" that only a peer's quota holds back (about one per 10 s per
/// peer) is answered with it while it is younger than that quota: a peer asked again would
/// answer the same, or gossip would have brought a newer one. Two light clients on one page
/// (Lodestar and Helios on the demo page) otherwise wait up to 10 s for each other.
#[derive(Debug, Default)]
pub(super) struct RecentLatest {
    finality: Option<(LightClientObject, Instant, Origin)>,
    optimistic: Option<(LightClientObject, Instant, Origin)>,
}

impl RecentLatest {
    fn slot_mut(
        &mut self,
        kind: LightClientKind,
    ) -> Option<&mut Option<(LightClientObject, Instant, Origin)>> {
        match kind {
            LightClientKind::FinalityUpdate => Some(&mut self.finality),
            LightClientKind::OptimisticUpdate => Some(&mut self.optimistic),
            _ => None,
        }
    }

    /// Keeps `object` (from `origin`) if it is a finality or optimistic update at least as new
    /// as the one held.
    pub(super) fn note(&mut self, object: &LightClientObject, origin: Origin, now: Instant) {
        let Some(held) = self.slot_mut(object.kind) else {
            return;
        };
        let order = |o: &LightClientObject| (o.slot, o.signature_slot);
        if held
            .as_ref()
            .is_none_or(|(kept, _, _)| order(object) >= order(kept))
        {
            *held = Some((object.clone(), now, origin));
        }
    }

    /// The held update of `kind`, if it arrived less than `within` ago.
    fn fresh(
        &self,
        kind: LightClientKind,
        within: Duration,
        now: Instant,
    ) -> Option<(&LightClientObject, &Origin)> {
        let held = match kind {
            LightClientKind::FinalityUpdate => &self.finality,
            LightClientKind::OptimisticUpdate => &self.optimistic,
            _ => return None,
        };
        held.as_ref()
            .filter(|(_, at, _)| now.duration_since(*at) < within)
            .map(|(object, _, origin)| (object, origin))
    }
}

/// Bootstraps kept by block root (mainnet: ~25 KB each).
const RECENT_BOOTSTRAPS: usize = 8;

/// The bootstraps answered lately, newest last. A bootstrap for a root never changes, while
/// peers allow about one bootstrap request per 10 s (`rate_limited_interval`): two light clients
/// starting from one checkpoint on one page (Lodestar and Helios on the demo page) would
/// otherwise wait that long for the second.
#[derive(Debug, Default)]
pub(super) struct RecentBootstraps(VecDeque<(LightClientObject, Origin)>);

impl RecentBootstraps {
    fn get(&self, block_root: &Root) -> Option<&(LightClientObject, Origin)> {
        self.0
            .iter()
            .find(|(object, _)| object.block_root == *block_root)
    }

    pub(super) fn insert(&mut self, object: LightClientObject, origin: Origin) {
        self.0
            .retain(|(kept, _)| kept.block_root != object.block_root);
        self.0.push_back((object, origin));
        while self.0.len() > RECENT_BOOTSTRAPS {
            self.0.pop_front();
        }
    }
}

impl Node {
    /// Queues a fetch, or refuses it at once when the request itself is invalid.
    pub(super) fn enqueue(&mut self, request: LightClientRequest, reply: FetchReply) {
        if let Some(reason) = request.invalid() {
            let _ = reply.send(Err(FetchError::InvalidRequest(reason)));
            return;
        }
        if let LightClientRequest::Bootstrap(root) = &request {
            // The store's first bootstrap comes from a peer, so that a bad one counts against it.
            let for_the_store = self
                .verifier
                .as_ref()
                .is_some_and(|verifier| verifier.wants_bootstrap(root));
            if let Some((object, origin)) = self.bootstraps.get(root).filter(|_| !for_the_store) {
                let _ = reply.send(Ok(Answer {
                    fetched: Fetched::Objects(vec![object.clone()]),
                    origin: origin.clone(),
                }));
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
            lost: Vec::new(),
        });
    }

    /// Answers the queued "latest" request at `index` with the update received less than
    /// `quota` ago, if there is one; whether it did.
    fn answer_from_recent(&mut self, index: usize, quota: Duration, now: Instant) -> bool {
        let Some(kind) = self.queue[index].request.kind() else {
            return false;
        };
        let Some((object, origin)) = self
            .latest
            .fresh(kind, quota, now)
            .map(|(object, origin)| (object.clone(), origin.clone()))
        else {
            return false;
        };
        let pending = self.queue.remove(index).expect("index in range");
        let _ = pending.reply.send(Ok(Answer {
            fetched: Fetched::Objects(vec![object]),
            origin,
        }));
        true
    }

    /// Fails the requests past their deadline, with what their attempts met; drops those nobody
    /// waits for any more.
    pub(super) fn expire(&mut self, now: Instant) {
        let connected = self.peers.connected_count();
        let mut index = 0;
        while index < self.queue.len() {
            if self.queue[index].reply.is_canceled() {
                // Nobody waits for it (another source answered first): not asked of peers.
                self.queue.remove(index);
            } else if self.queue[index].deadline <= now {
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
    }

    /// Assigns queued requests to peers that can take them.
    pub(super) fn dispatch(&mut self) {
        let now = Instant::now();
        let mut index = 0;
        while index < self.queue.len() {
            let protocol = self.queue[index].request.protocol();
            let quota = match protocol {
                Protocol::LightClientUpdatesByRange
                | Protocol::BeaconBlocksByRange
                | Protocol::BeaconBlocksByRoot => Duration::ZERO,
                _ => self.config.rate_limited_interval,
            };
            let tried = &self.queue[index].tried;
            match self.peers.pick(protocol, 2, quota, tried, now) {
                Some(peer) => {
                    let pending = self.queue.remove(index).expect("index in range");
                    self.send_fetch(pending, peer, now);
                }
                None if self.answer_from_recent(index, quota, now) => {}
                None => {
                    // Give up early when nobody connected can serve it and nobody else is
                    // coming: after a failed attempt, or once peers had time to connect. While
                    // discovery runs, a request nobody has tried yet waits for the peers it finds;
                    // one that every connected peer refused does not wait 30 s for a stranger.
                    let pending = &self.queue[index];
                    let gave_up = (!pending.tried.is_empty()
                        || now.duration_since(pending.created) >= CONNECT_GRACE)
                        && !self.peers.anyone_serves(protocol, &pending.tried)
                        && self.peers.handshaking() == 0
                        && self.dialing.is_empty()
                        && !(pending.tried.is_empty() && self.discovering())
                        && self.peers.to_dial(now, &self.dialing).is_empty()
                        && !self
                            .peers
                            .may_return(protocol, pending.created, pending.deadline);
                    if gave_up {
                        let pending = self.queue.remove(index).expect("index in range");
                        if !pending.unavailable.is_empty()
                            && pending.unavailable.len() == pending.tried.len()
                        {
                            let reasons = pending.unavailable.join("; ");
                            let _ = pending.reply.send(Err(FetchError::Unavailable(reasons)));
                        } else {
                            let connected = self.peers.connected_count();
                            let last_failure = pending.last_failure;
                            fail(pending, |attempts, protocol| FetchError::NoPeerServes {
                                protocol,
                                connected,
                                attempts,
                                last_failure,
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

    pub(super) fn on_fetch_response(
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
            Err(failure) if is_refusal(&failure) => {
                self.peers.record(peer).unsupported.insert(protocol);
                (None, "does not speak the protocol".to_string())
            }
            Err(OutboundFailure::Timeout) => (Some(Outcome::Timeout), "timed out".into()),
            Err(failure)
                if is_connection_loss(&failure)
                    && pending.losses_on(peer) < MAX_LOSSES_PER_PEER =>
            {
                // Not the peer's answer but its connection: once it is back (within the
                // request's deadline), it may be asked again.
                pending.attempts.push(format!("{peer}: {failure}"));
                pending.lost.push(peer);
                pending.tried.retain(|tried| *tried != peer);
                tracing::info!(%peer, %protocol, %failure, "connection lost; will retry");
                self.queue.push_front(pending);
                return;
            }
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
            }) => match self
                .check_response(&pending.request, chunks)
                .and_then(|fetched| match &fetched {
                    Fetched::Objects(objects) => self
                        .verify_fetched(Sender::Peer(peer), &pending.request, objects)
                        .map(|()| fetched),
                    Fetched::Blocks(_) => Ok(fetched),
                }) {
                Ok(fetched) => {
                    self.peers.report(peer, Outcome::Good, now);
                    if let Fetched::Objects(objects) = &fetched {
                        self.learn(Sender::Peer(peer), objects);
                        if let (LightClientRequest::Bootstrap(_), Some(bootstrap)) =
                            (&pending.request, objects.first())
                        {
                            // Checked against the root asked for (check_chunks).
                            self.bootstraps
                                .insert(bootstrap.clone(), Origin::Peer(peer));
                        }
                    }
                    let _ = pending.reply.send(Ok(Answer {
                        fetched,
                        origin: Origin::Peer(peer),
                    }));
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

    /// Decodes and checks a response against its request; `Err` says how the peer failed.
    fn check_response(
        &self,
        request: &LightClientRequest,
        chunks: Vec<ResponseChunk>,
    ) -> Result<Fetched, (Outcome, String)> {
        match request.kind() {
            Some(kind) => self
                .check_chunks(kind, request, chunks)
                .map(Fetched::Objects),
            None => check_blocks(&self.config.chain, request, chunks).map(Fetched::Blocks),
        }
    }

    /// Decodes and checks light-client chunks against the request.
    fn check_chunks(
        &self,
        kind: LightClientKind,
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
            let object = LightClientObject::decode(kind, fork, chain.preset, &chunk.payload)
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
        request
            .check_objects(chain, &objects)
            .map_err(|reason| (Outcome::BadData, reason))?;
        // A peer that has some of an updates range and then errors gave what it has.
        if matches!(request, LightClientRequest::UpdatesByRange { .. }) && !objects.is_empty() {
            return Ok(objects);
        }
        match (objects.is_empty(), error) {
            (false, None) => Ok(objects),
            (_, Some(error)) => Err(error),
            (true, None) => Err((Outcome::Unavailable, "empty response".into())),
        }
    }
}

/// Decodes block chunks and checks them against the request: by range, slots strictly
/// ascending within `[start, start + count)`; by root, each block one asked for, in request
/// order, none twice. No chunk at all is an answer (empty slots, unknown roots).
fn check_blocks(
    chain: &ChainConfig,
    request: &LightClientRequest,
    chunks: Vec<ResponseChunk>,
) -> Result<Vec<SignedBeaconBlock>, (Outcome, String)> {
    let mut blocks: Vec<SignedBeaconBlock> = Vec::with_capacity(chunks.len());
    // By root: the index in the request after the last root answered.
    let mut next_root = 0;
    for (index, chunk) in chunks.into_iter().enumerate() {
        if chunk.result != ResultCode::Success {
            let message = chunk.error_message().unwrap_or_default();
            let outcome = if chunk.result == ResultCode::ResourceUnavailable {
                Outcome::Unavailable
            } else {
                Outcome::ErrorResponse
            };
            return Err((outcome, format!("error {}: {message}", chunk.result.byte())));
        }
        let Some(fork) = chunk.fork else {
            return Err((Outcome::BadData, format!("block {index} without a fork")));
        };
        let block = SignedBeaconBlock::from_ssz(fork, chain.preset, &chunk.payload)
            .map_err(|error| (Outcome::BadData, format!("block {index}: {error}")))?;
        let slot = block.slot();
        if chunk.context != Some(chain.fork_digest_at_slot(slot)) {
            return Err((
                Outcome::BadData,
                format!("block {index}: context bytes do not match slot {slot}"),
            ));
        }
        match request {
            LightClientRequest::BlocksByRange { start_slot, count } => {
                let end = start_slot.saturating_add(*count);
                if slot < *start_slot || slot >= end {
                    return Err((
                        Outcome::BadData,
                        format!("block {index} is for slot {slot}, outside {start_slot}..{end}"),
                    ));
                }
                if let Some(previous) = blocks.last().map(SignedBeaconBlock::slot) {
                    if slot <= previous {
                        return Err((
                            Outcome::BadData,
                            format!("block {index} (slot {slot}) is not after slot {previous}"),
                        ));
                    }
                }
            }
            LightClientRequest::BlocksByRoot(roots) => {
                let root = block.block_root();
                match roots[next_root.min(roots.len())..]
                    .iter()
                    .position(|asked| *asked == root)
                {
                    Some(offset) => next_root += offset + 1,
                    None => {
                        return Err((
                            Outcome::BadData,
                            format!(
                                "block {index} has root {root}, not one asked for (in order, once)"
                            ),
                        ))
                    }
                }
            }
            // Only block requests come here.
            _ => {}
        }
        blocks.push(block);
    }
    Ok(blocks)
}

/// Answers `pending` with the error `error` makes of its attempts and protocol.
fn fail(pending: PendingFetch, error: impl FnOnce(String, Protocol) -> FetchError) {
    let attempts: String = pending
        .attempts
        .iter()
        .map(|attempt| format!("; {attempt}"))
        .collect();
    let protocol = pending.request.protocol();
    let _ = pending.reply.send(Err(error(attempts, protocol)));
}

/// Whether the peer does not speak the protocol: refused while negotiating, or (negotiated
/// lazily) in place of the response.
fn is_refusal(failure: &OutboundFailure) -> bool {
    match failure {
        OutboundFailure::UnsupportedProtocols => true,
        OutboundFailure::Io(error) => is_protocol_refusal(error),
        _ => false,
    }
}

/// Whether a request failed because its connection went away (the peer may come back).
fn is_connection_loss(failure: &OutboundFailure) -> bool {
    use std::io::ErrorKind;
    match failure {
        OutboundFailure::ConnectionClosed | OutboundFailure::DialFailure => true,
        OutboundFailure::Io(error) => matches!(
            error.kind(),
            ErrorKind::BrokenPipe
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Network;

    const SLOT_A: u64 = 13221800;
    const SLOT_B: u64 = 13221801;
    const BLOCK_A: &[u8] = include_bytes!(
        "../../tests/data/synthnet/blocks/13221800_0x6244e500d83a6c71b50b296e792cc2bb9a31edcb8e8aebcf9dfe692168fa2347.ssz"
    );
    const BLOCK_B: &[u8] = include_bytes!(
        "../../tests/data/synthnet/blocks/13221801_0xb10ac9cba65c14299a56e37900cf3f8539ac94411bb930a3083e825839a046d1.ssz"
    );

    fn chunk(chain: &ChainConfig, slot: u64, payload: &[u8]) -> ResponseChunk {
        ResponseChunk {
            result: ResultCode::Success,
            context: Some(chain.fork_digest_at_slot(slot)),
            fork: Some(chain.fork_at_slot(slot)),
            payload: payload.to_vec(),
        }
    }

    fn root(chain: &ChainConfig, slot: u64, payload: &[u8]) -> Root {
        SignedBeaconBlock::from_ssz(chain.fork_at_slot(slot), chain.preset, payload)
            .unwrap()
            .block_root()
    }

    #[test]
    fn recent_bootstraps_keep_the_newest_per_root() {
        let base = LightClientObject::decode(
            LightClientKind::Bootstrap,
            Fork::Deneb,
            crate::chain::Preset::Minimal,
            include_bytes!("../../tests/data/devnet-capture/bootstrap/000088_0x57dd8989864b5ef3a21f89c79d5e80df6712b4e33bb00ad2909189fa90e550d5.ssz"),
        )
        .unwrap();
        let object = |byte: u8, slot: u64| {
            let mut object = base.clone();
            object.block_root = Root::from([byte; 32]);
            object.slot = slot;
            object
        };
        let mut recent = RecentBootstraps::default();
        assert!(recent.get(&Root::from([1; 32])).is_none());
        for byte in 0..=RECENT_BOOTSTRAPS as u8 {
            recent.insert(
                object(byte, u64::from(byte)),
                Origin::Rpc("http://a".into()),
            );
        }
        // The oldest went; the others are there.
        assert!(recent.get(&Root::from([0; 32])).is_none());
        assert_eq!(recent.get(&Root::from([1; 32])).unwrap().0.slot, 1);
        assert_eq!(recent.0.len(), RECENT_BOOTSTRAPS);
        // The same root again replaces it rather than taking a second place.
        recent.insert(object(1, 99), Origin::Rpc("http://b".into()));
        assert_eq!(recent.0.len(), RECENT_BOOTSTRAPS);
        let (kept, origin) = recent.get(&Root::from([1; 32])).unwrap();
        assert_eq!(kept.slot, 99);
        assert_eq!(
            origin,
            &Origin::Rpc("http://b".into()),
            "who sent it is kept"
        );
    }

    #[test]
    fn recent_latest_keeps_the_newest_while_fresh() {
        let decode = |kind, bytes: &[u8]| {
            LightClientObject::decode(kind, Fork::Deneb, crate::chain::Preset::Minimal, bytes)
                .unwrap()
        };
        let older = decode(
            LightClientKind::FinalityUpdate,
            include_bytes!("../../tests/data/devnet-capture/finality_update/000105_c21604cc.ssz"),
        );
        let newer = decode(
            LightClientKind::FinalityUpdate,
            include_bytes!("../../tests/data/devnet-capture/finality_update/000112_606905d3.ssz"),
        );
        let optimistic = decode(
            LightClientKind::OptimisticUpdate,
            include_bytes!("../../tests/data/devnet-capture/optimistic_update/000110_dcae8207.ssz"),
        );
        let quota = Duration::from_secs(10);
        let start = Instant::now();
        let mut latest = RecentLatest::default();
        assert!(latest
            .fresh(LightClientKind::FinalityUpdate, quota, start)
            .is_none());
        let peer = Origin::Peer(PeerId::random());
        latest.note(&newer, peer.clone(), start);
        // An older one (a lagging peer) does not replace it.
        latest.note(&older, peer.clone(), start + Duration::from_secs(1));
        latest.note(&optimistic, peer, start);
        let held =
            |latest: &RecentLatest, kind, at| latest.fresh(kind, quota, at).map(|(o, _)| o.slot);
        assert_eq!(
            held(&latest, LightClientKind::FinalityUpdate, start),
            Some(newer.slot)
        );
        assert_eq!(
            held(&latest, LightClientKind::OptimisticUpdate, start),
            Some(optimistic.slot)
        );
        // Not kept for other kinds; stale once the quota has passed.
        assert!(latest
            .fresh(LightClientKind::Bootstrap, quota, start)
            .is_none());
        assert!(held(&latest, LightClientKind::FinalityUpdate, start + quota).is_none());
    }

    #[test]
    fn block_responses_are_checked_against_the_request() {
        let chain = Network::Mainnet.config();
        let a = || chunk(&chain, SLOT_A, BLOCK_A);
        let b = || chunk(&chain, SLOT_B, BLOCK_B);
        let (root_a, root_b) = (root(&chain, SLOT_A, BLOCK_A), root(&chain, SLOT_B, BLOCK_B));
        let bad = |result: Result<Vec<SignedBeaconBlock>, (Outcome, String)>| {
            assert_eq!(
                result.map(|blocks| blocks.len()).unwrap_err().0,
                Outcome::BadData
            );
        };

        let range = |start_slot, count| LightClientRequest::BlocksByRange { start_slot, count };
        let blocks = check_blocks(&chain, &range(SLOT_A, 2), vec![a(), b()]).unwrap();
        assert_eq!(
            blocks
                .iter()
                .map(SignedBeaconBlock::slot)
                .collect::<Vec<_>>(),
            [SLOT_A, SLOT_B]
        );
        assert!(check_blocks(&chain, &range(SLOT_A, 1), vec![])
            .unwrap()
            .is_empty());
        bad(check_blocks(&chain, &range(SLOT_A, 2), vec![b(), a()]));
        bad(check_blocks(&chain, &range(SLOT_A, 2), vec![a(), a()]));
        bad(check_blocks(&chain, &range(SLOT_A, 1), vec![b()]));
        bad(check_blocks(&chain, &range(SLOT_B, 1), vec![a()]));

        let by_root = |roots: &[Root]| LightClientRequest::BlocksByRoot(roots.to_vec());
        let blocks = check_blocks(&chain, &by_root(&[root_a, root_b]), vec![a(), b()]).unwrap();
        assert_eq!(blocks[1].block_root(), root_b);
        // Unknown roots are skipped.
        check_blocks(
            &chain,
            &by_root(&[root_a, Root::from([7; 32]), root_b]),
            vec![b()],
        )
        .unwrap();
        bad(check_blocks(
            &chain,
            &by_root(&[root_a, root_b]),
            vec![b(), a()],
        ));
        bad(check_blocks(
            &chain,
            &by_root(&[root_a, root_b]),
            vec![a(), a()],
        ));
        bad(check_blocks(&chain, &by_root(&[root_a]), vec![b()]));

        // The context bytes must be those of the block's slot, and the bytes a block of that fork.
        let mut wrong_context = a();
        wrong_context.context = Some(chain.fork_digest_at_slot(13148160));
        bad(check_blocks(&chain, &range(SLOT_A, 1), vec![wrong_context]));
        let mut truncated = a();
        truncated.payload.truncate(100);
        bad(check_blocks(&chain, &range(SLOT_A, 1), vec![truncated]));

        // An error chunk is the peer's answer, not bad data.
        let error = ResponseChunk {
            result: ResultCode::ResourceUnavailable,
            context: None,
            fork: None,
            payload: b"no".to_vec(),
        };
        let (outcome, _) = check_blocks(&chain, &range(SLOT_A, 1), vec![error]).unwrap_err();
        assert_eq!(outcome, Outcome::Unavailable);
    }

    #[test]
    fn block_requests_are_bounded() {
        let range = |count| LightClientRequest::BlocksByRange {
            start_slot: 5,
            count,
        };
        assert!(range(0).invalid().is_some());
        assert!(range(128).invalid().is_none());
        assert!(range(129).invalid().is_some());
        let overflow = LightClientRequest::BlocksByRange {
            start_slot: u64::MAX,
            count: 2,
        };
        assert!(overflow.invalid().is_some());
        assert!(LightClientRequest::BlocksByRoot(vec![]).invalid().is_some());
        let roots = LightClientRequest::BlocksByRoot(vec![Root::default(); 128]);
        assert!(roots.invalid().is_none());
        assert_eq!(roots.payload().len(), 128 * 32);
        assert!(LightClientRequest::BlocksByRoot(vec![Root::default(); 129])
            .invalid()
            .is_some());
        assert_eq!(range(3).payload().len(), 24);
    }
}
