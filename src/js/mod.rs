//! The JavaScript API (wasm32 only): `BeaconP2P.connect(options)` and promise methods over the
//! one [`Client`]. Data comes back in the Beacon API's JSON shape (`{version, data}`); every
//! failure rejects with an `Error` whose `code` says what went wrong (see [`ERROR_CODES`]).
//!
//! The browser-only parts live in [`browser`] (fetch, timers, JS errors); the Lodestar and
//! fetch-handler adapters are plain JavaScript in `adapters.js` because they only reshape
//! promises.

mod browser;
mod options;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use futures::{FutureExt, StreamExt};
use js_sys::{Array, Function, Promise};
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use self::browser::{sleep_ms, ApiError};
use self::options::{BridgePeer, ConnectOptions};
use crate::client::{BlockId, Client, ClientError, Config, DataSource, Event, Sourced};
use crate::node::peers::PeerInfo;
use crate::node::{reach, relay_address, Reach, VerifiedHeads};
use crate::primitives::Root;
use crate::types::LightClientObject;

/// The codes a rejected promise's `error.code` can have.
pub const ERROR_CODES: [&str; 9] = [
    "NO_PEERS",
    "TIMEOUT",
    "PEER_ERROR",
    "BAD_DATA",
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "RPC_ERROR",
    "CLOSED",
    "START",
];

/// Most candidates taken from one bridge's `/peers`.
const MAX_BRIDGE_CANDIDATES: usize = 64;
/// How often the peer list is refreshed (and, when short of peers, the bridges asked again).
const PEER_REFRESH_MS: u32 = 5_000;
/// Bridges are asked for more candidates at most this often.
const BRIDGE_REFRESH_MS: f64 = 30_000.0;

#[wasm_bindgen(module = "/src/js/adapters.js")]
extern "C" {
    #[wasm_bindgen(js_name = lightClientTransport, catch)]
    fn light_client_transport_adapter(client: JsValue, ssz: JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = fetchHandler)]
    fn fetch_handler_adapter(client: JsValue) -> JsValue;
    #[wasm_bindgen(js_name = installConsensusRpc)]
    fn install_consensus_rpc(base: &str, client: JsValue);
    #[wasm_bindgen(js_name = removeConsensusRpc)]
    fn remove_consensus_rpc(base: &str);
}

thread_local! {
    /// Numbers the consensus RPC origins of this page's clients.
    static CONSENSUS_RPCS: Cell<u32> = const { Cell::new(0) };
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The network to join: a built-in name, or a custom network as the bridge's `/network` gives it. */
export type Network =
  | "mainnet" | "sepolia" | "holesky" | "hoodi"
  | { configYaml: string; genesisValidatorsRoot: string; genesisTime?: number };

export interface ConnectOptions {
  network: Network;
  /** Bridge base URLs (`https://bridge.example`): their `/peers` are the candidates, and
   * TCP-only peers are dialed through their relay. */
  bridges?: string[];
  /** Peer multiaddrs: `/ws`, `/wss`, `/webtransport` addresses directly, plain
   * `/ip4/…/tcp/…/p2p/<id>` through the first bridge. */
  peers?: string[];
  /** Beacon-API base URLs (`https://beacon.example`), asked beside the peers under
   * `sourcePolicy`: a call fails only when every source failed. Their answers are checked like
   * a peer's (after `sync`, by the client's own store); one that lies is demoted. */
  rpc?: string[];
  /** Which kind of source a call asks first: "p2p-first" (default: the Beacon API after
   * `p2pBudgetMs`, or at once when no peer can answer), "rpc-first", or "race". */
  sourcePolicy?: "p2p-first" | "rpc-first" | "race";
  /** How long a call waits for the first kind of source before asking the other, ms
   * (default 2000). */
  p2pBudgetMs?: number;
  /** Peers to keep connected (default 3). */
  targetPeers?: number;
  /** Timeout of one request to one peer, ms (default 10000). */
  requestTimeoutMs?: number;
  /** Time one call may take over all its attempts, ms (default 30000). */
  requestDeadlineMs?: number;
  /** Time connect() waits for the first peer to complete the handshake, ms (default 20000). */
  connectTimeoutMs?: number;
  /** Shift of the clock chain time is read from (current epoch: gossip topics, Status), ms
   * (default 0; negative: the past). For replaying recorded data, whose slots must look "now":
   * `genesisTime * 1000 + slot * slotMs - Date.now()`. */
  clockOffsetMs?: number;
}

/** Where an answer's data came from: a peer or a Beacon-API source (also when the client had it
 * already, from gossip or an earlier answer). */
export type Source = { source: "p2p"; peer: string } | { source: "rpc"; url: string };

/** A light-client object as the Beacon API serves it. `source` is not enumerable, so
 * `JSON.stringify` gives the Beacon API's JSON. */
export interface Versioned<T = any> { version: string; data: T; readonly source?: Source }

/** What one source did so far (`sources()`): "p2p", then each `rpc` URL. */
export interface SourceReport {
  source: string;
  kind: "p2p" | "rpc";
  answers: number;
  failures: number;
  /** Answers refused as lies (did not verify, or older than what was proved). */
  misbehaved: number;
  meanLatencyMs: number;
  lastError: string | null;
  /** Skipped for now, for misbehaving. */
  demoted: boolean;
}

/** `onSourceSwitched`: answers now come from another kind of source. */
export interface SourceSwitch { from: "p2p" | "rpc"; to: "p2p" | "rpc"; reason: string }

/** `onSourcesDisagree`: before `sync`, two sources served different headers for one slot. */
export interface SourcesDisagree {
  slot: number;
  header: "attested" | "finalized";
  earlier: { root: string; source: string };
  later: { root: string; source: string };
}

/** `onSourceMisbehaved`: a source served data that does not hold; it is demoted. */
export interface SourceMisbehaviour { source: string; reason: string }

export interface PeerSummary {
  peerId: string;
  /** Its client (identify agent), when known. */
  client: string | null;
  /** "relay" (through a bridge), "websocket" or "webtransport". */
  via: "relay" | "websocket" | "webtransport";
  servesLightClient: boolean | null;
  connected: boolean;
  address: string | null;
  score: number;
  headSlot: number | null;
  /** Objects it sent that did not verify against the store (after `sync`). */
  invalid: number;
  /** Objects it sent that verified but were not newer, or could not be checked yet. */
  stale: number;
}

/** A header the client's own light-client store verified. */
export interface VerifiedHead {
  slot: number;
  blockRoot: string;
  /** Sync-committee members who signed the update that proved it (null: the checkpoint). */
  participation: number | null;
  syncCommitteeSize: number;
  /** The light-client header (`{beacon, execution, execution_branch}`), Beacon-API JSON. */
  header: any;
}

/** What `sync` resolves with and `verifiedHead()` returns. */
export interface VerifiedHeads {
  checkpoint: string;
  finalized: VerifiedHead;
  optimistic: VerifiedHead;
  /** Sync-committee period of the finalized header. */
  period: number;
  nextSyncCommitteeKnown: boolean;
}

export interface SyncOptions {
  /** The trusted block root (`0x…`) the store starts from. */
  checkpoint: string;
}

/** Error codes of rejected promises (`error.code`). */
export type ErrorCode =
  | "NO_PEERS" | "TIMEOUT" | "PEER_ERROR" | "BAD_DATA" | "INVALID_ARGUMENT" | "NOT_FOUND"
  | "RPC_ERROR" | "CLOSED" | "START";

/** A block as `GET /eth/v2/beacon/blocks/{block_id}` serves it. */
export interface BlockResponse<T = any> {
  version: string;
  execution_optimistic: boolean;
  finalized: boolean;
  data: T;
  /** Not enumerable, as on `Versioned`. */
  readonly source?: Source;
}

/** Lodestar's `LightClientTransport` (`@lodestar/light-client`). */
export interface LightClientTransport {
  getBootstrap(blockRoot: string): Promise<{ version: string; data: any }>;
  getUpdates(startPeriod: number, count: number): Promise<{ version: string; data: any }[]>;
  getFinalityUpdate(): Promise<{ version: string; data: any }>;
  getOptimisticUpdate(): Promise<{ version: string; data: any }>;
  onFinalityUpdate(handler: (update: any) => void): void;
  onOptimisticUpdate(handler: (update: any) => void): void;
}
"#;

/// A running browser light-client node. Create it with `await BeaconP2P.connect(options)`.
#[wasm_bindgen]
#[derive(Clone)]
pub struct BeaconP2P {
    shared: Rc<Shared>,
}

struct Shared {
    client: Client,
    bridges: Vec<String>,
    target_peers: usize,
    closed: Cell<bool>,
    listeners: RefCell<Listeners>,
    /// What the bridges said about peers (their client names), by peer id.
    bridge_clients: RefCell<HashMap<String, String>>,
    /// The latest peer list, for the synchronous `peers()`.
    peers: RefCell<Vec<PeerSummary>>,
    /// The consensus RPC origin this client answers in the page, once asked for.
    consensus_rpc: RefCell<Option<String>>,
    /// The newest verified heads, for the synchronous `verifiedHead()`.
    verified: RefCell<Option<VerifiedHeads>>,
}

#[derive(Default)]
struct Listeners {
    next: u32,
    finality: BTreeMap<u32, Function>,
    optimistic: BTreeMap<u32, Function>,
    peers: BTreeMap<u32, Function>,
    verified: BTreeMap<u32, Function>,
    switched: BTreeMap<u32, Function>,
    misbehaved: BTreeMap<u32, Function>,
    disagree: BTreeMap<u32, Function>,
}

#[derive(Debug, Clone, Copy)]
enum Topic {
    Finality,
    Optimistic,
    Peers,
    Verified,
    SourceSwitched,
    SourceMisbehaved,
    SourcesDisagree,
}

impl Listeners {
    fn of(&mut self, topic: Topic) -> &mut BTreeMap<u32, Function> {
        match topic {
            Topic::Finality => &mut self.finality,
            Topic::Optimistic => &mut self.optimistic,
            Topic::Peers => &mut self.peers,
            Topic::Verified => &mut self.verified,
            Topic::SourceSwitched => &mut self.switched,
            Topic::SourceMisbehaved => &mut self.misbehaved,
            Topic::SourcesDisagree => &mut self.disagree,
        }
    }
}

/// One peer as `peers()` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct PeerSummary {
    peer_id: String,
    client: Option<String>,
    via: &'static str,
    serves_light_client: Option<bool>,
    connected: bool,
    address: Option<String>,
    score: f64,
    head_slot: Option<u64>,
    invalid: u64,
    stale: u64,
}

/// How the browser reaches an address: a WebSocket to `/relay/<id>` is a bridge's relay.
fn via(address: &Multiaddr) -> &'static str {
    let relayed = address.iter().any(|protocol| match protocol {
        Protocol::Ws(path) | Protocol::Wss(path) => path.starts_with("/relay/"),
        _ => false,
    });
    match reach(address) {
        Reach::WebTransport => "webtransport",
        _ if relayed => "relay",
        _ => "websocket",
    }
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, ApiError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|error| {
            ApiError::new("BAD_DATA", format!("cannot convert to JavaScript: {error}"))
        })
}

fn object_to_js(object: &LightClientObject) -> Result<JsValue, ApiError> {
    to_js(object.to_beacon_api_json())
}

/// `{version, data}` with a non-enumerable `source`: consumers that serialise the object (the
/// fetch handler, Lodestar's `fromJson`) see the Beacon API's JSON only.
fn sourced_to_js(sourced: &Sourced<LightClientObject>) -> Result<JsValue, ApiError> {
    with_source(object_to_js(&sourced.data)?, &sourced.source)
}

/// `value` with a non-enumerable `source` property.
fn with_source(value: JsValue, source: &DataSource) -> Result<JsValue, ApiError> {
    let descriptor = js_sys::Object::new();
    let set = |key: &str, item: &JsValue| js_sys::Reflect::set(&descriptor, &key.into(), item);
    set("value", &to_js(source)?)
        .and_then(|_| set("enumerable", &JsValue::FALSE))
        .map_err(|_| ApiError::new("BAD_DATA", "cannot attach the source"))?;
    let object: &js_sys::Object = value
        .dyn_ref()
        .ok_or_else(|| ApiError::new("BAD_DATA", "a light-client object is not an object"))?;
    js_sys::Object::define_property(object, &"source".into(), &descriptor);
    Ok(value)
}

impl From<ClientError> for ApiError {
    fn from(error: ClientError) -> Self {
        ApiError::new(error.code(), error.to_string())
    }
}

/// Candidates from every bridge's `/peers`, as relay addresses, light-client servers first.
async fn bridge_candidates(bridges: &[String]) -> (Vec<(Multiaddr, BridgePeer)>, Vec<String>) {
    let mut candidates = Vec::new();
    let mut problems = Vec::new();
    for bridge in bridges {
        match browser::fetch_bridge_peers(bridge).await {
            Ok(mut peers) => {
                // Peers known to serve the protocols first, unknown next; known non-servers never.
                peers.retain(|peer| peer.serves_light_client != Some(false));
                peers.sort_by_key(|peer| (peer.serves_light_client != Some(true), peer.failures));
                if peers.is_empty() {
                    problems.push(format!("{bridge}: offers no light-client peer yet"));
                }
                for peer in peers.into_iter().take(MAX_BRIDGE_CANDIDATES) {
                    let Ok(address) = peer.multiaddr.parse::<Multiaddr>() else {
                        problems.push(format!("{bridge}: bad peer address {:?}", peer.multiaddr));
                        continue;
                    };
                    match relay_address(bridge, &address) {
                        Ok(relayed) => candidates.push((relayed, peer)),
                        Err(error) => problems.push(error.to_string()),
                    }
                }
            }
            Err(problem) => problems.push(format!("{bridge}: {problem}")),
        }
    }
    (candidates, problems)
}

#[wasm_bindgen]
impl BeaconP2P {
    /// Joins the network and resolves once a peer has completed the handshake (or rejects with
    /// `NO_PEERS` when none did within `connectTimeoutMs`).
    #[wasm_bindgen(unchecked_return_type = "BeaconP2P")]
    pub async fn connect(
        #[wasm_bindgen(unchecked_param_type = "ConnectOptions")] options: JsValue,
    ) -> Result<BeaconP2P, JsValue> {
        Self::connect_inner(options).await.map_err(JsValue::from)
    }

    /// `LightClientBootstrap` for a finalized block root (`0x…`), as `{version, data}`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Versioned>")]
    pub fn bootstrap(&self, #[wasm_bindgen(js_name = blockRoot)] block_root: String) -> Promise {
        self.call(|client| async move {
            let root = Root::from_hex(block_root.trim()).map_err(|error| {
                ApiError::new(
                    "INVALID_ARGUMENT",
                    format!("block root {:?}: {error}", truncate(&block_root)),
                )
            })?;
            sourced_to_js(&client.bootstrap_sourced(root).await?)
        })
    }

    /// The `LightClientUpdate`s of `count` periods from `startPeriod`, as `[{version, data}]`.
    /// Fewer come back when the range runs into the current period.
    #[wasm_bindgen(unchecked_return_type = "Promise<Versioned[]>")]
    pub fn updates(
        &self,
        #[wasm_bindgen(js_name = startPeriod)] start_period: f64,
        count: f64,
    ) -> Promise {
        self.call(move |client| async move {
            let start = options::whole_number("startPeriod", start_period)?;
            let count = options::whole_number("count", count)?;
            if count == 0 || count > 1024 {
                return Err(ApiError::new(
                    "INVALID_ARGUMENT",
                    format!("count {count}: expected 1 to 1024"),
                ));
            }
            let list = Array::new();
            for update in &client.updates_sourced(start, count).await? {
                list.push(&sourced_to_js(update)?);
            }
            Ok(list.into())
        })
    }

    /// The `SignedBeaconBlock` `id` names (a slot, a `0x…` block root, `head` or `finalized`), as
    /// `GET /eth/v2/beacon/blocks/{id}` serves it. Rejects with `INVALID_ARGUMENT` for a bad id
    /// and `NOT_FOUND` for an empty slot or a root no peer has.
    #[wasm_bindgen(unchecked_return_type = "Promise<BlockResponse>")]
    pub fn block(&self, id: String) -> Promise {
        self.call(|client| async move {
            let id: BlockId = id.trim().parse().map_err(|_| {
                ApiError::new(
                    "INVALID_ARGUMENT",
                    format!(
                        "block id {:?}: expected a slot, 0x and 64 hex digits, head or finalized",
                        truncate(&id)
                    ),
                )
            })?;
            let fetched = client.block_with_finality(id).await?;
            with_source(to_js(&fetched.to_beacon_api_json())?, &fetched.source)
        })
    }

    /// The latest `LightClientFinalityUpdate` a peer has, as `{version, data}`.
    #[wasm_bindgen(js_name = finalityUpdate, unchecked_return_type = "Promise<Versioned>")]
    pub fn finality_update(&self) -> Promise {
        self.call(|client| async move { sourced_to_js(&client.finality_update_sourced().await?) })
    }

    /// The latest `LightClientOptimisticUpdate` a peer has, as `{version, data}`.
    #[wasm_bindgen(js_name = optimisticUpdate, unchecked_return_type = "Promise<Versioned>")]
    pub fn optimistic_update(&self) -> Promise {
        self.call(|client| async move { sourced_to_js(&client.optimistic_update_sourced().await?) })
    }

    /// Calls `callback({version, data})` for every finality update from gossip that passed
    /// validation. Returns a function that unsubscribes.
    #[wasm_bindgen(js_name = onFinalityUpdate, unchecked_return_type = "() => void")]
    pub fn on_finality_update(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(update: Versioned) => void")] callback: Function,
    ) -> Function {
        self.subscribe(Topic::Finality, callback)
    }

    /// Calls `callback({version, data})` for every optimistic update from gossip that passed
    /// validation. Returns a function that unsubscribes.
    #[wasm_bindgen(js_name = onOptimisticUpdate, unchecked_return_type = "() => void")]
    pub fn on_optimistic_update(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(update: Versioned) => void")] callback: Function,
    ) -> Function {
        self.subscribe(Topic::Optimistic, callback)
    }

    /// Calls `callback(peers)` whenever the peer list changes. Returns a function that
    /// unsubscribes.
    #[wasm_bindgen(js_name = onPeers, unchecked_return_type = "() => void")]
    pub fn on_peers(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(peers: PeerSummary[]) => void")] callback: Function,
    ) -> Function {
        self.subscribe(Topic::Peers, callback)
    }

    /// Verifies from `checkpoint` (a trusted block root) from now on: fetches the bootstrap that
    /// proves it, the updates to the current period and the latest updates, each checked by the
    /// client's own light-client store, and resolves with the verified heads. From then on every
    /// object a peer sends is checked before it is handed out (peers that lie are dropped), and
    /// `onVerifiedHead` reports each new verified head. Rejects with `INVALID_ARGUMENT` for a
    /// checkpoint that is not a root and `BAD_DATA` when no peer's bootstrap proves it.
    #[wasm_bindgen(unchecked_return_type = "Promise<VerifiedHeads>")]
    pub fn sync(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SyncOptions")] options: JsValue,
    ) -> Promise {
        let shared = self.shared.clone();
        self.call(move |client| async move {
            let checkpoint = options::checkpoint(&options)?;
            let heads = client.sync(checkpoint).await?;
            shared.refresh_verified().await;
            to_js(&heads)
        })
    }

    /// The newest heads the client's store verified (`null` before `sync`).
    #[wasm_bindgen(js_name = verifiedHead, unchecked_return_type = "VerifiedHeads | null")]
    pub fn verified_head(&self) -> Result<JsValue, JsValue> {
        match &*self.shared.verified.borrow() {
            Some(heads) => Ok(to_js(heads)?),
            None => Ok(JsValue::NULL),
        }
    }

    /// Calls `callback(heads)` whenever the verified finalized or optimistic head moves on.
    /// Returns a function that unsubscribes.
    #[wasm_bindgen(js_name = onVerifiedHead, unchecked_return_type = "() => void")]
    pub fn on_verified_head(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(heads: VerifiedHeads) => void")] callback: Function,
    ) -> Function {
        self.subscribe(Topic::Verified, callback)
    }

    /// What each source did so far: p2p, then each `rpc` URL (`[{source, kind, answers,
    /// failures, misbehaved, meanLatencyMs, lastError, demoted}]`).
    #[wasm_bindgen(unchecked_return_type = "SourceReport[]")]
    pub fn sources(&self) -> Result<JsValue, JsValue> {
        Ok(to_js(&self.shared.client.sources())?)
    }

    /// Calls `callback({from, to, reason})` whenever answers start coming from another kind of
    /// source ("p2p" or "rpc"). Returns a function that unsubscribes.
    #[wasm_bindgen(js_name = onSourceSwitched, unchecked_return_type = "() => void")]
    pub fn on_source_switched(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(change: SourceSwitch) => void")] callback: Function,
    ) -> Function {
        self.subscribe(Topic::SourceSwitched, callback)
    }

    /// Calls `callback({source, reason})` when a Beacon-API source served data that does not
    /// hold (it is then demoted). Returns a function that unsubscribes.
    #[wasm_bindgen(js_name = onSourceMisbehaved, unchecked_return_type = "() => void")]
    pub fn on_source_misbehaved(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(what: SourceMisbehaviour) => void")]
        callback: Function,
    ) -> Function {
        self.subscribe(Topic::SourceMisbehaved, callback)
    }

    /// Calls `callback({slot, header, earlier: {root, source}, later: {root, source}})` when,
    /// before `sync`, two sources served different headers (`"attested"` or `"finalized"`) for
    /// one slot: nothing says yet which is right, so both are reported. Returns a function that
    /// unsubscribes.
    #[wasm_bindgen(js_name = onSourcesDisagree, unchecked_return_type = "() => void")]
    pub fn on_sources_disagree(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(what: SourcesDisagree) => void")]
        callback: Function,
    ) -> Function {
        self.subscribe(Topic::SourcesDisagree, callback)
    }

    /// The peers: `[{peerId, client, via, servesLightClient, connected, …}]`.
    #[wasm_bindgen(unchecked_return_type = "PeerSummary[]")]
    pub fn peers(&self) -> Result<JsValue, JsValue> {
        Ok(to_js(&*self.shared.peers.borrow())?)
    }

    /// Lodestar's `LightClientTransport` over this client. Pass the `ssz` export of the
    /// `@lodestar/types` your light client uses (its preset must match the network): Lodestar
    /// works on its own typed values, made here from our Beacon-API JSON with `fromJson`.
    #[wasm_bindgen(js_name = lightClientTransport, unchecked_return_type = "LightClientTransport")]
    pub fn light_client_transport(&self, ssz: JsValue) -> Result<JsValue, JsValue> {
        light_client_transport_adapter(JsValue::from(self.clone()), ssz)
    }

    /// `(request: Request) => Promise<Response>` answering the Beacon-API routes a light client
    /// calls (`/eth/v1/beacon/light_client/…` and `/eth/v2/beacon/blocks/{block_id}`) from this
    /// client, for Helios-wasm's `consensusRpc` through a service worker or a fetch shim (or use
    /// `consensusRpcUrl()`). Every response has its `url` set (Helios needs it). Other paths
    /// answer 404.
    #[wasm_bindgen(js_name = fetchHandler, unchecked_return_type = "(request: Request | string) => Promise<Response>")]
    pub fn fetch_handler(&self) -> JsValue {
        fetch_handler_adapter(JsValue::from(self.clone()))
    }

    /// A consensus RPC URL (`https://c<n>.beacon-p2p.invalid`) answered by this client inside the
    /// page, for Helios's `consensusRpc`: the first call wraps the page's `fetch` once (requests
    /// to other origins, and `data:` URLs, pass through untouched), later calls return the same
    /// URL, and `close()` removes it. The `.invalid` name never resolves, so nothing for it can
    /// leave the page.
    #[wasm_bindgen(js_name = consensusRpcUrl)]
    pub fn consensus_rpc_url(&self) -> Result<String, JsValue> {
        if self.shared.closed.get() {
            return Err(ApiError::new("CLOSED", "the client is closed").into());
        }
        let mut installed = self.shared.consensus_rpc.borrow_mut();
        if let Some(base) = installed.as_ref() {
            return Ok(base.clone());
        }
        let number = CONSENSUS_RPCS.with(|count| {
            count.set(count.get() + 1);
            count.get()
        });
        let base = format!("https://c{number}.beacon-p2p.invalid");
        install_consensus_rpc(&base, JsValue::from(self.clone()));
        *installed = Some(base.clone());
        Ok(base)
    }

    /// Says goodbye to every peer and stops. Later calls reject with `CLOSED`.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn close(&self) -> Promise {
        let shared = self.shared.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            if !shared.closed.replace(true) {
                *shared.listeners.borrow_mut() = Listeners::default();
                if let Some(base) = shared.consensus_rpc.borrow_mut().take() {
                    remove_consensus_rpc(&base);
                }
                shared.client.shutdown().await;
            }
            Ok(JsValue::UNDEFINED)
        })
    }
}

impl BeaconP2P {
    async fn connect_inner(options: JsValue) -> Result<BeaconP2P, ApiError> {
        let options = ConnectOptions::from_js(options)?;
        let chain = options.chain()?;
        let mut config = Config::new(chain);
        config.target_peers = options.target_peers;
        config.request_timeout = options.request_timeout;
        config.request_deadline = options.request_deadline;
        config.clock = options.clock;
        config.peers = options.direct_peers()?;
        config.rpc = options.rpc.clone();
        config.source_policy = options.source_policy;
        config.p2p_budget = options.p2p_budget;
        let (candidates, problems) = bridge_candidates(&options.bridges).await;
        let mut bridge_clients = HashMap::new();
        for (address, peer) in candidates {
            if let Some(client) = peer.client {
                bridge_clients.insert(peer.peer_id, client);
            }
            if !config.peers.contains(&address) {
                config.peers.push(address);
            }
        }
        let has_rpc = !config.rpc.is_empty();
        if config.peers.is_empty() && !has_rpc {
            let why = if problems.is_empty() {
                "pass `peers`, `bridges` or `rpc`".to_string()
            } else {
                problems.join("; ")
            };
            return Err(ApiError::new("NO_PEERS", format!("no peer to dial: {why}")));
        }
        let candidate_count = config.peers.len();
        let client = Client::start(config).map_err(ApiError::from)?;
        let mut events = client.events().await.fuse();
        let shared = Rc::new(Shared {
            client,
            bridges: options.bridges,
            target_peers: options.target_peers,
            closed: Cell::new(false),
            listeners: RefCell::new(Listeners::default()),
            bridge_clients: RefCell::new(bridge_clients),
            peers: RefCell::new(Vec::new()),
            consensus_rpc: RefCell::new(None),
            verified: RefCell::new(None),
        });

        // The first completed handshake, or the timeout. With Beacon-API sources the client can
        // answer without peers: it waits no longer than a call would for them.
        let wait_ms = if has_rpc {
            let budget = u32::try_from(options.p2p_budget.as_millis()).unwrap_or(u32::MAX);
            if candidate_count == 0 {
                0
            } else {
                budget.min(options.connect_timeout_ms)
            }
        } else {
            options.connect_timeout_ms
        };
        let mut timeout = sleep_ms(wait_ms).fuse();
        let mut first = None;
        loop {
            futures::select! {
                event = events.next() => match event {
                    Some(Event::PeerConnected { peer_id, .. }) => {
                        first = Some(peer_id);
                        break;
                    }
                    Some(event) => shared.dispatch(&event),
                    None => break,
                },
                _ = timeout => break,
            }
        }
        if first.is_none() && !has_rpc {
            shared.client.shutdown().await;
            let mut message = format!(
                "no peer completed the handshake within {} ms ({candidate_count} candidate(s) dialed)",
                options.connect_timeout_ms
            );
            if !problems.is_empty() {
                message.push_str("; ");
                message.push_str(&problems.join("; "));
            }
            return Err(ApiError::new("NO_PEERS", message));
        }
        shared.refresh_peers().await;
        crate::platform::spawn(Shared::pump(shared.clone(), events));
        crate::platform::spawn(Shared::keep_peers(shared.clone()));
        Ok(BeaconP2P { shared })
    }

    /// A promise running `call` on the client; rejects with `CLOSED` after `close()`.
    fn call<F>(&self, call: impl FnOnce(Client) -> F) -> Promise
    where
        F: std::future::Future<Output = Result<JsValue, ApiError>> + 'static,
    {
        let result = if self.shared.closed.get() {
            Err(ApiError::new("CLOSED", "the client is closed"))
        } else {
            Ok(call(self.shared.client.clone()))
        };
        wasm_bindgen_futures::future_to_promise(async move {
            match result {
                Ok(future) => future.await.map_err(JsValue::from),
                Err(error) => Err(error.into()),
            }
        })
    }

    fn subscribe(&self, topic: Topic, callback: Function) -> Function {
        let id = {
            let mut listeners = self.shared.listeners.borrow_mut();
            listeners.next += 1;
            let id = listeners.next;
            listeners.of(topic).insert(id, callback);
            id
        };
        let shared = Rc::downgrade(&self.shared);
        Closure::<dyn FnMut()>::new(move || {
            if let Some(shared) = shared.upgrade() {
                shared.listeners.borrow_mut().of(topic).remove(&id);
            }
        })
        .into_js_value()
        .unchecked_into()
    }
}

impl Shared {
    /// Hands client events to the JS listeners until the client stops.
    async fn pump(shared: Rc<Shared>, mut events: impl futures::Stream<Item = Event> + Unpin) {
        while let Some(event) = events.next().await {
            shared.dispatch(&event);
            match event {
                Event::PeerConnected { .. } | Event::PeerDisconnected { .. } => {
                    shared.refresh_peers().await
                }
                Event::VerifiedFinality(_) | Event::VerifiedOptimistic(_) => {
                    shared.refresh_verified().await
                }
                _ => {}
            }
        }
    }

    fn dispatch(&self, event: &Event) {
        let (topic, object) = match event {
            Event::FinalityUpdate(object) => (Topic::Finality, object),
            Event::OptimisticUpdate(object) => (Topic::Optimistic, object),
            Event::SourceSwitched { .. }
            | Event::SourceMisbehaved { .. }
            | Event::SourcesDisagree { .. } => {
                let Some((name, fields)) = event.source_report() else {
                    return;
                };
                let topic = match name {
                    "source_switched" => Topic::SourceSwitched,
                    "source_misbehaved" => Topic::SourceMisbehaved,
                    _ => Topic::SourcesDisagree,
                };
                if let Ok(value) = to_js(&fields) {
                    self.notify(topic, &value);
                }
                return;
            }
            _ => return,
        };
        match object_to_js(object) {
            Ok(value) => self.notify(topic, &value),
            Err(error) => browser::log_error("cannot hand an update to JavaScript", &error.into()),
        }
    }

    fn notify(&self, topic: Topic, value: &JsValue) {
        // Clone the callbacks out: a callback may subscribe or unsubscribe.
        let callbacks: Vec<Function> = self
            .listeners
            .borrow_mut()
            .of(topic)
            .values()
            .cloned()
            .collect();
        for callback in callbacks {
            if let Err(error) = callback.call1(&JsValue::NULL, value) {
                browser::log_error("a beacon-p2p listener threw", &error);
            }
        }
    }

    /// Re-reads the verified heads; tells `onVerifiedHead` listeners when they changed.
    async fn refresh_verified(&self) {
        let heads = self.client.verified_heads().await;
        if *self.verified.borrow() == heads {
            return;
        }
        *self.verified.borrow_mut() = heads.clone();
        if let Some(heads) = heads {
            if let Ok(value) = to_js(&heads) {
                self.notify(Topic::Verified, &value);
            }
        }
    }

    /// Re-reads the peer list; tells `onPeers` listeners when it changed.
    async fn refresh_peers(&self) {
        let infos = self.client.peers().await;
        let summaries = self.summarise(infos);
        let changed = *self.peers.borrow() != summaries;
        if changed {
            *self.peers.borrow_mut() = summaries;
            if let Ok(value) = to_js(&*self.peers.borrow()) {
                self.notify(Topic::Peers, &value);
            }
        }
    }

    fn summarise(&self, infos: Vec<PeerInfo>) -> Vec<PeerSummary> {
        let bridge_clients = self.bridge_clients.borrow();
        let mut summaries: Vec<PeerSummary> = infos
            .into_iter()
            .map(|info| {
                let address = info.address.as_deref().and_then(|a| a.parse().ok());
                PeerSummary {
                    via: address.as_ref().map(via).unwrap_or("websocket"),
                    client: info
                        .client
                        .clone()
                        .or_else(|| bridge_clients.get(&info.peer_id).cloned()),
                    peer_id: info.peer_id,
                    serves_light_client: info.serves_light_client,
                    connected: info.connected,
                    address: info.address,
                    score: info.score,
                    head_slot: info.head_slot,
                    invalid: info.invalid,
                    stale: info.stale,
                }
            })
            .collect();
        summaries.sort_by(|a, b| (!a.connected, &a.peer_id).cmp(&(!b.connected, &b.peer_id)));
        summaries
    }

    /// Refreshes the peer list and, when short of connected peers, asks the bridges for more
    /// candidates (the node replaces failed peers from what it has).
    async fn keep_peers(shared: Rc<Shared>) {
        let mut last_ask = js_sys::Date::now();
        while !shared.closed.get() {
            sleep_ms(PEER_REFRESH_MS).await;
            if shared.closed.get() {
                break;
            }
            shared.refresh_peers().await;
            let connected = shared.peers.borrow().iter().filter(|p| p.connected).count();
            let now = js_sys::Date::now();
            if connected < shared.target_peers
                && !shared.bridges.is_empty()
                && now - last_ask >= BRIDGE_REFRESH_MS
            {
                last_ask = now;
                let known: Vec<String> = shared
                    .peers
                    .borrow()
                    .iter()
                    .map(|p| p.peer_id.clone())
                    .collect();
                let (candidates, _) = bridge_candidates(&shared.bridges).await;
                for (address, peer) in candidates {
                    if known.contains(&peer.peer_id) {
                        continue;
                    }
                    if let Some(client) = peer.client {
                        shared
                            .bridge_clients
                            .borrow_mut()
                            .insert(peer.peer_id.clone(), client);
                    }
                    shared.client.add_peer(address).await;
                }
            }
        }
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}
