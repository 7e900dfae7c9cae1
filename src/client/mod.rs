//! The client: the one public Rust API. It runs the node as a task and talks to it over
//! channels; every call ends with data or a typed error, never waits forever.

use futures::channel::{mpsc, oneshot};
use std::time::Duration;

use futures::{SinkExt, Stream};
use libp2p::Multiaddr;

mod sources;

use self::sources::{first_answer, Sources, Won};
pub use self::sources::{DataSource, SourcePolicy, SourceReport, Sourced};
use crate::chain::{ChainConfig, Clock};
use crate::node::peers::PeerInfo;
use crate::node::{
    build_swarm, Answer, Command, FetchError, Fetched, KnownHeaders, LightClientRequest, Node,
    NodeEvent, Origin,
};
pub use crate::node::{VerifiedHead, VerifiedHeads};
use crate::primitives::{Root, Slot};
use crate::types::{LightClientObject, SignedBeaconBlock, MAX_REQUEST_LIGHT_CLIENT_UPDATES};

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
    /// An argument is not valid (a block id, say).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The data does not exist: an empty slot, a root no peer knows.
    #[error("not found: {0}")]
    NotFound(String),
    /// No Beacon-API source could answer; says what each met.
    #[error("Beacon API: {0}")]
    Rpc(String),
    /// Peers and Beacon-API sources all failed.
    #[error("{p2p}; and {rpc}")]
    AllSources {
        /// What peers met.
        p2p: Box<ClientError>,
        /// What the Beacon-API sources met.
        rpc: Box<ClientError>,
    },
}

impl ClientError {
    /// A short, stable code: [`FetchError::code`]'s, `INVALID_ARGUMENT`, `NOT_FOUND`, or
    /// `START` / `BAD_DATA` for the rest.
    pub fn code(&self) -> &'static str {
        match self {
            ClientError::Start(_) => "START",
            ClientError::Fetch(error) => error.code(),
            ClientError::Updates(_) => "BAD_DATA",
            ClientError::InvalidArgument(_) => "INVALID_ARGUMENT",
            ClientError::NotFound(_) => "NOT_FOUND",
            ClientError::Rpc(_) => "RPC_ERROR",
            ClientError::AllSources { p2p, rpc } => p2p_or_rpc(p2p, rpc).code(),
        }
    }
}

/// Of two sources' errors, the one that says more: peers' (the Beacon API is the fallback),
/// unless there was no peer to ask.
pub(crate) fn p2p_or_rpc<'a>(p2p: &'a ClientError, rpc: &'a ClientError) -> &'a ClientError {
    if p2p.code() == "NO_PEERS" {
        rpc
    } else {
        p2p
    }
}

/// A block id, as in the Beacon API's `/eth/v2/beacon/blocks/{block_id}`: a slot (decimal),
/// a block root (`0x` + 64 hex digits), `head` or `finalized` (the newest attested / finalized
/// header the client knows from light-client data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockId {
    /// The block at this slot (none if the slot is empty).
    Slot(Slot),
    /// The block with this root.
    Root(Root),
    /// The newest attested header's block.
    Head,
    /// The newest finalized header's block.
    Finalized,
}

/// A block id that is not a slot, a root, `head` or `finalized`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid block id {0:?}: expected a slot, 0x and 64 hex digits, head or finalized")]
pub struct InvalidBlockId(pub String);

impl std::str::FromStr for BlockId {
    type Err = InvalidBlockId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidBlockId(text.to_string());
        match text {
            "head" => Ok(BlockId::Head),
            "finalized" => Ok(BlockId::Finalized),
            _ if text.starts_with("0x") => {
                let hex = &text[2..];
                if hex.len() != 64 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                    return Err(invalid());
                }
                Root::from_hex(text)
                    .map(BlockId::Root)
                    .map_err(|_| invalid())
            }
            _ if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) => {
                text.parse().map(BlockId::Slot).map_err(|_| invalid())
            }
            _ => Err(invalid()),
        }
    }
}

impl std::fmt::Display for BlockId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockId::Slot(slot) => write!(f, "{slot}"),
            BlockId::Root(root) => write!(f, "{root}"),
            BlockId::Head => f.write_str("head"),
            BlockId::Finalized => f.write_str("finalized"),
        }
    }
}

impl From<InvalidBlockId> for ClientError {
    fn from(error: InvalidBlockId) -> Self {
        ClientError::InvalidArgument(error.to_string())
    }
}

/// A block and whether it is finalized (its slot is at or before the newest finalized header the
/// client knows): what `GET /eth/v2/beacon/blocks/{block_id}` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedBlock {
    /// The block.
    pub block: SignedBeaconBlock,
    /// Whether its slot is finalized.
    pub finalized: bool,
    /// Where it came from.
    pub source: DataSource,
}

impl FetchedBlock {
    /// The Beacon-API JSON `{"version", "execution_optimistic": false, "finalized", "data"}`.
    pub fn to_beacon_api_json(&self) -> serde_json::Value {
        self.block.to_beacon_api_json(false, self.finalized)
    }
}

/// A handle to a running light consensus node. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    chain: std::sync::Arc<ChainConfig>,
    clock: Clock,
    sources: std::sync::Arc<Sources>,
}

impl Client {
    /// Starts the node task with `config`.
    pub fn start(config: Config) -> Result<Client, ClientError> {
        if let Some(Err(error)) = Client::rpc_sources(&config).find(Result::is_err) {
            return Err(ClientError::InvalidArgument(error.to_string()));
        }
        let swarm = build_swarm(&config).map_err(ClientError::Start)?;
        Ok(Client::start_with_swarm(swarm, config))
    }

    /// The Beacon-API sources of `config`, each or why its URL is not one.
    fn rpc_sources(
        config: &Config,
    ) -> impl Iterator<Item = Result<crate::rpc::RpcSource, crate::rpc::RpcError>> + '_ {
        config
            .rpc
            .iter()
            .map(|url| crate::rpc::RpcSource::new(url, config.request_timeout))
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
        // `start` refused bad URLs; here (a caller's own swarm) they are left out with a log.
        let rpc = Client::rpc_sources(&config)
            .filter_map(|source| {
                source
                    .inspect_err(|error| tracing::warn!(%error, "Beacon-API source left out"))
                    .ok()
            })
            .collect();
        let sources = Sources::new(rpc, config.source_policy, config.p2p_budget);
        crate::platform::spawn(Node::new(swarm, config).run(receiver));
        Client {
            commands,
            chain,
            clock,
            sources: std::sync::Arc::new(sources),
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

    async fn request(&self, request: LightClientRequest) -> Result<Answer, ClientError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .clone()
            .send(Command::Fetch { request, reply })
            .await
            .map_err(|_| FetchError::Stopped)?;
        Ok(answer.await.map_err(|_| FetchError::Stopped)??)
    }

    /// What the node answers for `request` (a peer, or data it had: then from whoever sent it,
    /// which may be a Beacon-API source), timed for [`Client::sources`].
    async fn ask_peers(
        &self,
        request: LightClientRequest,
    ) -> Result<Sourced<Fetched>, ClientError> {
        let start = web_time::Instant::now();
        match self.request(request).await {
            Ok(Answer { fetched, origin }) => {
                let source = match origin {
                    Origin::Peer(peer) => DataSource::P2p {
                        peer: peer.to_string(),
                    },
                    Origin::Rpc(url) => DataSource::Rpc { url },
                };
                self.sources.answered(source.name(), source.kind(), start);
                Ok(Sourced {
                    data: fetched,
                    source,
                })
            }
            Err(error) => {
                self.sources.failed("p2p", "p2p", &error.to_string());
                Err(error)
            }
        }
    }

    /// What the first Beacon-API source whose answer holds gives for `request`. Light-client
    /// objects go through the node (its store judges them in verified mode); blocks are checked
    /// against the request (the root asked for, or the slot). A source whose answer is a lie is
    /// flagged and demoted.
    async fn ask_rpc(&self, request: LightClientRequest) -> Result<Sourced<Fetched>, ClientError> {
        let mut failures = Vec::new();
        let mut not_found = 0;
        for source in self.sources.usable_rpc() {
            let url = source.url().to_string();
            let start = web_time::Instant::now();
            let answer = if request.kind().is_some() {
                source
                    .fetch(&self.chain, &request)
                    .await
                    .map(Fetched::Objects)
            } else {
                source
                    .fetch_blocks(&self.chain, &request)
                    .await
                    .map(Fetched::Blocks)
            };
            let judged: Result<Fetched, String> = match answer {
                Ok(Fetched::Objects(objects)) => {
                    match self.served(&url, &request, objects.clone()).await? {
                        Ok(()) => Ok(Fetched::Objects(objects)),
                        Err(reason) => Err(reason),
                    }
                }
                Ok(blocks) => Ok(blocks),
                Err(error) if error.is_bad_data() => Err(error.to_string()),
                Err(error) => {
                    // Not an answer that holds: another source may have it.
                    not_found +=
                        usize::from(matches!(error, crate::rpc::RpcError::NotFound { .. }));
                    self.sources.failed(&url, "rpc", &error.to_string());
                    failures.push(error.to_string());
                    continue;
                }
            };
            let refused = match judged {
                Ok(fetched) => {
                    self.sources.answered(&url, "rpc", start);
                    return Ok(Sourced {
                        data: fetched,
                        source: DataSource::Rpc { url },
                    });
                }
                Err(reason) => reason,
            };
            tracing::warn!(%url, reason = %refused, "Beacon-API source misbehaved; demoted");
            self.sources.misbehaved(&url, &refused);
            self.emit(Event::SourceMisbehaved {
                source: url.clone(),
                reason: refused.clone(),
            })
            .await;
            failures.push(format!("{url}: {refused}"));
        }
        if failures.is_empty() {
            failures.push("every source is demoted for misbehaving".into());
        }
        let message = failures.join("; ");
        if not_found > 0 && not_found == failures.len() {
            return Err(ClientError::NotFound(message));
        }
        Err(ClientError::Rpc(message))
    }

    /// Hands what a Beacon-API source answered to the node: `Ok(Err(reason))` when the node
    /// refused it, `Err` when the node has stopped (no judgement on the source).
    async fn served(
        &self,
        url: &str,
        request: &LightClientRequest,
        objects: Vec<LightClientObject>,
    ) -> Result<Result<(), String>, ClientError> {
        let (reply, answer) = oneshot::channel();
        let command = Command::Served {
            url: url.to_string(),
            request: request.clone(),
            objects,
            reply,
        };
        self.commands
            .clone()
            .send(command)
            .await
            .map_err(|_| FetchError::Stopped)?;
        let judged = answer.await.map_err(|_| FetchError::Stopped)?;
        Ok(judged.map_err(|(_, reason)| reason))
    }

    async fn emit(&self, event: Event) {
        let _ = self.commands.clone().send(Command::Emit(event)).await;
    }

    /// Connected peers that completed Status.
    async fn peers_with_status(&self) -> usize {
        self.peers()
            .await
            .iter()
            .filter(|peer| peer.connected && peer.head_slot.is_some())
            .count()
    }

    /// Light-client objects for `request` and where they came from: from peers alone, or under
    /// `Config::source_policy` when Beacon-API sources are configured (a call then fails only
    /// when every source failed).
    pub async fn fetch_sourced(
        &self,
        request: LightClientRequest,
    ) -> Result<Sourced<Vec<LightClientObject>>, ClientError> {
        let sourced = self.fetch_any(request).await?;
        match sourced.data {
            Fetched::Objects(objects) => Ok(Sourced {
                data: objects,
                source: sourced.source,
            }),
            // Light-client requests are answered with objects only.
            Fetched::Blocks(_) => Err(FetchError::Stopped.into()),
        }
    }

    /// What `request` gets, under the source policy (see [`Client::fetch_sourced`]).
    async fn fetch_any(
        &self,
        request: LightClientRequest,
    ) -> Result<Sourced<Fetched>, ClientError> {
        if self.sources.rpc.is_empty() {
            return self.ask_peers(request).await;
        }
        let budget = self.sources.p2p_budget;
        // With no peer to ask, waiting for one is the budget spent for nothing (p2p first only:
        // the other policies do not wait for peers).
        let no_peer =
            self.sources.policy == SourcePolicy::P2pFirst && self.peers_with_status().await == 0;
        let result = match self.sources.policy {
            SourcePolicy::P2pFirst => {
                let budget = if no_peer { Duration::ZERO } else { budget };
                let primary = self.ask_peers(request.clone());
                first_answer(primary, self.ask_rpc(request), budget).await
            }
            SourcePolicy::RpcFirst => {
                let primary = self.ask_rpc(request.clone());
                first_answer(primary, self.ask_peers(request), budget).await
            }
            SourcePolicy::Race => {
                let primary = self.ask_peers(request.clone());
                first_answer(primary, self.ask_rpc(request), Duration::ZERO).await
            }
        };
        match result {
            Ok((sourced, won)) => {
                tracing::info!(source = ?sourced.source, "answered");
                let kind = sourced.source.kind();
                if let Some(from) = self.sources.switched_to(kind) {
                    let reason = match won {
                        Won::Secondary {
                            primary_failed: true,
                        } => format!("{from} failed"),
                        Won::Secondary { .. } if no_peer => "no peer connected".to_string(),
                        Won::Secondary { .. } if self.sources.policy == SourcePolicy::Race => {
                            format!("{kind} answered first")
                        }
                        Won::Secondary { .. } => {
                            format!("{from} did not answer within {} ms", budget.as_millis())
                        }
                        Won::Primary => format!("{kind} answers again"),
                    };
                    tracing::info!(from, to = kind, %reason, "source switched");
                    self.emit(Event::SourceSwitched {
                        from,
                        to: kind,
                        reason,
                    })
                    .await;
                }
                Ok(sourced)
            }
            Err((first, second)) => {
                let (p2p, rpc) = match self.sources.policy {
                    SourcePolicy::RpcFirst => (second, first),
                    _ => (first, second),
                };
                Err(ClientError::AllSources {
                    p2p: Box::new(p2p),
                    rpc: Box::new(rpc),
                })
            }
        }
    }

    /// What each source did so far: p2p, then each Beacon-API source (`Config::rpc`).
    pub fn sources(&self) -> Vec<SourceReport> {
        self.sources.reports()
    }

    /// Blocks for a block request, under the source policy, and where they came from.
    async fn fetch_blocks(
        &self,
        request: LightClientRequest,
    ) -> Result<Sourced<Vec<SignedBeaconBlock>>, ClientError> {
        let sourced = self.fetch_any(request).await?;
        match sourced.data {
            Fetched::Blocks(blocks) => Ok(Sourced {
                data: blocks,
                source: sourced.source,
            }),
            // Block requests are answered with blocks only.
            Fetched::Objects(_) => Err(FetchError::Stopped.into()),
        }
    }

    /// The newest attested and finalized headers the node learned from light-client data.
    pub async fn known_headers(&self) -> KnownHeaders {
        self.ask(Command::Known).await
    }

    /// Sends the node a command that carries a reply channel; the default once it has stopped.
    async fn ask<T: Default>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> T {
        let (reply, answer) = oneshot::channel();
        if self.commands.clone().send(command(reply)).await.is_err() {
            return T::default();
        }
        answer.await.unwrap_or_default()
    }

    /// The block `id` names, from a peer (`beacon_blocks_by_range/2` for a slot,
    /// `beacon_blocks_by_root/2` otherwise) or, under the source policy, a Beacon-API source
    /// (`/eth/v2/beacon/blocks/{id}`, SSZ natively). `head` and `finalized` are the newest headers the
    /// client knows; with none known yet, it fetches the optimistic / finality update first.
    /// An empty slot or a root no peer has is [`ClientError::NotFound`].
    pub async fn block(&self, id: BlockId) -> Result<SignedBeaconBlock, ClientError> {
        self.block_with_finality(id)
            .await
            .map(|fetched| fetched.block)
    }

    /// [`Client::block`], and whether the block is finalized (its slot at or before the newest
    /// finalized header known; the finality update is fetched first when none is).
    pub async fn block_with_finality(&self, id: BlockId) -> Result<FetchedBlock, ClientError> {
        let mut known = self.known_headers().await;
        if id == BlockId::Head && known.head.is_none() {
            self.optimistic_update().await?;
            known = self.known_headers().await;
        }
        if known.finalized.is_none() {
            match self.finality_update().await {
                Ok(_) => known = self.known_headers().await,
                // Only `finalized` needs it; other blocks are then just not known finalized.
                Err(error) if id == BlockId::Finalized => return Err(error),
                Err(error) => tracing::info!(%error, "no finality update; finalized = false"),
            }
        }
        let request = match id {
            BlockId::Slot(slot) => LightClientRequest::BlocksByRange {
                start_slot: slot,
                count: 1,
            },
            BlockId::Root(root) => LightClientRequest::BlocksByRoot(vec![root]),
            BlockId::Head => {
                let (_, root) = known
                    .head
                    .ok_or_else(|| ClientError::NotFound("no head header known".to_string()))?;
                LightClientRequest::BlocksByRoot(vec![root])
            }
            BlockId::Finalized => {
                let (_, root) = known.finalized.ok_or_else(|| {
                    ClientError::NotFound("no finalized header known".to_string())
                })?;
                LightClientRequest::BlocksByRoot(vec![root])
            }
        };
        let Sourced { data, source } = self.fetch_blocks(request).await?;
        let block = data.into_iter().next().ok_or_else(|| match id {
            BlockId::Slot(slot) => {
                ClientError::NotFound(format!("no block at slot {slot} (an empty slot)"))
            }
            _ => ClientError::NotFound(format!("no peer has block {id}")),
        })?;
        let finalized = known
            .finalized
            .is_some_and(|(finalized_slot, _)| block.slot() <= finalized_slot);
        Ok(FetchedBlock {
            block,
            finalized,
            source,
        })
    }

    async fn fetch_one_sourced(
        &self,
        request: LightClientRequest,
    ) -> Result<Sourced<LightClientObject>, ClientError> {
        let sourced = self.fetch_sourced(request).await?;
        Ok(sourced.map(|mut objects| objects.swap_remove(0)))
    }

    /// `LightClientBootstrap` for a (finalized, checkpoint) block root.
    pub async fn bootstrap(&self, block_root: Root) -> Result<LightClientObject, ClientError> {
        Ok(self.bootstrap_sourced(block_root).await?.data)
    }

    /// [`Client::bootstrap`] and where it came from.
    pub async fn bootstrap_sourced(
        &self,
        block_root: Root,
    ) -> Result<Sourced<LightClientObject>, ClientError> {
        self.fetch_one_sourced(LightClientRequest::Bootstrap(block_root))
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
        let updates = self.updates_sourced(start_period, count).await?;
        Ok(updates.into_iter().map(|update| update.data).collect())
    }

    /// [`Client::updates`], each with where it came from (requests of 128 may come from
    /// different sources).
    pub async fn updates_sourced(
        &self,
        start_period: u64,
        count: u64,
    ) -> Result<Vec<Sourced<LightClientObject>>, ClientError> {
        let end = start_period
            .checked_add(count)
            .ok_or_else(|| ClientError::Updates("period range overflows".into()))?;
        let mut updates = Vec::new();
        let mut next = start_period;
        while next < end {
            let batch = (end - next).min(MAX_REQUEST_LIGHT_CLIENT_UPDATES);
            let got = self
                .fetch_sourced(LightClientRequest::UpdatesByRange {
                    start_period: next,
                    count: batch,
                })
                .await?;
            let received = got.data.len() as u64;
            updates.extend(got.data.into_iter().map(|data| Sourced {
                data,
                source: got.source.clone(),
            }));
            next += received;
            if received < batch {
                break;
            }
        }
        Ok(updates)
    }

    /// The latest `LightClientFinalityUpdate` a peer (or Beacon-API source) has.
    pub async fn finality_update(&self) -> Result<LightClientObject, ClientError> {
        Ok(self.finality_update_sourced().await?.data)
    }

    /// [`Client::finality_update`] and where it came from.
    pub async fn finality_update_sourced(&self) -> Result<Sourced<LightClientObject>, ClientError> {
        self.fetch_one_sourced(LightClientRequest::FinalityUpdate)
            .await
    }

    /// The latest `LightClientOptimisticUpdate` a peer (or Beacon-API source) has.
    pub async fn optimistic_update(&self) -> Result<LightClientObject, ClientError> {
        Ok(self.optimistic_update_sourced().await?.data)
    }

    /// [`Client::optimistic_update`] and where it came from.
    pub async fn optimistic_update_sourced(
        &self,
    ) -> Result<Sourced<LightClientObject>, ClientError> {
        self.fetch_one_sourced(LightClientRequest::OptimisticUpdate)
            .await
    }

    /// Verifies from `checkpoint` from now on, and syncs: fetches its bootstrap (from a peer
    /// whose bootstrap proves it), the updates up to the current period and the latest finality
    /// and optimistic updates, each checked by the light-client store. Resolves with the
    /// verified heads once the store is in the current sync-committee period (or as far as
    /// peers have updates). Peers that send data that does not verify are scored as bad data
    /// and the request goes to another peer; with none left the call fails with `BAD_DATA`.
    pub async fn sync(&self, checkpoint: Root) -> Result<VerifiedHeads, ClientError> {
        let _ = self
            .commands
            .clone()
            .send(Command::VerifyFrom(checkpoint))
            .await;
        self.bootstrap(checkpoint).await?;
        let heads = self.verified_heads().await.ok_or_else(|| {
            ClientError::Fetch(FetchError::Unavailable(format!(
                "the store did not start from checkpoint {checkpoint}"
            )))
        })?;
        let current_period = self
            .chain
            .slot_at_unix_ms(self.clock.now_unix_ms())
            .map(|slot| self.chain.sync_committee_period_at_slot(slot));
        // Period by period: each update may move the store into the next one.
        loop {
            let heads = self.verified_heads().await.unwrap_or(heads.clone());
            let target = current_period.unwrap_or(heads.period).max(heads.period);
            if heads.period >= target && heads.next_sync_committee_known {
                break;
            }
            let count = (target - heads.period + 1).min(MAX_REQUEST_LIGHT_CLIENT_UPDATES);
            let updates = match self.updates(heads.period, count).await {
                Ok(updates) => updates,
                // No peer has (all of) them yet: as far as the network goes.
                Err(error) if error.code() == "PEER_ERROR" => {
                    tracing::info!(%error, period = heads.period, "sync: no further updates");
                    break;
                }
                Err(error) => return Err(error),
            };
            let after = self.verified_heads().await.unwrap_or(heads.clone());
            tracing::info!(
                from = heads.period,
                to = after.period,
                received = updates.len(),
                "sync: updates"
            );
            if updates.is_empty()
                || (after.period == heads.period
                    && after.next_sync_committee_known == heads.next_sync_committee_known)
            {
                // Peers have nothing newer: as far as the network goes.
                break;
            }
        }
        // The newest finality and optimistic updates, asked at once (one round trip, not two);
        // a peer without them is not an error.
        let (finality, optimistic) =
            futures::join!(self.finality_update(), self.optimistic_update());
        for result in [finality.map(drop), optimistic.map(drop)] {
            if let Err(error) = result {
                tracing::info!(%error, "sync: no latest update");
            }
        }
        self.verified_heads().await.ok_or_else(|| {
            ClientError::Fetch(FetchError::Unavailable("the store went away".into()))
        })
    }

    /// The newest finalized and optimistic headers the store verified (`None` before
    /// [`Client::sync`] or `Config::checkpoint` has a store).
    pub async fn verified_heads(&self) -> Option<VerifiedHeads> {
        self.ask(Command::VerifiedHeads).await
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
        self.ask(Command::Peers).await
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

/// Discovery feeding a client: candidates are dialed; the usable peers are the connected ones
/// that completed Status and do not lack the light-client protocols.
#[cfg(not(target_arch = "wasm32"))]
impl crate::node::discovery::Candidates for Client {
    async fn usable(&self) -> usize {
        self.peers()
            .await
            .iter()
            .filter(|peer| {
                peer.connected
                    && peer.head_slot.is_some()
                    && peer.serves_light_client != Some(false)
            })
            .count()
    }

    async fn offer(&self, candidate: crate::node::discovery::Candidate) -> bool {
        let id = candidate.peer.to_string();
        if self.peers().await.iter().any(|peer| peer.peer_id == id) {
            return false;
        }
        self.add_peer(candidate.address).await;
        true
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Client {
    /// Runs discv5 for this client (native): the peers it finds on our fork are dialed, look-ups
    /// repeat while fewer than `config.target_peers` usable peers are connected. The service
    /// runs until the returned handle is dropped. Needs a tokio runtime.
    pub async fn discover(
        &self,
        config: crate::node::discovery::DiscoveryConfig,
    ) -> Result<crate::node::discovery::Discovery, ClientError> {
        let discovery = crate::node::discovery::Discovery::start(
            config,
            self.chain(),
            self.clock(),
            self.clone(),
        )
        .await
        .map_err(|error| ClientError::Start(error.to_string()))?;
        self.discovering(&discovery).await;
        Ok(discovery)
    }

    /// Tells the node that `discovery` feeds it: requests wait for peers while it runs.
    pub(crate) async fn discovering(&self, discovery: &crate::node::discovery::Discovery) {
        let _ = self
            .commands
            .clone()
            .send(Command::Discovering(discovery.alive()))
            .await;
    }
}

/// Event re-exported under the node's name too.
pub type ClientEvent = NodeEvent;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ids_parse_like_the_beacon_api() {
        assert_eq!("0".parse(), Ok(BlockId::Slot(0)));
        assert_eq!("13221864".parse(), Ok(BlockId::Slot(13221864)));
        assert_eq!("head".parse(), Ok(BlockId::Head));
        assert_eq!("finalized".parse(), Ok(BlockId::Finalized));
        let root = format!("0x{}", "aB".repeat(32));
        assert_eq!(
            root.parse::<BlockId>().map(|id| id.to_string()),
            Ok(root.to_lowercase())
        );
        for bad in [
            "",
            "genesis",
            "justified",
            "Head",
            " 1",
            "+1",
            "-1",
            "1.5",
            "0x",
            "0x1234",
            "ab".repeat(32).as_str(),
            &format!("0x{}", "zz".repeat(32)),
            &format!("0x{}", "ab".repeat(33)),
            "18446744073709551616",
        ] {
            let error = bad.parse::<BlockId>().unwrap_err();
            assert_eq!(
                ClientError::from(error).code(),
                "INVALID_ARGUMENT",
                "{bad:?}"
            );
        }
    }
}
