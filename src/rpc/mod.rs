//! Beacon-API sources: the light-client routes of a beacon node's REST API, the second kind of
//! source next to peers (`Config::rpc`). Answers are JSON (`{"version", "data"}`), decoded into
//! the same [`LightClientObject`]s peers give and checked against the request the same way; the
//! client then hands them to the node, whose store judges them like a peer's (verified mode).
//! HTTP itself is per target ([`http`]): hyper natively, the browser's `fetch` in wasm.

pub mod http;

use std::time::Duration;

use futures::FutureExt;
use serde_json::Value;

use crate::chain::ChainConfig;
use crate::node::LightClientRequest;
use crate::types::{LightClientKind, LightClientObject};

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
    /// The request has no Beacon-API light-client route (blocks are not served from RPC yet).
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

    /// Asks the route for `request` and decodes the answer with `chain`'s preset, checked
    /// against the request (the bootstrap of the root asked for, consecutive periods from the
    /// start asked for).
    pub async fn fetch(
        &self,
        chain: &ChainConfig,
        request: &LightClientRequest,
    ) -> Result<Vec<LightClientObject>, RpcError> {
        let (route, kind) = Self::route(request)?;
        let url = format!("{}{route}", self.base);
        let ms = self.timeout.as_millis() as u64;
        let response = futures::select! {
            response = http::get_json(&url, MAX_BODY).fuse() => response,
            () = futures_timer::Delay::new(self.timeout).fuse() => {
                return Err(RpcError::Timeout { url, ms })
            }
        }
        .map_err(|reason| RpcError::Http {
            url: url.clone(),
            reason,
        })?;
        let bad = |reason: String| RpcError::BadData {
            url: url.clone(),
            reason,
        };
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
            200 => {}
            404 => {
                return Err(RpcError::NotFound {
                    url: url.clone(),
                    message: message(),
                })
            }
            status => {
                return Err(RpcError::Status {
                    url: url.clone(),
                    status,
                    message: message(),
                })
            }
        }
        let value: Value = serde_json::from_slice(&response.body)
            .map_err(|error| bad(format!("not JSON: {error}")))?;
        let items = match (kind, &value) {
            (LightClientKind::Update, Value::Array(items)) => items.iter().collect(),
            (LightClientKind::Update, _) => return Err(bad("updates: not a JSON array".into())),
            _ => vec![&value],
        };
        let objects = items
            .into_iter()
            .map(|item| LightClientObject::from_beacon_api_json(kind, chain.preset, item))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| bad(error.to_string()))?;
        request.check_objects(chain, &objects).map_err(bad)?;
        if objects.is_empty() {
            return Err(RpcError::NotFound {
                url,
                message: "an empty list".into(),
            });
        }
        Ok(objects)
    }
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
}
