//! `BeaconP2P.connect` options: parsed once, checked, turned into the client's config.

use std::str::FromStr;
use std::time::Duration;

use libp2p::Multiaddr;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};

use super::browser::ApiError;
use crate::chain::{ChainConfig, Clock, Network};
use crate::node::{reach, relay_address, Reach, SourcePolicy};
use crate::primitives::Root;
use crate::rpc::RpcSource;

const KNOWN_OPTIONS: [&str; 11] = [
    "network",
    "bridges",
    "peers",
    "rpc",
    "sourcePolicy",
    "p2pBudgetMs",
    "targetPeers",
    "requestTimeoutMs",
    "requestDeadlineMs",
    "connectTimeoutMs",
    "clockOffsetMs",
];

/// What `connect()` accepts (unknown keys are an error: a typo should not be ignored).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawOptions {
    network: RawNetwork,
    #[serde(default)]
    bridges: Vec<String>,
    #[serde(default)]
    peers: Vec<String>,
    #[serde(default)]
    rpc: Vec<String>,
    source_policy: Option<String>,
    p2p_budget_ms: Option<f64>,
    target_peers: Option<f64>,
    request_timeout_ms: Option<f64>,
    request_deadline_ms: Option<f64>,
    connect_timeout_ms: Option<f64>,
    clock_offset_ms: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawNetwork {
    Named(String),
    // Extra keys (the bridge's `/network` also has name, preset, …) are fine here.
    #[serde(rename_all = "camelCase")]
    Custom {
        config_yaml: String,
        genesis_validators_root: String,
        genesis_time: Option<f64>,
    },
}

/// One entry of a bridge's `/peers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BridgePeer {
    pub peer_id: String,
    pub multiaddr: String,
    #[serde(default)]
    pub client: Option<String>,
    #[serde(default)]
    pub serves_light_client: Option<bool>,
    #[serde(default)]
    pub failures: u32,
}

/// Checked options.
#[derive(Debug)]
pub struct ConnectOptions {
    network: RawNetwork,
    pub bridges: Vec<String>,
    peers: Vec<String>,
    /// Beacon-API base URLs, asked beside the peers under `source_policy`.
    pub rpc: Vec<String>,
    pub source_policy: SourcePolicy,
    pub p2p_budget: Duration,
    pub target_peers: usize,
    pub request_timeout: Duration,
    pub request_deadline: Duration,
    pub connect_timeout_ms: u32,
    pub clock: Clock,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("INVALID_ARGUMENT", message)
}

/// `sync({checkpoint})`'s options: the trusted block root.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSyncOptions {
    checkpoint: String,
}

/// The checkpoint of `sync({checkpoint})`.
pub fn checkpoint(options: &JsValue) -> Result<Root, ApiError> {
    let raw: RawSyncOptions = serde_wasm_bindgen::from_value(options.clone()).map_err(|error| {
        invalid(format!(
            "sync options: {error} (expected {{checkpoint: \"0x…\"}})"
        ))
    })?;
    let text = raw.checkpoint.trim();
    let hex = text.strip_prefix("0x").unwrap_or("");
    if hex.len() != 64 {
        return Err(invalid(format!(
            "checkpoint {:?}: expected 0x and 64 hex digits (a block root)",
            text.chars().take(80).collect::<String>()
        )));
    }
    Root::from_hex(text).map_err(|error| invalid(format!("checkpoint: {error}")))
}

/// A non-negative whole number from JavaScript.
pub fn whole_number(name: &str, value: f64) -> Result<u64, ApiError> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_991.0
    {
        Ok(value as u64)
    } else {
        Err(invalid(format!(
            "{name} {value}: expected a whole number >= 0"
        )))
    }
}

/// A whole number of milliseconds, negative or not, from JavaScript.
fn signed_milliseconds(name: &str, value: f64) -> Result<i64, ApiError> {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    if value.is_finite() && value.fract() == 0.0 && value.abs() <= MAX_SAFE_INTEGER {
        Ok(value as i64)
    } else {
        Err(invalid(format!(
            "{name} {value}: expected a whole number of milliseconds (negative: the past)"
        )))
    }
}

fn milliseconds(name: &str, value: Option<f64>, default: u64) -> Result<u64, ApiError> {
    let ms = value
        .map(|v| whole_number(name, v))
        .transpose()?
        .unwrap_or(default);
    if !(1..=3_600_000).contains(&ms) {
        return Err(invalid(format!("{name} {ms}: expected 1 to 3600000 ms")));
    }
    Ok(ms)
}

impl ConnectOptions {
    pub fn from_js(value: JsValue) -> Result<Self, ApiError> {
        if value.is_undefined() || value.is_null() {
            return Err(invalid(
                "connect() needs options: {network, bridges?, peers?, rpc?}",
            ));
        }
        // serde-wasm-bindgen reads only the fields a struct declares, so unknown keys (typos
        // like `targetPeer`) are checked here.
        if let Some(object) = value.dyn_ref::<js_sys::Object>() {
            for key in js_sys::Object::keys(object).iter() {
                let key = key.as_string().unwrap_or_default();
                if !KNOWN_OPTIONS.contains(&key.as_str()) {
                    return Err(invalid(format!(
                        "connect options: unknown key {key:?} (known: {})",
                        KNOWN_OPTIONS.join(", ")
                    )));
                }
            }
        }
        let raw: RawOptions = serde_wasm_bindgen::from_value(value)
            .map_err(|error| invalid(format!("connect options: {error}")))?;
        let target_peers = raw
            .target_peers
            .map(|v| whole_number("targetPeers", v))
            .transpose()?
            .unwrap_or(3);
        if !(1..=50).contains(&target_peers) {
            return Err(invalid(format!(
                "targetPeers {target_peers}: expected 1 to 50"
            )));
        }
        for bridge in &raw.bridges {
            // Checked now, with a dummy peer, so a bad URL fails here and not per peer later.
            let probe: Multiaddr =
                "/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAmAP8rPwbQZLYcYMNty2oPPQcEvGwEHs3ZDXKLSMkSisEd"
                    .parse()
                    .expect("valid multiaddr");
            relay_address(bridge, &probe).map_err(|error| invalid(error.to_string()))?;
        }
        for url in &raw.rpc {
            // Checked now so a bad URL fails connect() and is not left out quietly later.
            RpcSource::new(url, Duration::from_secs(1))
                .map_err(|error| invalid(format!("rpc: {error}")))?;
        }
        let source_policy = match raw.source_policy.as_deref() {
            Some(name) => SourcePolicy::from_str(name)
                .map_err(|error| invalid(format!("sourcePolicy: {error}")))?,
            None => SourcePolicy::default(),
        };
        Ok(ConnectOptions {
            network: raw.network,
            bridges: raw.bridges,
            peers: raw.peers,
            rpc: raw.rpc,
            source_policy,
            p2p_budget: Duration::from_millis(milliseconds(
                "p2pBudgetMs",
                raw.p2p_budget_ms,
                2_000,
            )?),
            target_peers: target_peers as usize,
            request_timeout: Duration::from_millis(milliseconds(
                "requestTimeoutMs",
                raw.request_timeout_ms,
                10_000,
            )?),
            request_deadline: Duration::from_millis(milliseconds(
                "requestDeadlineMs",
                raw.request_deadline_ms,
                30_000,
            )?),
            connect_timeout_ms: milliseconds("connectTimeoutMs", raw.connect_timeout_ms, 20_000)?
                as u32,
            clock: Clock::with_offset_ms(
                raw.clock_offset_ms
                    .map(|v| signed_milliseconds("clockOffsetMs", v))
                    .transpose()?
                    .unwrap_or(0),
            ),
        })
    }

    /// The network's chain configuration.
    pub fn chain(&self) -> Result<ChainConfig, ApiError> {
        match &self.network {
            RawNetwork::Named(name) => Network::from_str(name)
                .map(Network::config)
                .map_err(|error| invalid(error.to_string())),
            RawNetwork::Custom {
                config_yaml,
                genesis_validators_root,
                genesis_time,
            } => {
                let root = Root::from_hex(genesis_validators_root.trim())
                    .map_err(|error| invalid(format!("network.genesisValidatorsRoot: {error}")))?;
                let mut chain = ChainConfig::from_config_yaml(config_yaml, root)
                    .map_err(|error| invalid(format!("network.configYaml: {error}")))?;
                chain.genesis_time = genesis_time
                    .map(|time| whole_number("network.genesisTime", time))
                    .transpose()?;
                Ok(chain)
            }
        }
    }

    /// The `peers` option as dialable addresses: WebSocket and WebTransport addresses as they
    /// are, plain TCP ones through the first bridge.
    pub fn direct_peers(&self) -> Result<Vec<Multiaddr>, ApiError> {
        self.peers
            .iter()
            .map(|text| {
                let address: Multiaddr = text
                    .parse()
                    .map_err(|error| invalid(format!("peer {text:?}: {error}")))?;
                match reach(&address) {
                    Reach::WebSocket | Reach::WebTransport => Ok(address),
                    Reach::Tcp => {
                        let bridge = self.bridges.first().ok_or_else(|| {
                            invalid(format!(
                                "peer {text}: a browser reaches TCP peers only through a bridge; pass `bridges`"
                            ))
                        })?;
                        relay_address(bridge, &address).map_err(|error| invalid(error.to_string()))
                    }
                    Reach::Unreachable => Err(invalid(format!(
                        "peer {text}: a browser cannot dial this address (needs /ws, /wss, /webtransport or TCP through a bridge)"
                    ))),
                }
            })
            .collect()
    }
}
