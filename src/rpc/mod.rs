//! Beacon-API sources: the light-client routes and the blocks route of a beacon node's REST API,
//! the second kind of source next to peers (`Config::rpc`). Light-client answers are SSZ where
//! the server offers it (natively) or JSON (`{"version", "data"}`), decoded into the same
//! [`LightClientObject`]s peers give and checked
//! against the request the same way; the client then hands them to the node, whose store judges
//! them like a peer's (verified mode). Blocks come as SSZ where the server offers it (natively)
//! or JSON, and must be the root or slot asked for.
//! HTTP itself is per target ([`http`]): hyper natively, the browser's `fetch` in wasm.

pub mod http;

use std::time::Duration;

use futures::FutureExt;
use serde_json::Value;

use crate::chain::{ChainConfig, Fork};
use crate::node::LightClientRequest;
use crate::primitives::Root;
use crate::types::{LightClientKind, LightClientObject, SignedBeaconBlock};

/// The most a Beacon-API answer may be: 128 updates with two sync committees each in JSON are
/// about 13 MB.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// Why a Beacon-API source could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The URL is not `http://` or `https://` with a host.
    #[error("invalid Beacon-API URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be made or the answer not read.
    #[error("GET {url}: {reason}")]
    Http {
        /// The URL asked.
        url: String,
        /// The cause.
        reason: String,
    },
    /// No answer in time.
    #[error("GET {url}: no answer within {ms} ms")]
    Timeout {
        /// The URL asked.
        url: String,
        /// The timeout.
        ms: u64,
    },
    /// The server does not have it (404).
    #[error("GET {url}: 404 {message}")]
    NotFound {
        /// The URL asked.
        url: String,
        /// The server's message.
        message: String,
    },
    /// Another status than 200 or 404.
    #[error("GET {url}: HTTP {status} {message}")]
    Status {
        /// The URL asked.
        url: String,
        /// The status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The answer is not what the route answers, or does not match the request.
    #[error("GET {url}: {reason}")]
    BadData {
        /// The URL asked.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The request has no Beacon-API route (a block range of more than one slot, several
    /// roots).
    #[error("{0} is not asked of Beacon-API sources")]
    Unsupported(String),
}

impl RpcError {
    /// Whether the server answered with data that does not hold (a lie or a bug, not an outage).
    pub fn is_bad_data(&self) -> bool {
        matches!(self, RpcError::BadData { .. })
    }
}

/// A beacon node's REST API, by its base URL (`http://host:5052`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcSource {
    base: String,
    timeout: Duration,
}

impl RpcSource {
    /// A source at `url` (`http://` or `https://`; a trailing `/` is dropped); each call waits
    /// at most `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<RpcSource, RpcError> {
        let invalid = |reason: &str| RpcError::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| invalid("expected http:// or https://"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        if host.contains('@') {
            // They would show in logs, in `sources()` and in the bridge's headers and metrics.
            return Err(invalid("credentials in the URL are not supported"));
        }
        if url.contains(['?', '#']) {
            return Err(invalid("a base URL has no query or fragment"));
        }
        Ok(RpcSource {
            base: url.trim_end_matches('/').to_string(),
            timeout,
        })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The route and kind of what `request` asks.
    fn route(request: &LightClientRequest) -> Result<(String, LightClientKind), RpcError> {
        const PREFIX: &str = "/eth/v1/beacon/light_client";
        Ok(match request {
            LightClientRequest::Bootstrap(root) => (
                format!("{PREFIX}/bootstrap/{root}"),
                LightClientKind::Bootstrap,
            ),
            LightClientRequest::UpdatesByRange {
                start_period,
                count,
            } => (
                format!("{PREFIX}/updates?start_period={start_period}&count={count}"),
                LightClientKind::Update,
            ),
            LightClientRequest::FinalityUpdate => (
                format!("{PREFIX}/finality_update"),
                LightClientKind::FinalityUpdate,
            ),
            LightClientRequest::OptimisticUpdate => (
                format!("{PREFIX}/optimistic_update"),
                LightClientKind::OptimisticUpdate,
            ),
            other => return Err(RpcError::Unsupported(other.protocol().to_string())),
        })
    }

    /// GETs `route` with `accept`: the 200 answer; a 404 (the server does not have it) is
    /// [`RpcError::NotFound`].
    async fn get(&self, route: &str, accept: &str) -> Result<http::HttpResponse, RpcError> {
        let url = format!("{}{route}", self.base);
        let ms = self.timeout.as_millis() as u64;
        let response = futures::select! {
            response = http::get(&url, accept, MAX_BODY).fuse() => response,
            () = futures_timer::Delay::new(self.timeout).fuse() => {
                return Err(RpcError::Timeout { url, ms })
            }
        }
        .map_err(|reason| RpcError::Http {
            url: url.clone(),
            reason,
        })?;
        let message = || {
            serde_json::from_slice::<Value>(&response.body)
                .ok()
                .and_then(|value| value["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| {
                    String::from_utf8_lossy(&response.body)
                        .chars()
                        .take(200)
                        .collect()
                })
        };
        match response.status {
            200 => Ok(response),
            404 => Err(RpcError::NotFound {
                url,
                message: message(),
            }),
            status => Err(RpcError::Status {
                url,
                status,
                message: message(),
            }),
        }
    }

    /// SSZ where the server offers it natively. A browser cannot read the fork header of
    /// another origin's answer unless the server exposes it, so it asks for JSON.
    fn accept() -> &'static str {
        if cfg!(target_arch = "wasm32") {
            http::JSON
        } else {
            http::SSZ_OR_JSON
        }
    }

    fn bad_data(&self, route: &str, reason: impl Into<String>) -> RpcError {
        RpcError::BadData {
            url: format!("{}{route}", self.base),
            reason: reason.into(),
        }
    }

    /// Asks the route for `request` and decodes the answer with `chain`'s preset, checked
    /// against the request (the bootstrap of the root asked for, consecutive periods from the
    /// start asked for).
    pub async fn fetch(
        &self,
        chain: &ChainConfig,
        request: &LightClientRequest,
    ) -> Result<Vec<LightClientObject>, RpcError> {
        let (route, kind) = Self::route(request)?;
        let response = self.get(&route, Self::accept()).await?;
        let bad = |reason: String| self.bad_data(&route, reason);
        let objects = if response.is_ssz() {
            decode_ssz(chain, kind, &response).map_err(bad)?
        } else {
            let value: Value = serde_json::from_slice(&response.body)
                .map_err(|error| bad(format!("not JSON: {error}")))?;
            let items = match (kind, &value) {
                (LightClientKind::Update, Value::Array(items)) => items.iter().collect(),
                (LightClientKind::Update, _) => {
                    return Err(bad("updates: not a JSON array".into()))
                }
                _ => vec![&value],
            };
            items
                .into_iter()
                .map(|item| LightClientObject::from_beacon_api_json(kind, chain.preset, item))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| bad(error.to_string()))?
        };
        request.check_objects(chain, &objects).map_err(bad)?;
        if objects.is_empty() {
            return Err(RpcError::NotFound {
                url: format!("{}{route}", self.base),
                message: "an empty list".into(),
            });
        }
        Ok(objects)
    }

    /// The block `request` asks for (one root, or a range of one slot), from
    /// `/eth/v2/beacon/blocks/{block_id}`: SSZ where the server offers it (natively), JSON
    /// otherwise. [`RpcError::NotFound`] for an empty slot or a root the server does not have;
    /// the block must be the one asked for, of the fork its slot is in.
    pub async fn fetch_blocks(
        &self,
        chain: &ChainConfig,
        request: &LightClientRequest,
    ) -> Result<Vec<SignedBeaconBlock>, RpcError> {
        let (route, wanted) = match request {
            LightClientRequest::BlocksByRoot(roots) if roots.len() == 1 => (
                format!("/eth/v2/beacon/blocks/{}", roots[0]),
                BlockWanted::Root(roots[0]),
            ),
            LightClientRequest::BlocksByRange {
                start_slot,
                count: 1,
            } => (
                format!("/eth/v2/beacon/blocks/{start_slot}"),
                BlockWanted::Slot(*start_slot),
            ),
            other => {
                return Err(RpcError::Unsupported(format!(
                    "{} other than one root or one slot",
                    other.protocol()
                )))
            }
        };
        // A 404 (an empty slot, or a block the server pruned or does not have yet) is an
        // error, not an empty answer: peers may still have it.
        let response = self.get(&route, Self::accept()).await?;
        let bad = |reason: String| self.bad_data(&route, reason);
        let block = if response.is_ssz() {
            let version = response
                .consensus_version
                .as_deref()
                .ok_or_else(|| bad("SSZ without Eth-Consensus-Version".into()))?;
            let fork: Fork = version
                .parse()
                .map_err(|_| bad(format!("unknown fork {version:?}")))?;
            SignedBeaconBlock::from_ssz(fork, chain.preset, &response.body)
        } else {
            let value: Value = serde_json::from_slice(&response.body)
                .map_err(|error| bad(format!("not JSON: {error}")))?;
            SignedBeaconBlock::from_beacon_api_json(chain.preset, &value)
        }
        .map_err(|error| bad(error.to_string()))?;
        let slot = block.slot();
        if block.fork() != chain.fork_at_slot(slot) {
            return Err(bad(format!(
                "a {} block at slot {slot}, which is in {}",
                block.fork().name(),
                chain.fork_at_slot(slot).name()
            )));
        }
        match wanted {
            BlockWanted::Root(root) if block.block_root() != root => Err(bad(format!(
                "asked for block {root}, got {}",
                block.block_root()
            ))),
            BlockWanted::Slot(wanted) if slot != wanted => Err(bad(format!(
                "asked for slot {wanted}, got a block at slot {slot}"
            ))),
            _ => Ok(vec![block]),
        }
    }
}

/// Light-client objects from an SSZ answer: one object of the fork `Eth-Consensus-Version`
/// names, or (updates) chunks of `u64 LE length of context + payload ‖ fork digest ‖ SSZ`.
fn decode_ssz(
    chain: &ChainConfig,
    kind: LightClientKind,
    response: &http::HttpResponse,
) -> Result<Vec<LightClientObject>, String> {
    let decode = |fork: Fork, ssz: &[u8]| {
        LightClientObject::decode(kind, fork, chain.preset, ssz).map_err(|error| error.to_string())
    };
    if kind != LightClientKind::Update {
        let version = response
            .consensus_version
            .as_deref()
            .ok_or("SSZ without Eth-Consensus-Version")?;
        let fork: Fork = version
            .parse()
            .map_err(|_| format!("unknown fork {version:?}"))?;
        let object = decode(fork, &response.body)?;
        // As for a peer's: the fork of the object's own slot.
        if chain.fork_at_slot(object.slot) != fork {
            return Err(format!(
                "a {version} object at slot {}, which is in {}",
                object.slot,
                chain.fork_at_slot(object.slot).name()
            ));
        }
        return Ok(vec![object]);
    }
    let mut objects = Vec::new();
    let mut rest = response.body.as_slice();
    while !rest.is_empty() {
        let index = objects.len();
        if index >= crate::types::MAX_REQUEST_LIGHT_CLIENT_UPDATES as usize {
            return Err("more than 128 updates".into());
        }
        let (length, after) = rest
            .split_first_chunk::<8>()
            .ok_or_else(|| format!("update {index}: a truncated length"))?;
        let length = usize::try_from(u64::from_le_bytes(*length)).unwrap_or(usize::MAX);
        if length < 4 || length > after.len() {
            return Err(format!(
                "update {index}: length {length} with {} bytes left",
                after.len()
            ));
        }
        let (chunk, next) = after.split_at(length);
        let (digest, ssz) = chunk.split_at(4);
        let digest = crate::primitives::ForkDigest::try_from(digest).expect("4 bytes");
        let fork = chain
            .fork_for_digest(&digest)
            .ok_or_else(|| format!("update {index}: unknown fork digest {digest}"))?;
        let object = decode(fork, ssz)?;
        // As for a peer's chunk: the digest of the object's own slot.
        if chain.fork_digest_at_slot(object.slot) != digest {
            return Err(format!(
                "update {index}: fork digest {digest} is not the one of slot {}",
                object.slot
            ));
        }
        objects.push(object);
        rest = next;
    }
    Ok(objects)
}

/// What a block request names.
enum BlockWanted {
    Root(Root),
    Slot(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        let timeout = Duration::from_secs(1);
        assert_eq!(
            RpcSource::new("http://127.0.0.1:5052/", timeout)
                .unwrap()
                .url(),
            "http://127.0.0.1:5052"
        );
        assert!(RpcSource::new("https://beacon.example/api", timeout).is_ok());
        for bad in [
            "127.0.0.1:5052",
            "ftp://x",
            "http://",
            "http:///x",
            "http://x/?a=1",
            "http://user:secret@x",
        ] {
            assert!(
                matches!(
                    RpcSource::new(bad, timeout),
                    Err(RpcError::InvalidUrl { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn routes_follow_the_beacon_api() {
        let (route, kind) = RpcSource::route(&LightClientRequest::UpdatesByRange {
            start_period: 7,
            count: 3,
        })
        .unwrap();
        assert_eq!(
            route,
            "/eth/v1/beacon/light_client/updates?start_period=7&count=3"
        );
        assert_eq!(kind, LightClientKind::Update);
        assert!(matches!(
            RpcSource::route(&LightClientRequest::BlocksByRoot(vec![])),
            Err(RpcError::Unsupported(_))
        ));
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn response(body: Vec<u8>, version: Option<&str>) -> http::HttpResponse {
        http::HttpResponse {
            status: 200,
            content_type: Some("application/octet-stream".into()),
            consensus_version: version.map(str::to_string),
            body,
        }
    }

    // Reads the capture from disk: native only.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn ssz_answers_decode_like_peers_chunks_and_bad_framing_is_refused() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/devnet-capture");
        let chain = ChainConfig::from_directory(&dir).unwrap();
        let ssz = std::fs::read(dir.join("finality_update/000105_c21604cc.ssz")).unwrap();
        let kind = LightClientKind::FinalityUpdate;
        let expected = LightClientObject::decode(kind, Fork::Deneb, chain.preset, &ssz).unwrap();
        let one = decode_ssz(&chain, kind, &response(ssz.clone(), Some("deneb"))).unwrap();
        assert_eq!(one, vec![expected.clone()]);
        assert!(decode_ssz(&chain, kind, &response(ssz.clone(), None))
            .unwrap_err()
            .contains("Eth-Consensus-Version"));
        assert!(decode_ssz(&chain, kind, &response(ssz[..100].to_vec(), Some("deneb"))).is_err());
        // Another fork than the one of the object's slot is refused, as from a peer.
        assert!(decode_ssz(&chain, kind, &response(ssz.clone(), Some("electra"))).is_err());

        // Updates: length ‖ digest ‖ SSZ per chunk (the format the bridge serves).
        let updates: Value =
            serde_json::from_slice(&std::fs::read(dir.join("updates/period_0001.json")).unwrap())
                .unwrap();
        let update = LightClientObject::from_beacon_api_json(
            LightClientKind::Update,
            chain.preset,
            &updates[0],
        )
        .unwrap();
        let digest = chain.fork_digest_at_slot(update.slot);
        let mut body = Vec::new();
        for _ in 0..2 {
            body.extend_from_slice(&((update.ssz.len() + 4) as u64).to_le_bytes());
            body.extend_from_slice(digest.as_ref());
            body.extend_from_slice(&update.ssz);
        }
        let kind = LightClientKind::Update;
        let two = decode_ssz(&chain, kind, &response(body.clone(), None)).unwrap();
        assert_eq!(two, vec![update.clone(), update.clone()]);
        for (cut, what) in [(body.len() - 1, "length"), (5, "truncated length")] {
            let error =
                decode_ssz(&chain, kind, &response(body[..cut].to_vec(), None)).unwrap_err();
            assert!(error.contains(what), "{error}");
        }
        let mut unknown = body.clone();
        unknown[8..12].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert!(decode_ssz(&chain, kind, &response(unknown, None))
            .unwrap_err()
            .contains("unknown fork digest"));
        let mut huge = body;
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode_ssz(&chain, kind, &response(huge, None)).is_err());
    }

    #[test]
    fn block_requests_other_than_one_root_or_one_slot_are_not_asked() {
        let source = RpcSource::new("http://127.0.0.1:1", Duration::from_secs(1)).unwrap();
        let chain = crate::chain::Network::Mainnet.config();
        for request in [
            LightClientRequest::BlocksByRoot(vec![Root::default(), Root::default()]),
            LightClientRequest::BlocksByRange {
                start_slot: 1,
                count: 2,
            },
            LightClientRequest::FinalityUpdate,
        ] {
            let answer = futures::executor::block_on(source.fetch_blocks(&chain, &request));
            assert!(
                matches!(answer, Err(RpcError::Unsupported(_))),
                "{answer:?}"
            );
        }
    }
}
